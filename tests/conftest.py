import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files of formatting instead of comparing against them")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


@pytest.fixture(autouse=True)
def _give_memory_back():
    """After a test that leaves the process large (a network built, run and measured), collect its
    garbage and hand the freed heap back to the system, so that the run stays within 3 GB: glibc keeps
    freed memory otherwise, and the tests' peaks would stack up."""
    yield
    if _resident_bytes() > 700 * 2**20:
        import ctypes
        import gc

        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass

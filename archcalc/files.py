"""Writing output files so that an error or an interruption never leaves half a file behind."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ArchcalcError


def write_atomically(path: str | os.PathLike, text: str, force: bool = False) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    An existing file is replaced only with ``force``.
    """
    target = Path(path)
    if target.exists() and not force:
        raise ArchcalcError(f"{target} exists; pass --force to overwrite it")
    if not target.parent.is_dir():
        raise ArchcalcError(f"cannot write {target}: the folder {target.parent} does not exist")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; an output file gets the usual mode
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

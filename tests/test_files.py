"""Every file archcalc writes goes through one writer: a temporary file and a rename, so that an
error or an interruption leaves no partial output; missing folders are made; an existing file is
replaced only with --force; a path that cannot be written is a clean error."""
import os

import pytest

from archcalc.errors import ArchcalcError
from archcalc.files import write_output


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "handout.md"

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_output(target, "x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_producer_leaves_nothing(tmp_path):
    def fails(path):
        path.write_text("half")
        raise RuntimeError("the plot failed")

    with pytest.raises(RuntimeError):
        write_output(tmp_path / "plot.png", fails)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_needs_force(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ArchcalcError, match="pass `force`"):
        write_output(target, "new")
    assert target.read_text() == "old"
    write_output(target, "new", force=True)
    assert target.read_text() == "new"


def test_missing_folders_are_made(tmp_path):
    target = write_output(tmp_path / "no" / "such" / "file.bin", b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_unwritable_paths_are_clean_errors(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ArchcalcError, match="cannot create the folder"):
        write_output(tmp_path / "a_file" / "out.txt", "x")
    with pytest.raises(ArchcalcError, match="it is a folder"):
        write_output(tmp_path, "x", force=True)


def test_several_files_are_written_all_or_none(tmp_path):
    """A failing second file takes the first away, and the folders this call made, but not a folder
    that was there before (empty or not)."""
    from archcalc.errors import ArchcalcError
    from archcalc.files import write_outputs

    (tmp_path / "kept").mkdir()

    def fails(path):
        raise ArchcalcError("planted")

    with pytest.raises(ArchcalcError):
        write_outputs({tmp_path / "kept" / "a.txt": "a", tmp_path / "new" / "deep" / "b.txt": fails})
    assert (tmp_path / "kept").is_dir() and not list((tmp_path / "kept").iterdir())
    assert not (tmp_path / "new").exists()

"""Every file archcalc writes goes through a temporary file and a rename: an error or an
interruption leaves no partial output, and an existing file is replaced only with --force."""
import os

import pytest

from archcalc.errors import ArchcalcError
from archcalc.files import write_atomically


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "handout.md"

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_needs_force(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ArchcalcError, match="pass --force"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    write_atomically(target, "new", force=True)
    assert target.read_text() == "new"


def test_missing_folder_is_a_clean_error(tmp_path):
    with pytest.raises(ArchcalcError, match="does not exist"):
        write_atomically(tmp_path / "no" / "such" / "file.txt", "x")

"""The one way archcalc writes output files: atomically (a temporary file beside the target, then a
rename), creating missing folders, never replacing an existing file without ``force``, and with a
clear error, not a traceback, where the path cannot be written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Union

from .errors import ArchcalcError

Content = Union[str, bytes, Callable[[Path], None]]  # text, bytes, or a function that writes the file


def check_targets(paths: Iterable[str | os.PathLike], force: bool = False) -> None:
    """Refuse before anything is written: a target that is a folder, or exists without ``force``.

    A command that writes several files checks them all first, so that it writes all or none.
    """
    for path in map(Path, paths):
        check_name(path)
        try:
            is_folder, exists = path.is_dir(), path.exists()
        except OSError as error:
            raise ArchcalcError(f"cannot write {shorten(path)}: {error.strerror or error}") from None
        if is_folder:
            raise ArchcalcError(f"cannot write {path}: it is a folder", hint="give a file name")
        if exists and not force:
            raise ArchcalcError(f"{path} exists; pass `force` to overwrite it")


NAME_MAX = 255  # bytes in one file or folder name, on the file systems archcalc writes to


def check_name(path: Path) -> None:
    """A name longer than the file system allows is refused before anything is computed or written."""
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            what = "its name" if part == str(path) else f"the name {shorten(part)}"
            raise ArchcalcError(f"cannot write {shorten(path)}: {what} is {size} bytes long, "
                                f"more than the {NAME_MAX} a file system allows", hint="give a shorter name")


def shorten(text, limit: int = 60) -> str:
    """A long path as its start and end: ``aaaa...aaaa.py`` (an error message stays one readable line)."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-(limit // 2 - 3):]}"


def write_output(path: str | os.PathLike, content: Content, force: bool = False) -> Path:
    """Write ``content`` to ``path`` atomically; returns the path written.

    ``content`` is text, bytes, or a function given a temporary path to write (a plot, an ONNX
    export, a PDF printed by a browser). Nothing is left behind if it fails or is interrupted.
    """
    target = Path(path)
    check_targets([target], force)
    folder = target.parent
    in_the_way = next((part for part in (folder, *folder.parents) if part.exists() and not part.is_dir()), None)
    if in_the_way:
        raise ArchcalcError(f"cannot create the folder {folder} for {target}: {in_the_way} is a file, not a folder")
    made = _missing_folders(target)  # removed again if the write fails
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArchcalcError(f"cannot create the folder {folder} for {target}: {error.strerror or error}") from None
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{target.name}.") as scratch:
            temporary = Path(scratch) / target.name
            _write(temporary, content)
            os.replace(temporary, target)
    except BaseException as error:
        _remove_empty(made)
        if isinstance(error, OSError):
            raise ArchcalcError(f"cannot write {target}: {error.strerror or error}") from None
        raise
    return target


def write_outputs(files: dict, force: bool = False) -> list[Path]:
    """Write several files, all or none: every target is checked first, and if one write fails
    the files this call already wrote (that were not there before) are removed again."""
    check_targets(files, force)
    new = {Path(path) for path in files if not Path(path).exists()}
    made = [folder for path in files for folder in _missing_folders(Path(path))]  # only these may go again
    written: list[Path] = []
    try:
        for path, content in files.items():
            written.append(write_output(path, content, force))
    except BaseException:
        for path in written:
            if path in new:
                path.unlink(missing_ok=True)
        _remove_empty(sorted(set(made), key=lambda folder: len(folder.parts), reverse=True))
        raise
    return written


def _missing_folders(target: Path) -> list[Path]:
    """The folders above ``target`` that do not exist yet, innermost first."""
    return [part for part in (target.parent, *target.parent.parents) if not part.exists()]


def _remove_empty(folders: list[Path]) -> None:
    """The folders a failed write made, innermost first, where nothing else was put in them."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            continue  # not empty: something else is in it


def _write(temporary: Path, content: Content) -> None:
    if isinstance(content, str):
        temporary.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        temporary.write_bytes(content)
    else:
        content(temporary)
        if not temporary.is_file():
            raise ArchcalcError(f"nothing was written for {temporary.name}")

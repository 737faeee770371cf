"""Splice new image text into the old text, and write files atomically.

Edits are applied from the end of the text backwards, so earlier offsets stay valid. Before each
splice the old text is checked to still be there: pinner never guesses.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from pinner.errors import WriteConflictError


class Edit(NamedTuple):
    start: int
    end: int
    old: str
    new: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with every edit applied; identical edits (an anchor and its aliases) apply once."""
    unique = sorted(set(edits), key=lambda edit: edit.start, reverse=True)
    pieces: list[str] = []
    tail = len(text)
    for edit in unique:
        if edit.end > tail:
            raise AssertionError(f"overlapping edits at offset {edit.start}")
        if text[edit.start : edit.end] != edit.old:
            raise AssertionError(f"text at {edit.start} is not {edit.old!r}")
        pieces.append(text[edit.end : tail])
        pieces.append(edit.new)
        tail = edit.start
    pieces.append(text[:tail])
    return "".join(reversed(pieces))


def write_atomic(path: Path, data: bytes, *, expected: bytes, sync_folder: bool = True) -> None:
    """Replace ``path`` with ``data`` in one rename, keeping its mode.

    The rename is durable once the folder is synced: here, or (``sync_folder=False``) with
    ``sync_folders`` once all of a folder's files are written.

    ``expected`` is what the file held when it was read. If it holds something else now,
    somebody changed it meanwhile: raise instead of overwriting their change. A file the user may
    not write (read-only, immutable) raises PermissionError and is left alone.
    """
    target = path.resolve()
    status = target.stat()
    if not os.access(target, os.W_OK):
        # The rename below needs only the folder's permission, but a read-only file is one its
        # owner does not want changed: refuse, as opening it for writing would.
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".pinner-tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, status.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):
            os.chown(temp_name, status.st_uid, status.st_gid)
        if target.read_bytes() != expected:
            raise WriteConflictError(
                f"{path}: the file changed on disk while pinner was working; it was not "
                "overwritten. Run pinner again."
            )
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    if sync_folder:
        _fsync_directory(target.parent)


def sync_folders(paths: Iterable[Path]) -> None:
    """Make the renames of ``paths`` durable: one fsync per folder they are in."""
    for folder in {path.resolve().parent for path in paths}:
        _fsync_directory(folder)


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)

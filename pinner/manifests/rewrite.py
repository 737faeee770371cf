"""Splice new image text into the old text, and write files atomically.

Edits are applied from the end of the text backwards, so earlier offsets stay valid. Before each
splice the old text is checked to still be there: pinner never guesses.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
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


class PendingWrite(NamedTuple):
    """A file to replace: its new bytes, and the bytes it held when pinner read it."""

    path: Path
    data: bytes
    expected: bytes


# Below this many files, a batch syncs each file and folder itself: syncfs writes back every
# dirty page of the whole filesystem, which pays only when it replaces many fsyncs.
SYNCFS_MIN_FILES = 16


def write_atomic(path: Path, data: bytes, *, expected: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename, keeping its mode (see ``write_all_atomic``)."""
    failure = write_all_atomic([PendingWrite(path, data, expected)])[0]
    if failure is not None:
        raise failure


def create_atomic(path: Path, data: bytes) -> None:
    """Write a new file ``path`` in one rename: whole, or not at all (mode 0666 less the umask)."""
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".pinner-tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # mkstemp's 0600 is for secrets
        os.replace(temp_name, path)
    except BaseException:
        _remove(temp_name)
        raise
    sync_folders([path])


def write_all_atomic(writes: Sequence[PendingWrite]) -> list[Exception | None]:
    """Replace each file with its new bytes; one failure (or None) per write, in order.

    Each file is replaced in one rename of a temporary file in its folder, so a reader (or a
    crash) sees the old bytes or the new, never a mix; the mode and owner are kept. Every
    temporary file is written first, then made durable, then renamed, and the renames are synced
    before this returns. On Linux a batch of many files is made durable with two ``syncfs``
    calls per filesystem (before and after the renames) instead of an fsync per file and per
    folder, which is where the time of a many-file pin went.

    A file that holds something other than ``expected`` just before its rename was changed by
    somebody meanwhile: it is left alone (WriteConflictError), as is a file the user may not
    write (PermissionError) or whose data cannot be synced. Other files are still written. An
    interruption (Ctrl-C) removes every temporary file not yet renamed.
    """
    failures: list[Exception | None] = [None] * len(writes)
    staged: list[tuple[int, Path, str]] = []
    try:
        for index, write in enumerate(writes):
            try:
                staged.append((index, *_stage(write)))
            except OSError as exc:
                failures[index] = exc
        syncfs = _syncfs() if len(staged) >= SYNCFS_MIN_FILES else None
        if syncfs is None or not _sync_filesystems(syncfs, [target for _, target, _ in staged]):
            staged = [item for item in staged if _synced(item[2], failures, item[0])]
        renamed: list[Path] = []
        for index, target, temp_name in staged:
            try:
                _commit(writes[index], target, temp_name)
            except (OSError, WriteConflictError) as exc:
                failures[index] = exc
                _remove(temp_name)
            else:
                renamed.append(target)
        if syncfs is None or not _sync_filesystems(syncfs, renamed):
            sync_folders(renamed)
    except BaseException:
        for _, _, temp_name in staged:
            _remove(temp_name)  # a renamed one is gone already
        raise
    return failures


def _synced(temp_name: str, failures: list[Exception | None], index: int) -> bool:
    """fsync one temporary file; one whose data cannot be made durable is removed, not renamed."""
    try:
        _fsync(temp_name)
    except OSError as exc:
        failures[index] = exc
        _remove(temp_name)
        return False
    return True


def _remove(temp_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp_name)


def _stage(write: PendingWrite) -> tuple[Path, str]:
    """Write the new bytes to a temporary file beside the target; (target, temporary name)."""
    # Only a link in the last part needs following, so that the link stays a link and its
    # target is replaced; a linked folder is followed by the kernel (one lstat, not a realpath).
    target = write.path.resolve() if write.path.is_symlink() else write.path
    status = target.stat()
    if not os.access(target, os.W_OK):
        # The rename needs only the folder's permission, but a read-only file is one its owner
        # does not want changed: refuse, as opening it for writing would.
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(write.path))
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".pinner-tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as temp:
            temp.write(write.data)
        os.chmod(temp_name, status.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):
            os.chown(temp_name, status.st_uid, status.st_gid)
    except BaseException:
        _remove(temp_name)
        raise
    return target, temp_name


def _commit(write: PendingWrite, target: Path, temp_name: str) -> None:
    if target.read_bytes() != write.expected:
        raise WriteConflictError(
            f"{write.path}: the file changed on disk while pinner was working; it was not "
            "overwritten. Run pinner again."
        )
    os.replace(temp_name, target)


def sync_folders(paths: Iterable[Path]) -> None:
    """Make the renames of ``paths`` durable: one fsync per folder they are in."""
    for folder in {path.resolve().parent for path in paths}:
        # A rename is durable only once the folder's entry is on disk; a folder that cannot be
        # opened or synced (some filesystems refuse) has nothing more pinner can do.
        with contextlib.suppress(OSError):
            _fsync(folder)


def _fsync(path: Path | str) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _sync_filesystems(syncfs: Callable[[int], int], paths: Sequence[Path]) -> bool:
    """syncfs once per filesystem that holds ``paths``; False if any call failed."""
    folders: dict[int, Path] = {}
    for path in paths:
        folder = path.parent
        with contextlib.suppress(OSError):
            folders.setdefault(folder.stat().st_dev, folder)
    for folder in folders.values():
        try:
            handle = os.open(folder, os.O_RDONLY)
        except OSError:
            return False
        try:
            if syncfs(handle) != 0:
                return False
        finally:
            os.close(handle)
    return True


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2), or None where there is none (then every file is fsynced)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return function

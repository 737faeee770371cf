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
    """Replace ``path`` with ``data`` in one rename, keeping its mode (see ``WriteBatch``)."""
    failure = write_all_atomic([PendingWrite(path, data, expected)])[0]
    if failure is not None:
        raise failure


def write_all_atomic(writes: Sequence[PendingWrite]) -> list[Exception | None]:
    """Replace each file with its new bytes (see ``WriteBatch``); a failure or None per write."""
    with WriteBatch() as batch:
        for write in writes:
            batch.stage(write)
        failures = batch.finish()
    return [failures.get(write.path) for write in writes]


class WriteBatch:
    """Files replaced together: each staged as soon as its bytes are known, all renamed at once.

    Each file is replaced in one rename of a temporary file in its folder, so a reader (or a
    crash) sees the old bytes or the new, never a mix; the mode and owner are kept. ``stage``
    writes a file's temporary copy and may run in another thread while the caller works on
    (pin stages files while it still reads others); ``finish`` makes every staged copy durable,
    renames them, and syncs the renames. On Linux a batch of many files is made durable with two
    ``syncfs`` calls per filesystem (before and after the renames) instead of an fsync per file
    and per folder, which is where the time of a many-file pin went.

    A file that holds something other than what it held when pinner read it, just before its
    rename, was changed by somebody meanwhile: it is left alone (WriteConflictError), as is a
    file the user may not write (PermissionError). Other files of the batch are still written.
    Leaving the ``with`` block without ``finish`` (an error, Ctrl-C) removes every temporary
    file and changes nothing.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[PendingWrite, Path, str]] = []
        self._failures: dict[Path, Exception] = {}

    def __enter__(self) -> WriteBatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _, _, temp_name in self._staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
        self._staged = []

    def stage(self, write: PendingWrite) -> None:
        """Write ``write.data`` to a temporary file beside ``write.path``; nothing is renamed."""
        try:
            target, temp_name = _stage(write)
        except OSError as exc:
            self._failures[write.path] = exc
        else:
            self._staged.append((write, target, temp_name))

    def finish(self) -> dict[Path, Exception]:
        """Rename every staged file into place, durably; the failures, by the path written."""
        staged, self._staged = self._staged, []
        try:
            self._replace(staged)
        except BaseException:
            for _, _, temp_name in staged:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp_name)
            raise
        return self._failures

    def _replace(self, staged: list[tuple[PendingWrite, Path, str]]) -> None:
        syncfs = _syncfs() if len(staged) >= SYNCFS_MIN_FILES else None
        if syncfs is None or not _sync_filesystems(syncfs, [target for _, target, _ in staged]):
            staged = [item for item in staged if self._synced(*item)]
        renamed: list[Path] = []
        for write, target, temp_name in staged:
            try:
                _commit(write, target, temp_name)
            except (OSError, WriteConflictError) as exc:
                self._failures[write.path] = exc
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp_name)
            else:
                renamed.append(target)
        if syncfs is None or not _sync_filesystems(syncfs, renamed):
            sync_folders(renamed)

    def _synced(self, write: PendingWrite, target: Path, temp_name: str) -> bool:
        """fsync one staged file; a file whose data cannot be made durable is not renamed."""
        try:
            handle = os.open(temp_name, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)
        except OSError as exc:
            self._failures[write.path] = exc
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            return False
        return True


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
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
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
        _fsync_path(folder)


def _fsync_path(path: Path) -> None:
    # A rename is durable only once the folder's entry is on disk.
    with contextlib.suppress(OSError):
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

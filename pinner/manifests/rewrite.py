"""Splice new image text into the old text, and write files atomically.

Edits are applied from the end of the text backwards, so earlier offsets stay valid. Before each
splice the old text is checked to still be there: pinner never guesses.

Writing goes through ``pinner.manifests.ondisk`` (the file, held by its folder's descriptor, is
the one pinner read, and one it may replace) and ``pinner.manifests.staging`` (the temporary
copies); this module batches them so their data and renames are synced together.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from pinner.errors import PinnerError
from pinner.manifests.ondisk import Folders, Identity, check_unchanged, open_target
from pinner.manifests.staging import Staged, discard, publish, remove_leftovers, stage


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
    """A file to replace: its new bytes, and the bytes (and inode) it held when pinner read it."""

    path: Path
    data: bytes
    expected: bytes
    identity: Identity | None = None  # (st_dev, st_ino) as read; None: whatever is there now


# Below this many files, a batch syncs each file and folder itself: syncfs writes back every
# dirty page of the whole filesystem, which pays only when it replaces many fsyncs.
SYNCFS_MIN_FILES = 16
# Files staged at once: an unnamed temporary copy is a descriptor held until its rename, and a
# process may hold only so many (often 1,024).
CHUNK_FILES = 256


def write_atomic(
    path: Path, data: bytes, *, expected: bytes, identity: Identity | None = None
) -> None:
    """Replace ``path`` with ``data`` in one rename (see ``write_all_atomic``)."""
    failure = write_all_atomic([PendingWrite(path, data, expected, identity)])[0]
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
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        sync_folders([folder])
    finally:
        os.close(folder)


def write_all_atomic(writes: Sequence[PendingWrite]) -> list[Exception | None]:
    """Replace each file with its new bytes; one failure (or None) per write, in order.

    Each file is replaced in one rename of a temporary copy in its folder, so a reader (or a
    crash) sees the old bytes or the new, never a mix; owner, mode and extended attributes are
    kept. Every copy of a chunk of files is written first, then made durable, then renamed,
    and the renames are synced before this returns. On Linux a chunk of many files is made
    durable with two ``syncfs`` calls per filesystem (before and after the renames) instead of
    an fsync per file and per folder, which is where the time of a many-file pin went.

    A file is left alone, and the others still written, when it holds something other than
    ``expected`` just before its rename, or is not the file pinner read (WriteConflictError);
    when it is read-only, has other hard links, is open for writing elsewhere, or its owner or
    attributes cannot be kept (PermissionError, UnsafeWriteError); or when its data cannot be
    synced. An interruption (Ctrl-C) removes every temporary copy not yet renamed.
    """
    failures: list[Exception | None] = [None] * len(writes)
    folders = Folders()
    try:
        for first in range(0, len(writes), CHUNK_FILES):
            chunk = range(first, min(first + CHUNK_FILES, len(writes)))
            _write_chunk(writes, chunk, failures, folders)
    finally:
        folders.close()
    return failures


def _write_chunk(
    writes: Sequence[PendingWrite],
    chunk: range,
    failures: list[Exception | None],
    folders: Folders,
) -> None:
    staged: list[tuple[int, Staged]] = []
    try:
        for index in chunk:
            try:
                staged.append((index, _stage(writes[index], folders)))
            except (OSError, PinnerError) as exc:
                failures[index] = exc
        syncfs = _syncfs() if len(staged) >= SYNCFS_MIN_FILES else None
        if syncfs is None or not _sync_filesystems(syncfs, {c.target.folder for _, c in staged}):
            staged = [item for item in staged if _synced(item[1], failures, item[0])]
        renamed: set[int] = set()
        for index, copy in staged:
            write = writes[index]
            try:
                check_unchanged(copy.target, write.identity, write.expected, folders)
                publish(copy)
            except (OSError, PinnerError) as exc:
                failures[index] = exc
                discard(copy)
            else:
                renamed.add(copy.target.folder)
        if syncfs is None or not _sync_filesystems(syncfs, renamed):
            sync_folders(renamed)
    except BaseException:
        for _, copy in staged:
            discard(copy)  # a renamed one is gone already
        raise


def _stage(write: PendingWrite, folders: Folders) -> Staged:
    target = open_target(write.path, write.identity, folders)
    if folders.first_write(target.folder):
        remove_leftovers(target.folder)
    return stage(target, write.data)


def _synced(copy: Staged, failures: list[Exception | None], index: int) -> bool:
    """fsync one temporary copy; one whose data cannot be made durable is removed, not renamed."""
    try:
        os.fsync(copy.descriptor)
    except OSError as exc:
        failures[index] = exc
        discard(copy)
        return False
    return True


def sync_folders(folders: Iterable[int]) -> None:
    """Make renames durable: one fsync per folder (by descriptor) they are in."""
    for folder in folders:
        # A rename is durable only once the folder's entry is on disk; a folder that cannot be
        # synced (some filesystems refuse) has nothing more pinner can do.
        with contextlib.suppress(OSError):
            os.fsync(folder)


def _sync_filesystems(syncfs: Callable[[int], int], folders: Iterable[int]) -> bool:
    """syncfs once per filesystem that holds ``folders``; False if any call failed."""
    by_device: dict[int, int] = {}
    for folder in folders:
        with contextlib.suppress(OSError):
            by_device.setdefault(os.fstat(folder).st_dev, folder)
    return all(syncfs(folder) == 0 for folder in by_device.values())


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

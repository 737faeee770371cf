"""The file to be replaced, held by descriptors: the same file pinner read, or left alone.

Every step between reading a file and renaming over it goes through its folder's descriptor,
opened once, and through names in it that are never followed as symbolic links. The file found
by that name must be the one pinner read (the same device and inode, from ``SourceFile``), and
with one link only that inode is in one folder: so a folder or a file swapped for a link
meanwhile is noticed, and cannot redirect the write elsewhere.

pinner also leaves a file alone when replacing it would lose something: a read-only file (by its
mode bits, which root's ``access()`` ignores), a file in a read-only folder, a file with other
hard links (they would keep the old text), and a file another program still has open for writing
(what it writes after the rename would go to the old, unlinked file).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import NamedTuple

from pinner.errors import UnsafeWriteError, WriteConflictError

Identity = tuple[int, int]  # (st_dev, st_ino)
# F_SETLEASE/F_RDLCK/F_UNLCK are Linux's; absent elsewhere, a lease is never tried.
_SETLEASE = getattr(fcntl, "F_SETLEASE", None)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Target(NamedTuple):
    """The file to replace: its folder's descriptor, its name there, and its status."""

    display: Path  # as the user named it, for messages
    folder: int  # descriptor of the folder that holds it
    name: str
    status: os.stat_result


class Folders:
    """Folder descriptors opened once per write batch (``close`` them when it ends), and what
    else the batch learns once: which files other processes have open for writing."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._written: set[int] = set()
        self._open_for_writing: set[Identity] | None = None

    def descriptor(self, folder: Path) -> int:
        key = os.fspath(folder) or "."
        known = self._open.get(key)
        if known is None:
            known = self._open[key] = os.open(key, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return known

    def first_write(self, folder: int) -> bool:
        """True the first time a batch writes into ``folder`` (to tidy it up first)."""
        first = folder not in self._written
        self._written.add(folder)
        return first

    def open_for_writing(self) -> set[Identity]:
        """Files some other process pinner can see has open for writing, looked up in /proc
        once per batch (only where a lease cannot tell, see ``is_open_for_writing``)."""
        if self._open_for_writing is None:
            self._open_for_writing = _written_files()
        return self._open_for_writing

    def close(self) -> None:
        for descriptor in self._open.values():
            os.close(descriptor)
        self._open.clear()


def open_target(path: Path, identity: Identity | None, folders: Folders) -> Target:
    """The file at ``path``, checked to be the file pinner read and one it may replace.

    A link named on the command line is followed here, once, to the file it points to; from
    then on nothing is followed. Raises WriteConflictError, UnsafeWriteError or OSError.
    """
    real = path.resolve() if path.is_symlink() else path
    folder = folders.descriptor(real.parent)
    status = _status(path, folder, real.name, identity)
    folder_status = os.fstat(folder)
    if not status.st_mode & 0o222 or not folder_status.st_mode & 0o222:
        # Root may write anything, so access() says yes; the mode bits still say "read-only",
        # and a rename needs only the folder's permission: refuse, as a write would for others.
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    if not os.access(real.name, os.W_OK, dir_fd=folder):  # ACLs, a read-only mount
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    if status.st_nlink > 1:
        others = status.st_nlink - 1
        raise UnsafeWriteError(
            f"{path}: the file has {others} other hard link{'s' if others > 1 else ''}, which "
            "would keep the old text if pinner replaced it; it was not changed. Break the link "
            "first (cp FILE FILE.new && mv FILE.new FILE), or leave the file out with --exclude."
        )
    return Target(path, folder, real.name, status)


def check_unchanged(
    target: Target, identity: Identity | None, expected: bytes, folders: Folders
) -> None:
    """Just before the rename: the name still holds the file pinner read, with the bytes it
    read, and no other program has it open for writing."""
    descriptor = _open(target.display, target.folder, target.name)
    try:
        status = os.fstat(descriptor)
        _same(target.display, status, identity or _identity(target.status))
        if _read_at_most(descriptor, len(expected) + 1) != expected:
            raise WriteConflictError(
                f"{target.display}: the file changed on disk while pinner was working; it was "
                "not overwritten. Run pinner again."
            )
        if is_open_for_writing(descriptor, status, folders):
            raise UnsafeWriteError(
                f"{target.display}: another program has the file open for writing (an editor, "
                "a formatter, a build); what it writes after pinner's rename would be lost, so "
                "the file was not changed. Run pinner again when it is done."
            )
    finally:
        os.close(descriptor)


def is_open_for_writing(descriptor: int, status: os.stat_result, folders: Folders) -> bool:
    """Whether another process has the file open for writing.

    Linux grants a read lease only while no process has the file open for writing (EAGAIN
    otherwise); it is released at once. Where a lease cannot be taken (not the file's owner
    without CAP_LEASE, NFS, some overlay and FUSE filesystems, not Linux), the open files of
    every process pinner may see in /proc are looked at instead.
    """
    if _SETLEASE is not None:
        try:
            fcntl.fcntl(descriptor, _SETLEASE, fcntl.F_RDLCK)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                return True
        else:
            fcntl.fcntl(descriptor, _SETLEASE, fcntl.F_UNLCK)
            return False
    return _identity(status) in folders.open_for_writing()


def _written_files() -> set[Identity]:
    """(device, inode) of every file some process pinner can see has open for writing."""
    written: set[Identity] = set()
    with contextlib.suppress(OSError):
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            with contextlib.suppress(OSError):  # a process ended, or is not ours to look at
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError, ValueError):
                        flags = _fdinfo_flags(f"/proc/{pid}/fdinfo/{fd}")
                        if flags & (os.O_WRONLY | os.O_RDWR):
                            written.add(_identity(os.stat(f"/proc/{pid}/fd/{fd}")))
    return written


def _fdinfo_flags(path: str) -> int:
    with open(path, encoding="ascii") as handle:
        for line in handle:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    return 0


def _status(path: Path, folder: int, name: str, identity: Identity | None) -> os.stat_result:
    descriptor = _open(path, folder, name)
    try:
        status = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    if identity is not None:
        _same(path, status, identity)
    return status


def _open(path: Path, folder: int, name: str) -> int:
    """Open the regular file ``name`` in ``folder`` for reading, never through a link: what
    is there now is looked at first, so a FIFO or a device put in its place is never opened."""
    if not stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
        raise _replaced(path)
    try:
        return os.open(name, _OPEN_FLAGS, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since the look
            raise _replaced(path) from None
        raise


def _same(path: Path, status: os.stat_result, identity: Identity) -> None:
    if not stat.S_ISREG(status.st_mode) or _identity(status) != identity:
        raise _replaced(path)


def _replaced(path: Path) -> WriteConflictError:
    return WriteConflictError(
        f"{path}: the file was moved, removed or replaced (by a link, say) while pinner was "
        "working; it was not overwritten. Run pinner again."
    )


def _identity(status: os.stat_result) -> Identity:
    return (status.st_dev, status.st_ino)


def _read_at_most(descriptor: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.read(descriptor, min(size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)

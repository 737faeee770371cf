"""Temporary copies that become the new files, and that a killed run does not leave behind.

A new file's bytes go to an unnamed temporary file in the target's folder (Linux's
``O_TMPFILE``): a run killed while writing or syncing it leaves nothing, because the file has no
name until ``publish`` links it, just before the rename. Where there is no ``O_TMPFILE`` (another
OS, some filesystems, no /proc to link through) it is a named, hidden temporary file,
``.NAME.XXXXXXXX.pinner-tmp``, from the start.

Either way the copy gets the file's owner, mode and extended attributes (POSIX ACLs and
SELinux labels among them), or pinner refuses, and it is locked (``flock``) from creation to
rename. ``remove_leftovers`` deletes such names that no live pinner holds, so whatever a killed
run left in a folder is gone after the next run that writes there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from pinner.errors import UnsafeWriteError
from pinner.manifests.ondisk import Target

TEMP_SUFFIX = ".pinner-tmp"
LEFTOVER_RE = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.pinner-tmp")
_TMPFILE = getattr(os, "O_TMPFILE", None)
# O_TMPFILE is refused by filesystems that lack it with one of these.
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT)


@dataclass
class Staged:
    """A temporary copy: its descriptor (open until published), and its name once it has one."""

    target: Target
    descriptor: int
    temp_name: str | None


def stage(target: Target, data: bytes) -> Staged:
    """Write ``data`` to a temporary copy of ``target`` with its owner, mode and attributes."""
    staged = _create(target)
    try:
        fcntl.flock(staged.descriptor, fcntl.LOCK_EX)  # whose it is: see remove_leftovers
        _write_all(staged.descriptor, data)
        _keep_owner(target, staged.descriptor)
        os.fchmod(staged.descriptor, target.status.st_mode & 0o7777)  # after chown clears set-id
        _keep_attributes(target, staged.descriptor)
    except BaseException:
        discard(staged)
        raise
    return staged


def publish(staged: Staged) -> None:
    """Rename the copy over its target (linking an unnamed one into the folder first)."""
    target = staged.target
    if staged.temp_name is None:
        name = _temp_name(target.name)
        os.link(
            f"/proc/self/fd/{staged.descriptor}",
            name,
            dst_dir_fd=target.folder,
            follow_symlinks=True,
        )
        staged.temp_name = name
    os.rename(staged.temp_name, target.name, src_dir_fd=target.folder, dst_dir_fd=target.folder)
    staged.temp_name = None  # renamed: nothing of it is left to remove
    close(staged)


def discard(staged: Staged) -> None:
    """Remove a copy that will not be renamed; an unnamed one vanishes when it is closed."""
    if staged.temp_name is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged.temp_name, dir_fd=staged.target.folder)
        staged.temp_name = None
    close(staged)


def close(staged: Staged) -> None:
    if staged.descriptor >= 0:
        os.close(staged.descriptor)
        staged.descriptor = -1


def remove_leftovers(folder: int) -> list[str]:
    """Delete the temporary files that runs killed earlier left in ``folder``; their names.

    Only pinner's own: a regular file named ``.NAME.XXXXXXXX.pinner-tmp``, owned by this user,
    and not locked, i.e. no live pinner (a concurrent commit hook, say) is still writing it.
    """
    removed: list[str] = []
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries if LEFTOVER_RE.fullmatch(entry.name)]
    for name in names:
        with contextlib.suppress(OSError):
            if _remove_if_abandoned(folder, name):
                removed.append(name)
    return removed


def _remove_if_abandoned(folder: int, name: str) -> bool:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    descriptor = os.open(name, flags, dir_fd=folder)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live pinner holds it
        now = os.stat(name, dir_fd=folder, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (status.st_dev, status.st_ino):
            return False
        os.unlink(name, dir_fd=folder)
        return True
    finally:
        os.close(descriptor)


def _create(target: Target) -> Staged:
    mode = 0o600
    if _TMPFILE is not None and os.path.isdir("/proc/self/fd"):
        try:
            flags = _TMPFILE | os.O_WRONLY | os.O_CLOEXEC
            descriptor = os.open(".", flags, mode, dir_fd=target.folder)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
        else:
            return Staged(target, descriptor, None)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        name = _temp_name(target.name)
        try:
            return Staged(target, os.open(name, flags, mode, dir_fd=target.folder), name)
        except FileExistsError:
            continue


def _temp_name(name: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    return f".{name}.{''.join(secrets.choice(alphabet) for _ in range(8))}{TEMP_SUFFIX}"


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _keep_owner(target: Target, descriptor: int) -> None:
    status = target.status
    try:
        os.fchown(descriptor, status.st_uid, status.st_gid)
    except PermissionError:
        made = os.fstat(descriptor)
        if (made.st_uid, made.st_gid) != (status.st_uid, status.st_gid):
            raise UnsafeWriteError(
                f"{target.display}: the file belongs to user {status.st_uid} and group "
                f"{status.st_gid}, which pinner (user {os.geteuid()}) cannot give its new copy; "
                "it was not changed. Run pinner as the file's owner."
            ) from None


def _keep_attributes(target: Target, descriptor: int) -> None:
    """Copy every extended attribute of the file onto the copy, or refuse."""
    path = Path(target.display)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        original = os.open(target.name, flags, dir_fd=target.folder)
    except OSError:
        return  # it is checked again before the rename
    try:
        try:
            names = os.listxattr(original)
        except OSError as exc:
            if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                return
            raise
        for name in names:
            value = os.getxattr(original, name)
            try:
                os.setxattr(descriptor, name, value)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    if os.getxattr(descriptor, name) == value:
                        continue  # given already (an SELinux label the folder sets)
                raise UnsafeWriteError(
                    f"{path}: pinner cannot give its new copy the extended attribute {name!r} "
                    f"({exc.strerror}); it was not changed. Run pinner as the file's owner or "
                    "as root, or remove the attribute."
                ) from None
    finally:
        os.close(original)

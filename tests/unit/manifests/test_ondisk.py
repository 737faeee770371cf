"""What the writer keeps and what it refuses: the bytes on disk (issue 13, findings 12 to 16).

Each test builds the situation on a real filesystem (pytest's tmp_path) and calls the writer
itself; tests/cli/test_faults_files.py runs the same situations through ``pinner pin``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import pinner.manifests.ondisk
import pinner.manifests.rewrite
import pinner.manifests.staging
from pinner.errors import UnsafeWriteError, WriteConflictError
from pinner.manifests.ondisk import Identity
from pinner.manifests.rewrite import PendingWrite, write_all_atomic, write_atomic
from tests.support.interruptions import interrupt_rename
from tests.support.processes import holding_open, release

OLD = b"image: nginx:1.27\n"
NEW = b"image: nginx@sha256:" + b"a" * 64 + b"\n"
NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def identity(path: Path) -> Identity:
    status = path.stat()
    return (status.st_dev, status.st_ino)


def manifest(folder: Path, name: str = "pod.yaml", mode: int = 0o644) -> Path:
    path = folder / name
    path.write_bytes(OLD)
    path.chmod(mode)
    return path


def pin(path: Path, read_as: Identity | None = None) -> None:
    """Write NEW over OLD as pinner does, with the identity of the file as it was read."""
    write_atomic(path, NEW, expected=OLD, identity=read_as or identity(path))


def refusal(path: Path) -> str:
    """Why the writer refuses to pin ``path``, having checked that the file kept its bytes."""
    with pytest.raises(UnsafeWriteError) as error:
        pin(path)
    assert path.read_bytes() == OLD
    return str(error.value)


# --- 12: read-only means read-only, for root too ----------------------------------------------


@as_root
@pytest.mark.parametrize(
    ("file_mode", "folder_mode"), [(0o444, 0o755), (0o444, 0o555), (0o644, 0o555)]
)
def test_root_leaves_a_read_only_file_or_folder_alone(
    tmp_path: Path, file_mode: int, folder_mode: int
) -> None:
    folder = tmp_path / "k8s"
    folder.mkdir()
    path = manifest(folder, mode=file_mode)
    folder.chmod(folder_mode)
    try:
        with pytest.raises(PermissionError) as error:
            pin(path)
    finally:
        folder.chmod(0o755)
    assert error.value.errno == errno.EACCES
    assert path.read_bytes() == OLD
    assert stat.S_IMODE(path.stat().st_mode) == file_mode
    assert os.listdir(folder) == ["pod.yaml"]


# --- 13: owner, mode, extended attributes, hard links ------------------------------------------


@as_root
def test_the_owner_mode_and_extended_attributes_are_kept(tmp_path: Path) -> None:
    path = manifest(tmp_path, mode=0o640)
    os.chown(path, NOBODY, NOBODY)
    os.setxattr(path, "user.origin", b"checked out by ci")
    os.setxattr(path, "trusted.pinner-test", b"root only")
    pin(path)
    status = path.stat()
    assert path.read_bytes() == NEW
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert os.getxattr(path, "user.origin") == b"checked out by ci"
    assert os.getxattr(path, "trusted.pinner-test") == b"root only"


def test_an_attribute_that_cannot_be_copied_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = manifest(tmp_path)
    os.setxattr(path, "user.origin", b"x")
    real = os.setxattr

    def refused(target: object, name: str, value: bytes, *args: object) -> None:
        if name == "user.origin":
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        real(target, name, value, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pinner.manifests.staging.os, "setxattr", refused)
    assert refusal(path) == (
        f"{path}: pinner cannot give its new copy the extended attribute 'user.origin' "
        "(Operation not permitted); it was not changed. Run pinner as the file's owner or as "
        "root, or remove the attribute."
    )
    assert os.listdir(tmp_path) == ["pod.yaml"]


def test_a_file_with_other_hard_links_is_left_alone(tmp_path: Path) -> None:
    path = manifest(tmp_path)
    os.link(path, tmp_path / "also.yaml")
    assert refusal(path) == (
        f"{path}: the file has 1 other hard link, which would keep the old text if pinner "
        "replaced it; it was not changed. Break the link first (cp FILE FILE.new && mv FILE.new "
        "FILE), or leave the file out with --exclude."
    )
    assert (tmp_path / "also.yaml").read_bytes() == OLD
    assert path.stat().st_nlink == 2


# --- 14: the file and its folder are the ones read, and nothing redirects the write ------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the tree, holding a file of the same name."""
    folder = tmp_path / "outside"
    folder.mkdir()
    manifest(folder)
    return folder


def test_a_file_swapped_for_a_link_is_not_written_through(tmp_path: Path, outside: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    path = manifest(tree)
    read_as = identity(path)
    path.unlink()
    path.symlink_to(outside / "pod.yaml")
    with pytest.raises(WriteConflictError, match="moved, removed or replaced"):
        pin(path, read_as)
    assert (outside / "pod.yaml").read_bytes() == OLD
    assert path.is_symlink()


def test_a_folder_swapped_for_a_link_before_the_write_is_noticed(
    tmp_path: Path, outside: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "k8s").mkdir(parents=True)
    path = manifest(tree / "k8s")
    read_as = identity(path)
    (tree / "k8s").rename(tree / "moved")
    (tree / "k8s").symlink_to(outside)
    with pytest.raises(WriteConflictError, match="moved, removed or replaced"):
        pin(path, read_as)
    assert (outside / "pod.yaml").read_bytes() == OLD
    assert (tree / "moved" / "pod.yaml").read_bytes() == OLD


def test_a_folder_swapped_for_a_link_during_the_write_does_not_redirect_it(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once its folder is open, every step goes through that descriptor: the rename lands in
    the folder pinner read from, wherever it has been moved, never in the link's target."""
    tree = tmp_path / "tree"
    (tree / "k8s").mkdir(parents=True)
    path = manifest(tree / "k8s")
    real = pinner.manifests.rewrite.check_unchanged

    def swap_then_check(*args: object) -> None:
        (tree / "k8s").rename(tree / "moved")
        (tree / "k8s").symlink_to(outside)
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pinner.manifests.rewrite, "check_unchanged", swap_then_check)
    pin(path)
    assert (outside / "pod.yaml").read_bytes() == OLD
    assert (tree / "moved" / "pod.yaml").read_bytes() == NEW
    assert sorted(os.listdir(outside)) == ["pod.yaml"]


def test_a_fifo_put_in_place_of_the_file_is_never_opened(tmp_path: Path) -> None:
    path = manifest(tmp_path)
    read_as = identity(path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(WriteConflictError, match="moved, removed or replaced"):
        pin(path, read_as)  # opening the FIFO for reading would block until a writer came
    assert stat.S_ISFIFO(path.lstat().st_mode)


# --- 15: a program still writing the file -------------------------------------------------------


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Path]:
    """pod.yaml, held open for writing by another process until the test ends."""
    path = manifest(tmp_path)
    holder = holding_open(path)
    yield path
    release(holder)


@pytest.mark.parametrize("lease", [True, False], ids=["lease", "proc-fallback"])
def test_a_file_open_for_writing_elsewhere_is_left_alone(
    writer: Path, monkeypatch: pytest.MonkeyPatch, lease: bool
) -> None:
    if not lease:  # a filesystem or user that cannot take a lease
        monkeypatch.setattr(pinner.manifests.ondisk, "_SETLEASE", None)
    assert refusal(writer) == (
        f"{writer}: another program has the file open for writing (an editor, a formatter, a "
        "build); what it writes after pinner's rename would be lost, so the file was not "
        "changed. Run pinner again when it is done."
    )
    assert os.listdir(writer.parent) == ["pod.yaml"]


def test_a_file_open_only_for_reading_elsewhere_is_written(tmp_path: Path) -> None:
    path = manifest(tmp_path)
    with path.open("rb"):
        pin(path)
    assert path.read_bytes() == NEW


# --- 16: no litter, however a run ends ----------------------------------------------------------


def test_the_copy_has_no_name_until_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kill while writing or syncing would leave: nothing."""
    path = manifest(tmp_path)
    seen: list[list[str]] = []
    real = os.fsync

    def look_then_sync(descriptor: int) -> None:
        seen.append(sorted(os.listdir(tmp_path)))
        real(descriptor)

    monkeypatch.setattr(pinner.manifests.rewrite.os, "fsync", look_then_sync)
    pin(path)
    assert seen and all(names == ["pod.yaml"] for names in seen)
    assert path.read_bytes() == NEW


LEFTOVERS = [".pod.yaml.abc12345.pinner-tmp", ".other.yaml.x_y_z_00.pinner-tmp"]


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named-temporary"])
def test_leftovers_of_killed_runs_are_removed_by_the_next_write_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    if not unnamed:
        monkeypatch.setattr(pinner.manifests.staging, "_TMPFILE", None)
    path = manifest(tmp_path)
    for name in LEFTOVERS:
        (tmp_path / name).write_bytes(OLD[:5])
    kept = [".pod.yaml.pinner-tmp", "pod.yaml.abc12345.pinner-tmp", ".pod.yaml.abc1234.pinner-tmp"]
    for name in kept:  # not pinner's names
        (tmp_path / name).write_bytes(b"someone's")
    pin(path)
    assert sorted(os.listdir(tmp_path)) == sorted(["pod.yaml", *kept])


def test_a_temporary_file_a_live_pinner_holds_is_not_removed(tmp_path: Path) -> None:
    path = manifest(tmp_path)
    live = tmp_path / LEFTOVERS[0]
    live.write_bytes(b"being written")
    with live.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as pinner's staging holds each copy
        pin(path)
    assert sorted(os.listdir(tmp_path)) == sorted(["pod.yaml", LEFTOVERS[0]])


@as_root
def test_a_leftover_of_another_user_is_not_removed(tmp_path: Path) -> None:
    path = manifest(tmp_path)
    theirs = tmp_path / LEFTOVERS[0]
    theirs.write_bytes(b"x")
    os.chown(theirs, NOBODY, NOBODY)
    pin(path)
    assert theirs.exists()


def test_an_interrupted_batch_leaves_no_named_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = []
    for index in range(4):
        path = manifest(tmp_path, f"f{index}.yaml")
        writes.append(PendingWrite(path, NEW, OLD, identity(path)))
    interrupt_rename(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        write_all_atomic(writes)
    assert sorted(os.listdir(tmp_path)) == [f"f{index}.yaml" for index in range(4)]
    assert [write.path.read_bytes() == NEW for write in writes] == [True, True, False, False]

"""Splicing edits into text, and writing files atomically."""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

import pytest

import pinner.manifests.rewrite
import pinner.manifests.staging
from pinner.errors import WriteConflictError
from pinner.manifests.rewrite import (
    SYNCFS_MIN_FILES,
    Edit,
    PendingWrite,
    apply_edits,
    write_all_atomic,
    write_atomic,
)
from tests.support.interruptions import interrupt_rename

TEXT = "image: a\nimage: bb\nimage: ccc\n"


def test_edits_in_any_order() -> None:
    edits = [
        Edit(7, 8, "a", "A@1"),
        Edit(26, 29, "ccc", "C"),
        Edit(16, 18, "bb", ""),
    ]
    expected = "image: A@1\nimage: \nimage: C\n"
    assert apply_edits(TEXT, edits) == expected
    assert apply_edits(TEXT, reversed(edits)) == expected


def test_no_edits() -> None:
    assert apply_edits(TEXT, []) == TEXT
    assert apply_edits("", []) == ""


def test_edits_at_both_ends() -> None:
    assert apply_edits("abc", [Edit(0, 1, "a", "xx"), Edit(2, 3, "c", "yy")]) == "xxbyy"
    assert apply_edits("abc", [Edit(0, 3, "abc", "")]) == ""


def test_identical_edits_apply_once() -> None:
    # An anchor and its aliases give the same edit several times.
    edit = Edit(7, 8, "a", "a@sha256:1")
    assert apply_edits(TEXT, [edit, edit, edit]) == "image: a@sha256:1\nimage: bb\nimage: ccc\n"


def test_the_old_text_must_be_there() -> None:
    with pytest.raises(AssertionError, match="text at 7 is not 'b'"):
        apply_edits(TEXT, [Edit(7, 8, "b", "x")])
    with pytest.raises(AssertionError):
        apply_edits(TEXT, [Edit(7, 9, "a", "x")])


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(AssertionError, match="overlapping edits"):
        apply_edits(TEXT, [Edit(7, 8, "a", "x"), Edit(7, 9, "a\n", "y")])
    with pytest.raises(AssertionError, match="overlapping edits"):
        apply_edits("abcdef", [Edit(1, 4, "bcd", "x"), Edit(3, 5, "de", "y")])


def test_text_beyond_ascii() -> None:
    text = "# 😀 日本\nimage: 'é'\n"
    assert apply_edits(text, [Edit(14, 17, "'é'", "'e'")]) == "# 😀 日本\nimage: 'e'\n"


# --- write_atomic --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o640])
def test_write_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"old\r\n")
    path.chmod(mode)
    write_atomic(path, b"new\r\n", expected=b"old\r\n")
    assert path.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert os.listdir(tmp_path) == ["m.yaml"]


def test_write_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"old")
    before = path.stat().st_ino
    write_atomic(path, b"new", expected=b"old")
    # A new file renamed over the old one: readers see the old bytes or the new, never half.
    assert path.stat().st_ino != before
    assert path.read_bytes() == b"new"


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"someone else's edit\n")
    with pytest.raises(WriteConflictError) as error:
        write_atomic(path, b"pinned\n", expected=b"what pinner read\n")
    assert str(error.value) == (
        f"{path}: the file changed on disk while pinner was working; it was not overwritten. "
        "Run pinner again."
    )
    assert path.read_bytes() == b"someone else's edit\n"
    assert os.listdir(tmp_path) == ["m.yaml"]


def test_a_symbolic_link_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_bytes(b"old")
    link = tmp_path / "link.yaml"
    link.symlink_to(target.name)
    write_atomic(link, b"new", expected=b"old")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["link.yaml", "real.yaml"]


def test_a_missing_file_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "gone.yaml", b"new", expected=b"old")
    assert os.listdir(tmp_path) == []


# --- write_all_atomic: a batch of files ----------------------------------------------------------


def _batch(folder: Path, count: int) -> list[PendingWrite]:
    writes = []
    for index in range(count):
        path = folder / f"f{index:02d}.yaml"
        path.write_bytes(f"old {index}\n".encode())
        path.chmod(0o640 if index % 2 else 0o644)
        writes.append(PendingWrite(path, f"new {index}\n".encode(), f"old {index}\n".encode()))
    return writes


class SyncfsSpy:
    """Stands in for syncfs(2): records the folders it is called on, answers ``result``."""

    def __init__(self, result: int = 0) -> None:
        self.result = result
        self.folders: list[str] = []

    def __call__(self, descriptor: int) -> int:
        self.folders.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        return self.result


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every os.fsync call's descriptor, the calls still made."""
    calls: list[int] = []
    real = os.fsync

    def spy(descriptor: int) -> None:
        calls.append(descriptor)
        real(descriptor)

    monkeypatch.setattr(pinner.manifests.rewrite.os, "fsync", spy)
    return calls


def test_a_large_batch_is_synced_with_two_syncfs_calls_and_no_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    spy = SyncfsSpy()
    monkeypatch.setattr(pinner.manifests.rewrite, "_syncfs", lambda: spy)
    writes = _batch(tmp_path, SYNCFS_MIN_FILES)
    assert write_all_atomic(writes) == [None] * SYNCFS_MIN_FILES
    # Once before the renames (the data), once after (the renames), on the one filesystem.
    assert spy.folders == [str(tmp_path), str(tmp_path)]
    assert fsyncs == []
    for index, write in enumerate(writes):
        assert write.path.read_bytes() == write.data
        assert stat.S_IMODE(write.path.stat().st_mode) == (0o640 if index % 2 else 0o644)
    assert sorted(os.listdir(tmp_path)) == [write.path.name for write in writes]


def test_a_small_batch_fsyncs_each_file_and_its_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    spy = SyncfsSpy()
    monkeypatch.setattr(pinner.manifests.rewrite, "_syncfs", lambda: spy)
    writes = _batch(tmp_path, 3)
    assert write_all_atomic(writes) == [None, None, None]
    assert spy.folders == []
    assert len(fsyncs) == 3 + 1  # each temporary file, then the folder once
    assert [write.path.read_bytes() for write in writes] == [write.data for write in writes]


def test_a_failing_syncfs_falls_back_to_fsync_and_still_writes_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    spy = SyncfsSpy(result=-1)
    monkeypatch.setattr(pinner.manifests.rewrite, "_syncfs", lambda: spy)
    writes = _batch(tmp_path, SYNCFS_MIN_FILES)
    assert write_all_atomic(writes) == [None] * SYNCFS_MIN_FILES
    assert spy.folders == [str(tmp_path), str(tmp_path)]
    assert len(fsyncs) == SYNCFS_MIN_FILES + 1
    assert all(write.path.read_bytes() == write.data for write in writes)


def test_without_syncfs_a_large_batch_fsyncs_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    monkeypatch.setattr(pinner.manifests.rewrite, "_syncfs", lambda: None)
    writes = _batch(tmp_path, SYNCFS_MIN_FILES)
    assert write_all_atomic(writes) == [None] * SYNCFS_MIN_FILES
    assert len(fsyncs) == SYNCFS_MIN_FILES + 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs(2) is Linux's")
def test_the_real_syncfs_is_found_on_linux() -> None:
    syncfs = pinner.manifests.rewrite._syncfs()
    assert syncfs is not None
    handle = os.open(".", os.O_RDONLY)
    try:
        assert syncfs(handle) == 0
    finally:
        os.close(handle)


def test_one_file_changed_in_a_batch_is_left_alone_and_the_others_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _batch(tmp_path, SYNCFS_MIN_FILES)
    changed = writes[5].path
    real_rename = os.rename

    def someone_edits_before_the_first_rename(*args: object, **kwargs: object) -> None:
        if not changed.read_bytes().startswith(b"theirs"):
            changed.write_bytes(b"theirs\n")
        real_rename(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(
        pinner.manifests.staging.os, "rename", someone_edits_before_the_first_rename
    )
    failures = write_all_atomic(writes)
    assert [index for index, failure in enumerate(failures) if failure is not None] == [5]
    assert isinstance(failures[5], WriteConflictError)
    assert changed.read_bytes() == b"theirs\n"
    assert all(w.path.read_bytes() == w.data for i, w in enumerate(writes) if i != 5)
    assert sorted(os.listdir(tmp_path)) == [write.path.name for write in writes]


def test_a_file_that_cannot_be_staged_fails_alone(tmp_path: Path) -> None:
    writes = _batch(tmp_path, 3)
    writes[1].path.unlink()
    failures = write_all_atomic(writes)
    assert failures[0] is None and failures[2] is None
    assert isinstance(failures[1], FileNotFoundError)
    assert sorted(os.listdir(tmp_path)) == ["f00.yaml", "f02.yaml"]


def test_an_interrupted_batch_removes_every_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _batch(tmp_path, SYNCFS_MIN_FILES)
    interrupt_rename(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        write_all_atomic(writes)
    # Three files renamed, the rest untouched; no temporary file is left behind.
    assert [w.path.read_bytes() == w.data for w in writes].count(True) == 3
    assert sorted(os.listdir(tmp_path)) == [write.path.name for write in writes]


def test_a_file_whose_data_cannot_be_synced_is_not_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without syncfs each file is fsynced; an I/O error there leaves that file as it was."""
    monkeypatch.setattr(pinner.manifests.rewrite, "_syncfs", lambda: None)
    writes = _batch(tmp_path, 3)
    real_fsync = os.fsync
    calls = 0

    def failing_for_f01(descriptor: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # copies are synced in order: f01's
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(descriptor)

    monkeypatch.setattr(pinner.manifests.rewrite.os, "fsync", failing_for_f01)
    failures = write_all_atomic(writes)
    assert failures[0] is None and failures[2] is None
    assert isinstance(failures[1], OSError) and failures[1].errno == errno.EIO
    assert writes[1].path.read_bytes() == writes[1].expected
    assert writes[0].path.read_bytes() == writes[0].data
    assert sorted(os.listdir(tmp_path)) == ["f00.yaml", "f01.yaml", "f02.yaml"]

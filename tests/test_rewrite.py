"""Splicing edits into text, and writing files atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pinner.errors import WriteConflictError
from pinner.rewrite import Edit, apply_edits, write_atomic

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

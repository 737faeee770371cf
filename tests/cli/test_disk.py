"""``pinner pin`` and ``check`` against files that are not what they seem (issue 13: findings 7,
11 to 15): the exact messages, the exit codes, and files byte for byte as they were.

The writer's own cases are in tests/unit/manifests/test_ondisk.py; here they run end to end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli, without_summaries
from tests.support.processes import holding_open, release, run_module

A = "sha256:" + "a" * 64
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: app\n    image: {}\n"
)
PINNED = POD.format(f"nginx@{A}")


@pytest.fixture(autouse=True)
def _digests(isolated: Path) -> None:
    Path("digests.txt").write_text(f"nginx:1.27@{A}\n")


def pin(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[str]]:
    code, _, err = run_cli(
        capsys, "pin", "--no-config", "--offline", "--digests", "digests.txt", *paths
    )
    return code, without_summaries(err)


# --- 7: a FIFO named on the command line ------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "pin"])
def test_a_fifo_named_on_the_command_line_is_refused_at_once(tmp_path: Path, command: str) -> None:
    """Reading a FIFO waits for a writer that never comes: it was a hang, now an error."""
    Path("good.yaml").write_text(POD.format("nginx:1.27"))
    os.mkfifo("pipe.yaml")
    args = [command, "--no-config", "good.yaml", "pipe.yaml"]
    if command == "pin":
        args[2:2] = ["--offline", "--digests", "digests.txt"]
    result = run_module("pinner", *args, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 2, result.stderr
    assert (
        "error: pipe.yaml: not a regular file (it is a named pipe (FIFO)); pinner reads only "
        "files, so it was not read. Give standard input as '-' (pinner pin - < FILE), or leave "
        "the name out.\n"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    expected = PINNED if command == "pin" else POD.format("nginx:1.27")
    assert Path("good.yaml").read_text() == expected


# --- 11: an anchored image whose alias is used elsewhere -----------------------------------------


def test_every_other_place_an_anchored_image_changes_is_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = POD.format("&img nginx:1.27") + (
        "    env:\n    - name: SELF\n      value: *img\n    args: [--image, *img]\n"
        "  - name: twin\n    image: *img\n"
    )
    Path("pod.yaml").write_text(text)
    code, lines = pin(capsys, "pod.yaml")
    assert code == 1
    new = f"nginx@{A}"
    assert lines == [
        f"notice: pod.yaml:11: spec.containers[].env[].value is *img, an alias of the image on "
        f"line 8: pinning changes it to {new} too.",
        f"notice: pod.yaml:12: spec.containers[].args[] is *img, an alias of the image on line 8: "
        f"pinning changes it to {new} too.",
    ]
    # The alias stays an alias: only the anchored image's text changed.
    assert Path("pod.yaml").read_text() == text.replace("&img nginx:1.27", f"&img {new}")


# --- 12 to 15: files pinner leaves alone ----------------------------------------------------------


def test_a_hard_linked_file_is_left_alone_and_the_others_pinned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("linked.yaml").write_text(POD.format("nginx:1.27"))
    os.link("linked.yaml", "other-name.yaml")
    Path("plain.yaml").write_text(POD.format("nginx:1.27"))
    code, lines = pin(capsys, "linked.yaml", "plain.yaml")
    assert (code, lines) == (
        2,
        [
            "error: linked.yaml: the file has 1 other hard link, which would keep the old text "
            "if pinner replaced it; it was not changed. Break the link first (cp FILE FILE.new "
            "&& mv FILE.new FILE), or leave the file out with --exclude."
        ],
    )
    assert Path("other-name.yaml").read_text() == POD.format("nginx:1.27")
    assert Path("plain.yaml").read_text() == PINNED


@pytest.mark.skipif(os.geteuid() != 0, reason="root ignores permission bits: needs root")
def test_root_leaves_a_read_only_file_alone(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path("read-only.yaml")
    path.write_text(POD.format("nginx:1.27"))
    path.chmod(0o444)
    code, lines = pin(capsys, "read-only.yaml")
    assert (code, lines) == (
        2,
        [
            "error: read-only.yaml: cannot write the file (Permission denied); it was not "
            "changed. Check the permissions of the file and its folder."
        ],
    )
    assert path.read_text() == POD.format("nginx:1.27")


def test_a_file_another_program_is_writing_is_left_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path("pod.yaml")
    path.write_text(POD.format("nginx:1.27"))
    holder = holding_open(path)  # an editor or a formatter still holding it
    try:
        code, lines = pin(capsys, "pod.yaml")
    finally:
        release(holder)
    assert (code, lines) == (
        2,
        [
            "error: pod.yaml: another program has the file open for writing (an editor, a "
            "formatter, a build); what it writes after pinner's rename would be lost, so the "
            "file was not changed. Run pinner again when it is done."
        ],
    )
    assert path.read_text() == POD.format("nginx:1.27")
    assert sorted(os.listdir()) == ["digests.txt", "pod.yaml"]

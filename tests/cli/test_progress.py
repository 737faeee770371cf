"""The progress bar: drawn on a terminal, silent without one, in CI and with --quiet."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pinner.cli.progress import Progress

POD = (
    "kind: Pod\nmetadata:\n  name: p{0}\nspec:\n  containers:\n  - name: app\n    image: app{0}:1\n"
)
FILES = 40


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_draws_first_and_last_state_and_throttles_between() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, clock)
    update = progress.stage("scanning")
    for done in range(5):
        update(done, 4)  # all at the same instant: only 0/4 and 4/4 are drawn
    assert stream.getvalue() == (
        "\rscanning [------------------------] 0/4\rscanning [########################] 4/4"
    )
    clock.now = 1.0
    progress.update("resolving", 1, 3)
    assert stream.getvalue().endswith("\rresolving [########----------------] 1/3")
    progress.finish()
    assert stream.getvalue().endswith(
        "\r" + " " * len("resolving [########----------------] 1/3") + "\r"
    )


def test_a_shorter_line_blanks_the_rest_of_the_longer_one() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.update("a long label", 0, 1)
    progress.update("short", 0, 1)
    drawn = stream.getvalue().split("\r")[-1]
    assert drawn == "short [------------------------] 0/1" + " " * 7


def test_silent_progress_writes_nothing() -> None:
    progress = Progress(None)
    progress.update("scanning", 0, 1)
    progress.finish()
    assert not progress.enabled


@pytest.mark.parametrize(
    "ci, quiet, tty, shown",
    [
        (None, False, True, True),
        ("true", False, True, False),
        ("1", False, True, False),
        ("false", False, True, True),
        (None, True, True, False),
        (None, False, False, False),
    ],
)
def test_for_terminal(
    ci: str | None, quiet: bool, tty: bool, shown: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys, "stderr", Stream())
    assert Progress.for_terminal(quiet).enabled is shown


# --- a real run under a pseudo-terminal --------------------------------------------------------


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "k8s"
    folder.mkdir()
    (tmp_path / ".git").mkdir()  # no .pinner.yaml from the folders above
    for number in range(FILES):
        (folder / f"pod{number:02}.yaml").write_text(POD.format(number))
    return folder


def run_on_terminal(folder: Path, *args: str, **env: str) -> tuple[int, bytes, bytes]:
    """Run `pinner check` with standard error on a pseudo-terminal; return what each showed."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    environment.update(env)
    controller, terminal = os.openpty()
    # Standard output goes to a file: a pipe nobody reads while the terminal is drained could
    # fill up and block the child.
    with tempfile.TemporaryFile() as out:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "pinner", "check", *args, str(folder)],
                cwd=folder.parent,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=terminal,
            )
        finally:
            os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        os.close(controller)
        code = process.wait(timeout=60)
        out.seek(0)
        return code, out.read(), shown


def test_bar_shows_on_a_terminal(manifests: Path) -> None:
    code, out, shown = run_on_terminal(manifests)
    assert code == 1
    assert out.count(b"is not pinned by digest") == FILES  # results are not mixed with the bar
    assert b"\rpinner: scanning files [------------------------] 0/40" in shown
    assert b"\rpinner: scanning files [########################] 40/40" in shown
    # The bar is blanked before the summary line.
    assert b"\r" + b" " * len(b"pinner: scanning files [########################] 40/40") in shown
    assert b"pinner check: 40 files scanned, 40 references found: 40 not pinned" in shown


@pytest.mark.parametrize(
    "args, env",
    [([], {"CI": "true"}), (["--quiet"], {}), ([], {"CI": "1"})],
    ids=["CI=true", "--quiet", "CI=1"],
)
def test_bar_is_silent_in_ci_and_with_quiet(
    manifests: Path, args: list[str], env: dict[str, str]
) -> None:
    code, _, shown = run_on_terminal(manifests, *args, **env)
    assert code == 1
    assert b"pinner: scanning files" not in shown
    assert b"\r" not in shown.replace(b"\r\n", b"\n")  # the terminal turns \n into \r\n


def test_bar_is_silent_without_a_terminal(manifests: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "CI"}
    result = subprocess.run(
        [sys.executable, "-m", "pinner", "check", str(manifests)],
        cwd=manifests.parent,
        env=environment,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert b"\r" not in result.stderr
    assert result.stderr.startswith(b"pinner check: 40 files scanned")

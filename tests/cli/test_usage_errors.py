"""One error style: click's own usage errors read like pinner's (`error: ...` and a hint, exit 2),
not typer's box; and a command reading standard input from a terminal says so."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pinner.cli import main
from tests.support.processes import run_module

pytestmark = pytest.mark.usefixtures("isolated")

POD = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "--bogus"],
            "No such option: --bogus (Possible options: --jobs). Run 'pinner check --help' to "
            "see the options.",
        ),
        (
            ["pin", "--jobs", "x"],
            "Invalid value for '--jobs': 'x' is not a valid int range. Run 'pinner pin --help' "
            "to see the options.",
        ),
        (
            ["pin", "--concurrency", "0"],
            "Invalid value for '--concurrency': 0 is not in the range 1<=x<=64. Run 'pinner pin "
            "--help' to see the options.",
        ),
        (
            ["digest"],
            "Missing argument 'IMAGE'. Run 'pinner digest --help' to see the options.",
        ),
        (
            ["tags", "a", "b"],
            "Got unexpected extra argument(s) (b). Run 'pinner tags --help' to see the options.",
        ),
        (
            ["chek"],
            "No such command 'chek'. Did you mean 'check'? Run 'pinner --help' to see the options.",
        ),
        (
            ["check", "--format", "xml"],
            "--format must be one of text, json, github, sarif, not 'xml'.",
        ),
        (
            ["pin", "--format", "sarif"],
            "--format must be one of text, json, github, not 'sarif'.",
        ),
    ],
    ids=[
        "no-such-option",
        "bad-value",
        "out-of-range",
        "missing",
        "extra",
        "typo",
        "format",
        "pin-sarif",
    ],
)
def test_usage_errors_say_error_with_a_hint_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"error: {message}\n")


def test_the_real_entry_point_has_the_same_style(tmp_path: Path) -> None:
    result = run_module("pinner", "check", "--bogus", env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: No such option: --bogus")
    assert "╭" not in result.stderr and "Usage:" not in result.stderr


def test_bare_pinner_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("Usage: pinner [OPTIONS] COMMAND [ARGS]...")


# --- standard input from a terminal ------------------------------------------------------------


def run_on_a_terminal(args: list[str], typed: bytes) -> tuple[int, str]:
    """Run pinner with a pseudo-terminal as standard input, type ``typed``, and return the exit
    code and standard error."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pinner", *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(terminal)
    try:
        # Wait for the prompt before typing, as a person would.
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 30)
        assert ready, "pinner said nothing before reading the terminal"
        time.sleep(0.2)
        os.write(controller, typed)
        _, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
    return process.returncode, err.decode()


@pytest.mark.parametrize("command", ["check", "pin"])
def test_reading_standard_input_from_a_terminal_says_so(command: str, tmp_path: Path) -> None:
    (tmp_path / "digests.txt").write_text(f"nginx:1.27@sha256:{'a' * 64}\n")
    args = [command, "-"] if command == "check" else ["pin", "--digests", "digests.txt", "-"]
    # The manifest, then Ctrl-D at the start of a line: the end of input on a terminal.
    code, err = run_on_a_terminal(args, POD.encode() + b"\x04")
    assert err.startswith(
        "pinner: reading manifests from standard input; end with Ctrl-D (Ctrl-Z then Enter on "
        "Windows), or press Ctrl-C to stop.\n"
    )
    assert code == (1 if command == "check" else 0), err


def test_a_pipe_gets_no_prompt(capsys: pytest.CaptureFixture[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pinner", "check", "-"],
        input=POD,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "standard input" not in result.stderr

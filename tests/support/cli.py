"""pinner's command line run in the test's own process, as the ``pinner`` script runs it."""

from __future__ import annotations

import pytest

from pinner.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``pinner ARGS``: the exit code, stdout and stderr. A traceback in either is a crash,
    never an answer a test expects."""
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def without_summaries(err: str, *prefixes: str) -> list[str]:
    """The lines of ``err`` but the timed summary lines: those starting with one of
    ``prefixes``, by default any ``pinner COMMAND: ...`` line."""
    summary = prefixes or ("pinner ",)
    return [line for line in err.splitlines() if not line.startswith(summary)]

"""`--help`: every command has a one-line summary that fits the command list, and an example."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from pinner.cli import COMMAND_MODULES, main, register_commands
from pinner.cli.app import app

register_commands()  # a run registers only its own command; the tests want them all
# typer's group (typer vendors its own click): .commands maps each name to its command.
COMMANDS: Any = typer.main.get_command(app)
NAMES = sorted(COMMANDS.commands)
# `pinner --help` prints the list in an 80-column box: "│ name    " on the left, " │" on the right.
SUMMARY_WIDTH = 80 - len("│ ") - max(len(name) for name in NAMES) - len("  ") - len(" │")


def test_the_commands_are_listed() -> None:
    assert set(NAMES) == set(COMMAND_MODULES)


@pytest.mark.parametrize("name", NAMES)
def test_each_command_has_a_one_line_summary_and_an_example(name: str) -> None:
    command = COMMANDS.commands[name]
    summary = (command.help or "").strip().splitlines()[0]
    assert summary.endswith("."), name
    assert len(summary) <= SUMMARY_WIDTH, f"{name}: {summary!r} wraps in `pinner --help`"
    assert (command.epilog or "").startswith(("Example: pinner ", "Examples:")), name
    assert f"pinner {name}" in (command.epilog or ""), name


@pytest.mark.parametrize("name", NAMES)
def test_help_renders_the_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out
    assert out.count("pinner ") >= 2  # the usage line, and at least one example


def test_pinner_help_lists_each_command_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        summary = (COMMANDS.commands[name].help or "").strip().splitlines()[0]
        assert summary in out, name  # not wrapped across lines


# The commands that read manifests (files or standard input), and so take --max-file-size and
# --jobs (the processes that read a large tree).
READERS = ("check", "pin", "verify")


@pytest.mark.parametrize("name", NAMES)
def test_commands_that_read_manifests_take_max_file_size(name: str) -> None:
    options = {opt for param in COMMANDS.commands[name].params for opt in param.opts}
    assert ("--max-file-size" in options) == (name in READERS), name
    assert ("--jobs" in options) == (name in READERS), name
    if name in READERS:
        assert {"--exclude", "--config", "--no-config"} <= options, name

"""`--help`: every command has a one-line summary that fits the command list, and an example;
every page fits an 80-column terminal with each option name whole, in panels, about a screen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import typer

from pinner.cli import COMMAND_MODULES, main, register_commands
from pinner.cli.app import app

register_commands()  # a run registers only its own command; the tests want them all
# typer's group (typer vendors its own click): .commands maps each name to its command.
COMMANDS: Any = typer.main.get_command(app)
NAMES = sorted(COMMANDS.commands)
# `pinner --help` lists "  name  summary" in click's 78 columns (80 less its margin), and cuts a
# summary longer than 78 - 6 - the longest name.
SUMMARY_WIDTH = 78 - 6 - max(len(name) for name in NAMES)
# About a screen: the longest page (pin's) is 50 lines.
MAX_HELP_LINES = 52


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


def help_page(name: str | None, monkeypatch: pytest.MonkeyPatch, columns: int) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    args = [*name.split(), "--help"] if name else ["--help"]
    result = subprocess.run(
        [sys.executable, "-m", "pinner", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# Subcommands too: `pinner lock add`.
PAGES = [
    *NAMES,
    *(
        f"{name} {sub}"
        for name in NAMES
        for sub in getattr(COMMANDS.commands[name], "commands", {})
    ),
]


@pytest.mark.parametrize("name", [None, *PAGES])
def test_help_fits_80_columns_with_every_option_name_whole(
    name: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = help_page(name, monkeypatch, 80)
    lines = page.splitlines()
    assert max(len(line) for line in lines) <= 80, name
    assert len(lines) <= MAX_HELP_LINES, (name, len(lines))
    names = [line.strip().split("  ")[0] for line in lines if line.lstrip().startswith("-")]
    assert not [cut for cut in names if "…" in cut], name
    command = COMMANDS
    for part in (name or "").split():
        command = command.commands[part]
    for param in command.params:
        for option in (*param.opts, *param.secondary_opts):
            if option.startswith("-"):
                # The whole name, not a prefix of it cut short ("--insecure-regis…").
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", page), (name, option)


@pytest.mark.parametrize("name", ["pin", "verify", "check"])
def test_help_groups_options_in_panels(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    page = help_page(name, monkeypatch, 80)
    headings = [line for line in page.splitlines() if line and not line.startswith(" ")]
    assert {"Output:", "Files and settings:"} <= set(headings), headings
    if name != "check":
        assert "Registries:" in headings
    # Every option is declared in a panel: none is left to the catch-all but --help.
    options = page.split("Other options:\n", 1)[1].split("\n\n", 1)[0]
    assert options.split()[0] == "--help" and options.count("--") == 1


def test_a_narrow_terminal_still_cuts_no_name(monkeypatch: pytest.MonkeyPatch) -> None:
    page = help_page("pin", monkeypatch, 40)
    assert "--insecure-registry HOST[:PORT]" in page
    assert "--keep-tag / --no-keep-tag" in page

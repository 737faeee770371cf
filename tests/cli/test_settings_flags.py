"""Every settings flag reaches ``Settings``: ``command_settings`` reads click's parsed parameters
by the name of their ``Given`` field, so a parameter named otherwise would be dropped unseen."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from pinner.cli import register_commands
from pinner.cli.app import app
from pinner.cli.common import FLAG_VALUES
from pinner.config.file import Given

# The flags that are settings (the rest, --diff or --format, belong to one command's run).
SETTINGS_FLAGS = {
    "--exempt": "exempt",
    "--keep-tag": "keep_tag",
    "--platform": "platform",
    "--mirror": "mirrors",
    "--insecure-registry": "insecure_registries",
    "--gcloud-host": "gcloud_hosts",
    "--concurrency": "concurrency",
    "--exclude": "exclude",
    "--max-file-size": "max_file_size",
    "--jobs": "jobs",
    "--timeout": "timeout",
    "--helm-digest-in-tag": "helm_digest_in_tag",
}


def commands() -> list[tuple[str, Any]]:
    """Every command and subcommand, as click sees it (typer 0.28 bundles its own click)."""
    register_commands()
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, command))

    walk("", typer.main.get_command(app))
    return found


def test_every_flag_value_is_a_field_of_given() -> None:
    assert set(FLAG_VALUES) <= set(Given._fields)
    assert set(SETTINGS_FLAGS.values()) == set(FLAG_VALUES)


COMMANDS = commands()


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_settings_flags_are_named_as_their_setting(name: str, command: Any) -> None:
    for parameter in command.params:
        for flag in parameter.opts:
            if flag in SETTINGS_FLAGS:
                assert parameter.name == SETTINGS_FLAGS[flag], (name, flag)

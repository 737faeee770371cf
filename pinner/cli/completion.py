"""``pinner completion SHELL``: the script that makes the shell complete pinner's commands and
options, and the hook that answers the shell when it asks.

typer's completion machinery is imported only here, and only when it is needed (printing a
script, or the shell asking for completions): ``pinner check`` in a commit hook never pays for it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pinner.cli import COMPLETE_VAR
from pinner.cli.app import EXIT_OK, command, fail_usage, out

SHELLS = ("bash", "zsh", "fish")


def enable_completion() -> None:
    """Register typer's bash, zsh and fish completers, for a run the shell started to ask."""
    from typer.completion import completion_init  # type: ignore[attr-defined]

    completion_init()


def completion_script(shell: str) -> str:
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    script: str = get_completion_script(prog_name="pinner", complete_var=COMPLETE_VAR, shell=shell)
    return f"{script}\n"


@command(
    epilog="Examples:\n\n"
    "pinner completion bash > ~/.local/share/bash-completion/completions/pinner\n\n"
    'eval "$(pinner completion zsh)"',
)
def completion(
    shell: Annotated[
        str,
        typer.Argument(metavar="bash|zsh|fish", help="The shell to complete pinner in."),
    ],
) -> None:
    """Print a shell script that completes pinner's commands."""
    if shell not in SHELLS:
        raise fail_usage(f"completion takes one of {', '.join(SHELLS)}, not {shell!r}.")
    out(completion_script(shell))
    raise typer.Exit(EXIT_OK)

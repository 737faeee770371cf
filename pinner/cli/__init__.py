"""The command line: the only place that prints or exits.

Each command lives in its own module and registers itself on the shared typer ``app``. A run
imports only the module of the command it runs (all of them for ``--help`` or a typo), and
heavy modules (httpx and the registry client) are imported inside the commands that need them,
so a commit hook running ``pinner check`` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def no_collections(*, freeze: bool = False) -> Iterator[None]:
    """The cyclic garbage collector paused while modules are imported.

    What start-up imports (typer, ruamel.yaml, pinner) lives until pinner exits, and every
    collection the imports trigger walks all of it again: about a tenth of a commit hook's
    start-up, for nothing. ``freeze`` then leaves what exists out of later collections for good
    (done once, at import: a process that calls ``main`` many times, a test run, must not keep
    its garbage). The collector runs as usual once the imports are done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


with no_collections(freeze=True):
    import typer

    from pinner.cli.app import EXIT_ERROR, EXIT_INTERRUPTED, app, err, print_errors

# Set by the scripts `pinner completion SHELL` prints, when the shell asks for completions.
COMPLETE_VAR = "_PINNER_COMPLETE"
# Command name -> the module in pinner.cli that registers it.
COMMAND_MODULES = {
    "check": "check",
    "pin": "pin",
    "digest": "registry_commands",
    "verify": "verify",
    "tags": "tags",
    "policy": "policy",
    "lock": "lock",
    "completion": "completion",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run pinner with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args[:1] != ["--version"]:  # the version needs no command: import none for it
        with no_collections():
            register_commands(args[0] if args else None)
    if COMPLETE_VAR in os.environ:  # the shell asks what to complete (pinner completion SHELL)
        from pinner.cli.completion import enable_completion

        enable_completion()
    try:
        # Not standalone: click's own usage errors come back here, to be said in pinner's style.
        code = app(args=args, prog_name="pinner", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors: no such option, a bad value
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `pinner`: its message is the help
            err(exc.format_message())
        else:
            print_errors([usage_message(exc)])
        return EXIT_ERROR
    except typer.Abort:
        err("")  # end the line the terminal was on
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # shell completion exits on its own
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    return code if isinstance(code, int) else 0


def usage_message(error: typer.TyperException) -> str:
    """click's message as a sentence, with the hint to the command's help."""
    message = error.format_message()
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "pinner"
    end = "" if message.endswith((".", "?")) else "."
    return f"{message}{end} Run '{command} --help' to see the options."


def register_commands(command: str | None = None) -> None:
    """Import the module of ``command``, or of every command when it is not one."""
    module = COMMAND_MODULES.get(command or "")
    for name in [module] if module else dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(f"pinner.cli.{name}")

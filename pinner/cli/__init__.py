"""The command line: the only place that prints or exits.

Each command lives in its own module and registers itself on the shared typer ``app``. A run
imports only the module of the command it runs (all of them for ``--help`` or a typo), and
heavy modules (httpx and the registry client) are imported inside the commands that need them,
so a commit hook running ``pinner check`` starts fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from pinner.cli.app import app

# Command name -> the module in pinner.cli that registers it.
COMMAND_MODULES = {
    "check": "check",
    "pin": "pin",
    "digest": "registry_commands",
    "verify": "verify",
    "tags": "tags",
    "policy": "policy",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run pinner with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args[:1] != ["--version"]:  # the version needs no command: import none for it
        register_commands(args[0] if args else None)
    try:
        app(args=args, prog_name="pinner")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 2
    return 0


def register_commands(command: str | None = None) -> None:
    """Import the module of ``command``, or of every command when it is not one."""
    module = COMMAND_MODULES.get(command or "")
    for name in [module] if module else dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(f"pinner.cli.{name}")

"""The command line: the only place that prints or exits.

Each command lives in its own module and registers itself on the shared typer ``app``. Heavy
modules (httpx and the registry client) are imported inside the commands that need them, so a
commit hook running ``pinner check`` starts fast.
"""

from __future__ import annotations

from collections.abc import Sequence

from pinner.cli import (  # noqa: F401  (they register commands)
    check,
    pin,
    policy,
    registry_commands,
    tags,
    verify,
)
from pinner.cli.app import app


def main(argv: Sequence[str] | None = None) -> int:
    """Run pinner with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="pinner")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 2
    return 0

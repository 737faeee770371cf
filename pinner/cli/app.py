"""The typer application, exit codes, the output helpers, and the one reporting tail (``finish``)
every command that reads manifests ends with."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO, TypeVar

import typer

from pinner import untrusted
from pinner.cli.help import PinnerCommand
from pinner.errors import Diagnostic, PinnerError
from pinner.formats import FORMATS

EXIT_OK = 0
EXIT_CHANGES = 1  # files changed (or would), violations, drift
EXIT_ERROR = 2  # pinner could not do its job
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT
RED = "\033[31m"
YELLOW = "\033[33m"
RESET = "\033[0m"

app = typer.Typer(
    name="pinner",
    help="Pin every container image in Kubernetes manifests to an immutable digest.",
    add_completion=False,
    no_args_is_help=True,
    # Plain click help, panels and all (pinner.cli.help): rich's tables cut names at 80 columns.
    rich_markup_mode=None,
    # Locals in a traceback could hold credentials: never show them.
    pretty_exceptions_show_locals=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from pinner import __version__  # the distribution's version: pyproject reads it here

        out(f"pinner {__version__}\n")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _commands(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print pinner's version and exit.",
    ),
) -> None:
    # A run registers only the command it runs; the callback keeps `pinner CMD` a command
    # group even when that is the only one typer sees.
    pass


Command = TypeVar("Command", bound=Callable[..., Any])


def command(**settings: Any) -> Callable[[Command], Command]:
    """``app.command``, with pinner's help layout."""
    return app.command(cls=PinnerCommand, **settings)


def fail_usage(message: str) -> typer.Exit:
    print_errors([message])
    return typer.Exit(EXIT_ERROR)


@contextmanager
def user_errors(*cleanup: Callable[[], None]) -> Iterator[None]:
    """A PinnerError raised inside is printed, after ``cleanup``, and pinner exits 2 with no
    traceback: it is a mistake the user can fix, not a bug."""
    try:
        yield
    except PinnerError as exc:
        for step in cleanup:
            step()
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None


def check_format(output_format: str, formats: Sequence[str] = FORMATS) -> None:
    if output_format not in formats:
        raise fail_usage(f"--format must be one of {', '.join(formats)}, not {output_format!r}.")


def err(text: str, *, prefix: str = "") -> None:
    """One message on standard error: nothing in it can move the cursor, start a line of its own
    (but pinner's indented continuations) or show a credential. ``prefix`` is pinner's own
    (colour codes allowed)."""
    sys.stderr.write(prefix + "".join(f"{line}\n" for line in untrusted.message_lines(text)))
    sys.stderr.flush()


def err_report(text: str) -> None:
    """A report on standard error (where ``pin --diff`` sends it), made safe as ``out`` does."""
    sys.stderr.write(untrusted.lines(text))
    sys.stderr.flush()


def out(text: str) -> None:
    """Report text on standard output, line by line made safe (see :mod:`pinner.untrusted`)."""
    sys.stdout.write(untrusted.lines(text))
    sys.stdout.flush()


def colour_enabled(stream: TextIO) -> bool:
    """Colour for a person at a terminal; never with NO_COLOR set (to any value, even empty)."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def paint(text: str, colour: str, stream: TextIO) -> str:
    return f"{colour}{text}{RESET}" if colour_enabled(stream) else text


def print_errors(messages: Iterable[str]) -> None:
    for message in messages:
        err(message, prefix=f"{paint('error:', RED, sys.stderr)} ")


def print_notices(messages: Iterable[str]) -> None:
    for message in messages:
        err(message, prefix=f"{paint('notice:', YELLOW, sys.stderr)} ")


def exit_code(errors: Sequence[object], problems: bool) -> int:
    """2 if pinner could not do all of its job, else 1 if it found (or made) changes, else 0."""
    return max(EXIT_ERROR if errors else EXIT_OK, EXIT_CHANGES if problems else EXIT_OK)


def finish(
    report: str,
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
    summary: str,
    code: int,
    *,
    output_format: str,
    quiet: bool,
    show: Callable[[str], None] = out,
) -> NoReturn:
    """Print a command's report, then (as text) its errors and notices, then its summary line on
    standard error, and exit with ``code``. ``--quiet`` keeps errors and the report only."""
    if report or output_format != "text":
        show(report)
    if output_format == "text":
        print_errors(error.message for error in errors)
        if not quiet:
            print_notices(notice.message for notice in notices)
    if not quiet:
        err(summary)
    raise typer.Exit(code)

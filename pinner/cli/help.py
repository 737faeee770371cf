"""``--help`` as plain text that fits an 80-column terminal, options grouped into panels.

typer's rich help puts each option's long name, negative name, metavar and help into separate
table columns; at 80 columns the help was squeezed to 19 characters and names were cut
(``--insecure-regis…``). click's definition list keeps each name whole (a long one puts its help
on the next line), and the panels come from each option's ``rich_help_panel``. It also keeps
rich, which is slow to import, out of ``--help``.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from typer.core import TyperCommand

# Options given no panel, and typer's own --help, are listed last under this heading.
DEFAULT_PANEL = "Other options"
# The widest name column before an option's help moves to the line below its name.
NAME_COLUMN = 31
RANGE_NOTE = re.compile(r"\s*\[[\d.]*(<=?)?x(<=?[\d.]+|>=?[\d.]+)?\]$")


class PinnerCommand(TyperCommand):
    """A command whose ``--help`` lists its options panel by panel, and its examples verbatim."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments: list[tuple[str, str]] = []
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            # click's "[1<=x<=64]": an out-of-range value's error says it; help has no room.
            record = (record[0], RANGE_NOTE.sub("", record[1]))
            if param.param_type_name == "argument":
                arguments.append(record)
            else:
                panel = getattr(param, "rich_help_panel", None) or DEFAULT_PANEL
                panels.setdefault(panel, []).append(record)
        sections = [("Arguments", arguments)] if arguments else []
        # The panels in the order their first option is declared; the catch-all last.
        if DEFAULT_PANEL in panels:
            panels[DEFAULT_PANEL] = panels.pop(DEFAULT_PANEL)
        sections += panels.items()
        # One name column for every panel, so the help texts line up down the page.
        width = min(max(len(name) for _, rows in sections for name, _ in rows), NAME_COLUMN)
        for heading, rows in sections:
            with formatter.section(heading):
                write_rows(formatter, rows, width)

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        # Examples are commands to copy: never rewrapped. Paragraphs are separated by a blank line.
        if not self.epilog:
            return
        heading, _, body = self.epilog.partition("\n\n")
        formatter.write_paragraph()
        if not body:  # "Example: pinner ..." on one line
            formatter.write_text(heading)
            return
        formatter.write_text(heading)
        with formatter.indentation():
            for line in body.split("\n\n"):
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


def write_rows(formatter: Any, rows: list[tuple[str, str]], width: int) -> None:
    """click's definition list, with the name column ``width`` wide whatever the rows hold."""
    indent = " " * formatter.current_indent
    text_width = max(formatter.width - formatter.current_indent - width - 2, 20)
    for name, text in rows:
        lines = textwrap.wrap(text, text_width) or [""]
        if len(name) > width:  # a long name keeps its whole line; the help starts below it
            formatter.write(f"{indent}{name}\n")
            first = f"{indent}{'':{width}}  {lines[0]}"
        else:
            first = f"{indent}{name:{width}}  {lines[0]}"
        formatter.write(f"{first.rstrip()}\n")
        for line in lines[1:]:
            formatter.write(f"{indent}{'':{width}}  {line}\n")

"""Exactly where a found scalar is written in the text, and whether it can be spliced there.

The parser gives marks (line, column); pinner splices offsets, in the text with its BOMs
(``yamlnodes.LineIndex`` maps one to the other). A span starts after any anchor or tag before the
scalar, and is spliceable only if its text is exactly the value in its quotes: otherwise the
site carries the reason (``problem``) and pinner reports it instead of guessing.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pinner.manifests.yamlnodes import LINE_BREAK_RE, MISPLACED, LineIndex, Node, ScalarNode

# An anchor (&name) or tag (!tag) that precedes a scalar inside its node span, and the comment
# that may follow them when the scalar starts on the next line.
_NODE_PROPERTIES_RE = re.compile(r"(?:(?:[&!]\S*|#[^\r\n\x85\u2028\u2029]*)\s+)*")


class Span(NamedTuple):
    start: int  # offset of the scalar text (quotes included), after any anchor or tag
    end: int
    line: int  # 1-based, of the text at ``start``
    column: int  # 1-based
    quote: str  # "", "'" or '"'
    anchored: bool  # written with an &anchor
    problem: str | None  # why the text cannot be spliced exactly, if it cannot


def node_span(lines: LineIndex, node: Node) -> tuple[int, int, bool]:
    """The node's ``(start, end)`` offsets, and whether they are only the parser's guess."""
    start = lines.offset(node.start_mark)
    end = lines.offset(node.end_mark)
    if start is None or end is None:
        # The parser's line and column do not lead to its offset: where the scalar is
        # written is not known for sure, so it is reported, and never spliced.
        index = int(node.start_mark.index)
        return index, index, True
    return start, end, False


def scalar_span(text: str, lines: LineIndex, node: ScalarNode) -> Span:
    node_start, end, misplaced = node_span(lines, node)
    # libyaml starts an anchored or tagged scalar's span at its "&anchor" or "!tag".
    properties = _NODE_PROPERTIES_RE.match(text, node_start, end)
    start = properties.end() if properties is not None else node_start
    line = node.start_mark.line + 1
    column = node.start_mark.column + 1 + (start - node_start)
    breaks = list(LINE_BREAK_RE.finditer(text, node_start, start))
    if breaks:
        line += len(breaks)
        column = start - breaks[-1].end() + 1
    quote = node.style if node.style in ("'", '"') else ""
    anchored = properties is not None and "&" in properties.group()
    problem = MISPLACED if misplaced else splice_problem(text[start:end], node.value, node.style)
    return Span(start, end, line, column, quote, anchored, problem)


def splice_problem(written: str, value: str, style: str | None) -> str | None:
    """Why the written scalar is not exactly ``value`` in its quotes, or None if it is."""
    if style in ("|", ">"):
        return "it is a block scalar (| or >)"
    if style == '"':
        if "\\" in written:
            return "it uses escape sequences"
        expected = f'"{value}"'
    elif style == "'":
        expected = "'" + value.replace("'", "''") + "'"
    else:
        expected = value
    if written != expected:
        return "it spans several lines or is not written as YAML reads it"
    return None

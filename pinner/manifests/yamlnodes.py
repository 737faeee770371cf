"""Compose YAML into position-carrying nodes with libyaml, and map node marks to text offsets.

pinner never loads YAML into Python objects and never dumps it: it composes node trees with
ruamel.yaml's C parser (about 30x faster than the round-trip loader on real manifests) only to
learn where each scalar sits in the text. The text itself is spliced elsewhere.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any

from _ruamel_yaml import CParser
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, StreamMark
from ruamel.yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tag import Tag

__all__ = [
    "LINE_BREAK_RE",
    "LineIndex",
    "MappingNode",
    "MarkedYAMLError",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "check_depth",
    "compose_documents",
    "invalid_yaml",
    "iter_documents",
    "strip_document_boms",
]

# The line breaks libyaml counts in a mark's line (YAML 1.1's); ruamel's pure-Python reader
# counts only the first three (YAML 1.2's), though both end a line's tokens at all six.
LINE_BREAK_RE = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")
_YAML12_BREAK_RE = re.compile("\r\n|\r|\n")
_UNUSUAL_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
# Where libyaml 0.1.7 refuses what YAML 1.2 allows, the pure-Python parser reads the text instead:
# `a:b` in a flow collection, and an anchor name used twice (a later one replaces the earlier).
_LIBYAML_FALLBACKS = ("found unexpected ':'", "found duplicate anchor; first occurrence")
_BOM = "\ufeff"
# A document marker line (--- or ..., perhaps with a comment), or a directive.
_MARKER_LINE_RE = re.compile(r"(?:---|\.\.\.)(?:[ \t].*)?\r?$|%")
# Collections nested deeper than this are refused before composing: libyaml's composer recurses in
# C once per level and overflows the stack (the process dies) at some 20,000 levels, and the
# pure-Python composer raises RecursionError at a few hundred. Real manifests nest a few dozen deep.
MAX_DEPTH = 1000


_NO_TAG = Tag(suffix="")


class _Composer(CParser):  # type: ignore[misc]
    """libyaml's composer with tag resolution switched off: pinner reads only positions."""

    def descend_resolver(self, *args: Any) -> None:
        pass

    def ascend_resolver(self, *args: Any) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
        return _NO_TAG  # one shared Tag: a node made with a string builds a Tag of its own


def invalid_yaml(exc: MarkedYAMLError, display: str) -> str:
    """``file:line: invalid YAML: <problem>``, for a manifest and a configuration file alike;
    the caller adds its hint."""
    mark = exc.problem_mark or exc.context_mark
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    start = exc.context_mark
    if exc.problem and exc.context and start and mark and start.line != mark.line:
        # An unclosed bracket or quote fails at the end of the file: say where it opened.
        problem += f" ({exc.context.strip()} that starts on line {start.line + 1})"
    return f"{display}{line}: invalid YAML: {problem}"


def compose_documents(text: str, *, depth_checked: bool = False) -> list[Node]:
    """The root node of each document; raises MarkedYAMLError on invalid YAML.

    ``depth_checked``: ``check_depth`` already passed on this text or on one it was cut from.

    The libyaml bundled with ruamel.yaml.clib (0.1.7) rejects a colon inside a plain scalar in a
    flow collection, as in ``{name: web, image: nginx:1.25}``, which YAML 1.2 and kubectl accept.
    Such a file is composed again with ruamel.yaml's pure-Python parser (slower, but only then).

    Collections nested more than ``MAX_DEPTH`` levels deep, and characters YAML does not allow
    (control characters), are MarkedYAMLErrors too.
    """
    return list(iter_documents(text, depth_checked=depth_checked))


def iter_documents(text: str, *, depth_checked: bool = False) -> Iterator[Node]:
    """``compose_documents`` one document at a time: only the one being read is in memory."""
    try:
        yield from _compose(text, depth_checked)
    except ReaderError as exc:  # libyaml's reader refuses the character before parsing it
        position = int(exc.position)
        line = text.count("\n", 0, position)
        column = position - (text.rfind("\n", 0, position) + 1)
        raise MarkedYAMLError(
            problem=f"character #x{int(exc.character):04x} is not allowed in YAML ({exc.reason})",
            problem_mark=StreamMark("<text>", position, line, column),
        ) from None


def _compose(text: str, depth_checked: bool) -> Iterator[Node]:
    if not depth_checked:
        check_depth(text)
    done = 0
    try:
        for node in _compose_with_libyaml(text):
            yield node
            done += 1
        return
    except MarkedYAMLError as exc:
        if exc.problem not in _LIBYAML_FALLBACKS and exc.context not in _LIBYAML_FALLBACKS:
            raise
    try:
        with warnings.catch_warnings():
            # The YAML spec allows a reused anchor: it is not worth a raw warning on stderr.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            documents = list(YAML(typ="safe", pure=True).compose_all(text))
    except RecursionError:  # the pure-Python composer recurses once per level (see MAX_DEPTH)
        raise MarkedYAMLError(problem="collections are nested too deeply") from None
    yield from documents[done:]  # the ones libyaml read before it stumbled were given already


def check_depth(text: str) -> None:
    """Raise MarkedYAMLError where collections nest more than ``MAX_DEPTH`` levels deep.

    Run it before any libyaml parse of untrusted text: libyaml's scanner also slows down with the
    square of the flow nesting depth (100,000 ``[`` take half a minute to parse).

    Only flow brackets and block indentation nest, and a block level takes at least half a column
    of indentation (``- `` or deeper spaces), so most texts are cleared without parsing them.
    """
    flow = text.count("[") + text.count("{")
    indent = (MAX_DEPTH - flow) // 2 - 2
    # "\n" rather than "^" with MULTILINE: the regex engine then jumps from newline to newline.
    if indent > 0 and re.search(rf"\n[ \t?:-]{{{indent}}}", "\n" + text) is None:
        return
    parser = CParser(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    break
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
        else:
            return
    except (MarkedYAMLError, ReaderError):
        return  # invalid before it got too deep: composing reports the error
    raise MarkedYAMLError(
        problem=f"collections are nested more than {MAX_DEPTH} levels deep",
        problem_mark=event.start_mark,
    )


def _compose_with_libyaml(text: str) -> Iterator[Node]:
    composer = _Composer(text)
    while composer.check_node():
        yield composer.get_node()


def strip_document_boms(text: str) -> tuple[str, list[int]]:
    """``text`` without the byte order marks that begin a later document, and where each was.

    YAML allows a BOM before each document of a stream (``cat`` of files saved by Windows
    editors makes one); libyaml refuses one directly before content. The positions (in the
    returned text) let ``LineIndex`` map offsets back to ``text``.
    """
    if _BOM not in text:
        return text, []
    pieces: list[str] = []
    removed: list[int] = []
    tail = 0
    for match in re.finditer(f"(?m)^{_BOM}", text):
        position = match.start()
        line_start = text.rfind("\n", 0, max(position - 1, 0)) + 1
        previous_line = text[line_start:position].rstrip("\r\n")
        after = text[position + 1 : position + 4]
        if not (
            position == 0
            or _MARKER_LINE_RE.match(previous_line)
            or after in ("---", "...")
            or after.startswith("%")
        ):
            continue  # inside a document: the parser judges it
        pieces.append(text[tail:position])
        removed.append(position - len(removed))
        tail = position + 1
    pieces.append(text[tail:])
    return "".join(pieces), removed


# Why a scalar whose marks do not agree with the text is reported and never spliced.
MISPLACED = (
    "pinner cannot tell exactly where it is written (the YAML parser's line breaks "
    "differ from the file's)"
)


class LineIndex:
    """Turns a parser's mark (line, column, index) into an offset in the original text.

    Both parsers give the character offset as ``index``; where the text has line breaks the two
    count differently (``LINE_BREAK_RE``), the mark's line and column, counted the way that
    parser counts them, must lead to the same offset, or the mark is not trusted (None): a
    splice there would land somewhere else than the scalar the parser read.

    ``removed``: positions where ``strip_document_boms`` took a BOM out of the parsed text.
    """

    def __init__(self, text: str, removed: Sequence[int] = ()) -> None:
        self._text = text
        self._simple = not any(brk in text for brk in _UNUSUAL_BREAKS)
        self._removed = list(removed)
        self._line_starts: dict[bool, list[int]] = {}

    def offset(self, mark: Any) -> int | None:
        """The text offset of a parser mark, or None when its line and column do not lead to
        it (the parser counted line breaks differently): then nothing may be spliced there."""
        index = int(mark.index)
        if not self._simple:
            starts = self._starts(yaml12=isinstance(mark, StreamMark))
            line = int(mark.line)
            if line >= len(starts) or starts[line] + int(mark.column) != index:
                return None
        return index + bisect_right(self._removed, index) if self._removed else index

    def _starts(self, *, yaml12: bool) -> list[int]:
        """Where each line starts, as libyaml (``yaml12=False``) or ruamel's reader counts."""
        known = self._line_starts.get(yaml12)
        if known is None:
            breaks = _YAML12_BREAK_RE if yaml12 else LINE_BREAK_RE
            known = [0] + [match.end() for match in breaks.finditer(self._text)]
            self._line_starts[yaml12] = known
        return known

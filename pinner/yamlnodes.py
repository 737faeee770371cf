"""Compose YAML into position-carrying nodes with libyaml, and map node marks to text offsets.

pinner never loads YAML into Python objects and never dumps it: it composes node trees with
ruamel.yaml's C parser (about 30x faster than the round-trip loader on real manifests) only to
learn where each scalar sits in the text. The text itself is spliced elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from _ruamel_yaml import CParser
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

__all__ = [
    "LINE_BREAK_RE",
    "LineIndex",
    "MappingNode",
    "MarkedYAMLError",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "compose_documents",
]

# libyaml treats these as line breaks (YAML 1.1), and counts CRLF as one character in
# Mark.index; so when any of them is present we compute offsets from line and column instead.
LINE_BREAK_RE = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")
_UNUSUAL_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
# libyaml 0.1.7's only complaint about `a:b` in a flow collection, which newer YAML allows.
_LIBYAML_FLOW_COLON = "found unexpected ':'"


_NO_TAG = Tag(suffix="")


class _Composer(CParser):  # type: ignore[misc]
    """libyaml's composer with tag resolution switched off: pinner reads only positions."""

    def descend_resolver(self, *args: Any) -> None:
        pass

    def ascend_resolver(self, *args: Any) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
        return _NO_TAG  # one shared Tag: a node made with a string builds a Tag of its own


def compose_documents(text: str) -> list[Node]:
    """The root node of each document; raises MarkedYAMLError on invalid YAML.

    The libyaml bundled with ruamel.yaml.clib (0.1.7) rejects a colon inside a plain scalar in a
    flow collection, as in ``{name: web, image: nginx:1.25}``, which YAML 1.2 and kubectl accept.
    Such a file is composed again with ruamel.yaml's pure-Python parser (slower, but only then).
    """
    try:
        return list(_compose_with_libyaml(text))
    except MarkedYAMLError as exc:
        if exc.problem != _LIBYAML_FLOW_COLON:
            raise
    return list(YAML(typ="safe", pure=True).compose_all(text))


def _compose_with_libyaml(text: str) -> Iterator[Node]:
    composer = _Composer(text)
    while composer.check_node():
        yield composer.get_node()


class LineIndex:
    """Turns a libyaml mark (line, column, index) into an offset in the original text."""

    def __init__(self, text: str) -> None:
        self._simple = not any(brk in text for brk in _UNUSUAL_BREAKS)
        self._line_starts: list[int] = []
        if not self._simple:
            self._line_starts = [0] + [m.end() for m in LINE_BREAK_RE.finditer(text)]

    def offset(self, mark: Any) -> int:
        if self._simple:
            return int(mark.index)
        return self._line_starts[int(mark.line)] + int(mark.column)

"""Add a key to a YAML mapping in the text, written the way the mapping's own keys are written.

pinner never dumps YAML, so a new key (a kustomize ``images`` entry's ``digest``, a Helm values
``digest``) is spliced into the text: in a block mapping as a new line after the last key's line,
indented like the keys, ending as the file's lines end; in a flow mapping as ``, key: value``
after the last value. The key is quoted as the last key is. Where that cannot be done exactly
(the last value is a block scalar or spans lines, the mapping uses a merge key), ``NoKeySlot``
says why: pinner does not guess.
"""

from __future__ import annotations

from typing import NamedTuple

from pinner.manifests.mappings import MERGE_KEY
from pinner.manifests.yamlnodes import (
    LINE_BREAK_RE,
    MISPLACED,
    LineIndex,
    MappingNode,
    ScalarNode,
)


class NoKeySlot(ValueError):
    """The mapping cannot take a new key exactly; the message says why."""


class KeySlot(NamedTuple):
    """Where a new key goes: ``text[offset:offset]`` becomes ``before + value + after``."""

    offset: int
    before: str  # the separator or line start, the indentation, the key and ": "
    after: str  # the line end, when the key is a new last line of a block mapping


def key_slot(text: str, lines: LineIndex, mapping: MappingNode, key: str) -> KeySlot:
    """The slot for a new ``key`` after the last entry of ``mapping``; raises NoKeySlot.

    ``value`` (what the caller writes between ``before`` and ``after``) must be a one-line
    scalar, quoted by the caller if it needs quotes.
    """
    if not mapping.value:
        raise NoKeySlot("the mapping is empty")
    for key_node, _ in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == MERGE_KEY and not key_node.style:
            raise NoKeySlot("it uses a merge key (<<)")
    last_key, last_value = mapping.value[-1]
    if not isinstance(last_key, ScalarNode) or not isinstance(last_value, ScalarNode):
        raise NoKeySlot("its last value is not a plain string")
    if last_value.style in ("|", ">") or last_value.start_mark.line != last_value.end_mark.line:
        raise NoKeySlot("its last value spans several lines")
    # An alias (*name) is the node it names, which sits where the anchor is, before this key:
    # the new key would land there.
    before = mapping.value[-2][1].end_mark if len(mapping.value) > 1 else mapping.start_mark
    key_at, value_at = lines.offset(last_key.start_mark), lines.offset(last_value.start_mark)
    before_at, end = lines.offset(before), lines.offset(last_value.end_mark)
    if key_at is None or value_at is None or before_at is None or end is None:
        raise NoKeySlot(MISPLACED)
    if not before_at <= key_at < value_at:
        raise NoKeySlot("its last key or value is an alias")
    quote = last_key.style if last_key.style in ("'", '"') else ""
    written = f"{quote}{key}{quote}: "
    if mapping.flow_style:
        return KeySlot(end, f", {written}", "")
    first_key = mapping.value[0][0]
    indent = " " * int(first_key.start_mark.column)
    line_end = LINE_BREAK_RE.search(text, end)
    if line_end is None:  # the last line of a file with no final line break: keep it so
        return KeySlot(len(text), f"{line_break(text)}{indent}{written}", "")
    return KeySlot(line_end.end(), f"{indent}{written}", line_end.group())


def line_break(text: str) -> str:
    """The text's first line break, so a new line ends as the others do ("\\n" if none)."""
    found = LINE_BREAK_RE.search(text)
    return found.group() if found is not None else "\n"

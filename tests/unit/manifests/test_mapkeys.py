"""mapkeys: a new key goes into a mapping as the mapping's own keys are written, or not at all."""

from __future__ import annotations

import pytest

from pinner.manifests.mapkeys import KeySlot, NoKeySlot, key_slot, line_break
from pinner.manifests.yamlnodes import LineIndex, MappingNode, compose_documents


def first_mapping(text: str) -> MappingNode:
    """The first mapping of the first document's first sequence item, or the root itself."""
    root = compose_documents(text)[0]
    assert isinstance(root, MappingNode)
    value = root.value[0][1]
    if not isinstance(value, MappingNode) and hasattr(value, "value") and value.value:
        item = value.value[0]
        if isinstance(item, MappingNode):
            return item
    return root


def insert(text: str, value: str = "x") -> str:
    slot = key_slot(text, LineIndex(text), first_mapping(text), "digest")
    return text[: slot.offset] + slot.before + value + slot.after + text[slot.offset :]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Block: a new line after the last key's line, indented like the keys.
        (
            "a:\n  - name: n\n    tag: t\nb: 1\n",
            "a:\n  - name: n\n    tag: t\n    digest: x\nb: 1\n",
        ),
        # A comment on the last line stays on it; the comment lines after it stay after the key.
        (
            "a:\n- name: n\n  tag: t  # c\n# next\n- name: m\n",
            "a:\n- name: n\n  tag: t  # c\n  digest: x\n# next\n- name: m\n",
        ),
        # CRLF line ends, and no final line break: the new line ends as the others do.
        ("a:\r\n- name: n\r\n  tag: t\r\n", "a:\r\n- name: n\r\n  tag: t\r\n  digest: x\r\n"),
        ("a:\r\n- name: n\r\n  tag: t", "a:\r\n- name: n\r\n  tag: t\r\n  digest: x"),
        # Quoted keys are answered with a quoted key.
        ('a:\n- "name": n\n  "tag": t\n', 'a:\n- "name": n\n  "tag": t\n  "digest": x\n'),
        # Flow: after the last value, before the spaces, a trailing comma and the brace.
        ("a:\n- {name: n, tag: t}\n", "a:\n- {name: n, tag: t, digest: x}\n"),
        ("a:\n- { name: n, tag: t , }\n", "a:\n- { name: n, tag: t, digest: x , }\n"),
        ("a: [{'name': n}]\n", "a: [{'name': n, 'digest': x}]\n"),
        ("a:\n- {name: n,\n   tag: t}\n", "a:\n- {name: n,\n   tag: t, digest: x}\n"),
    ],
)
def test_new_key_in_the_mappings_style(text: str, expected: str) -> None:
    assert insert(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a:\n- name: n\n  tag: |\n    t\n", "spans several lines"),
        ("a:\n- name: n\n  tag: 't\n    u'\n", "spans several lines"),
        ("a:\n- name: n\n  tag:\n    deep: 1\n", "not a plain string"),
        ("b: &b {x: 1}\na:\n- name: n\n  <<: *b\n", "merge key"),
        # The alias is the anchored node, which sits elsewhere: the key would land there.
        ("b: &t '1'\na:\n- name: n\n  tag: *t\n", "alias"),
    ],
)
def test_refuses_what_it_cannot_do_exactly(text: str, reason: str) -> None:
    root = compose_documents(text)[0]
    assert isinstance(root, MappingNode)
    entries = dict((key.value, value) for key, value in root.value)
    mapping = entries["a"].value[0]
    with pytest.raises(NoKeySlot, match=reason):
        key_slot(text, LineIndex(text), mapping, "digest")


def test_an_empty_mapping_is_refused() -> None:
    text = "a: {}\n"
    root = compose_documents(text)[0]
    assert isinstance(root, MappingNode)
    with pytest.raises(NoKeySlot, match="empty"):
        key_slot(text, LineIndex(text), root.value[0][1], "digest")


def test_slot_is_a_plain_record() -> None:
    text = "name: n\n"
    assert key_slot(text, LineIndex(text), first_mapping(text), "k") == KeySlot(8, "k: ", "\n")
    assert line_break("a\r\nb\n") == "\r\n"
    assert line_break("no break") == "\n"

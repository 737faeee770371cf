"""Checks, independent of pinner's own code, that pinning a kustomization added digest keys only.

The text with every new ``digest`` key taken out (a block line and the line break before it, or
a flow ``, digest: ...``) must be the old text exactly; and the data must be the old data with a
``digest`` added to ``images`` entries that set a ``newTag`` and had none.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml import YAML

_KEY = r"""(?P<k>["']?)digest(?P=k): (?P<v>["']?)sha256:[0-9a-f]{64}(?P=v)"""
_BLOCK_KEY_RE = re.compile(rf"(?:\r\n|\n)[ ]+{_KEY}(?=\r?\n|$)")
_FLOW_KEY_RE = re.compile(rf", {_KEY}")


def without_new_digest_keys(text: str) -> str:
    return _FLOW_KEY_RE.sub("", _BLOCK_KEY_RE.sub("", text))


def assert_only_digest_keys_added(old: str, new: str, where: object) -> None:
    assert new != old, where
    assert without_new_digest_keys(new) == old, where
    yaml = YAML(typ="safe", pure=True)
    old_docs, new_docs = list(yaml.load_all(old)), list(yaml.load_all(new))
    assert len(old_docs) == len(new_docs), where
    for old_doc, new_doc in zip(old_docs, new_docs, strict=True):
        assert _strip_added(old_doc, new_doc, where) == old_doc, where


def _strip_added(old_doc: Any, new_doc: Any, where: object) -> Any:
    """``new_doc`` without the digest keys it gained in its images entries."""
    if not isinstance(new_doc, dict) or not isinstance(new_doc.get("images"), list):
        return new_doc
    old_entries = old_doc.get("images") or []
    entries = []
    for old_entry, entry in zip(old_entries, new_doc["images"], strict=True):
        if "digest" in entry and "digest" not in old_entry:
            assert "newTag" in entry, where  # only entries that set a tag are pinned
            entry = {key: value for key, value in entry.items() if key != "digest"}
        entries.append(entry)
    return {**new_doc, "images": entries}

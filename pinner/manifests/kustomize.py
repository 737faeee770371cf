"""Kustomizations: their ``images:`` entries as image sites, and what they include.

A kustomization is a file named ``kustomization.yaml``, ``kustomization.yml`` or
``Kustomization`` (what kustomize itself loads from a folder), or a document of kind
``Kustomization`` or ``Component`` in ``kustomize.config.k8s.io``.

An ``images:`` entry with a ``newTag`` or a ``digest`` sets the image kustomize renders
(``newName`` or else ``name``, with the tag and digest); it is an image site of kind
``Kustomization`` and field ``images``, at the entry's line and column. Pinning it writes the
digest into the entry's ``digest`` key, added in the entry's own style if it is missing; the
``newTag`` stays, and kustomize (v5) renders ``name:tag@sha256:...``. An entry with only a
``newName`` takes the tag (and digest) from the resources: it is no site (see
``pinner.manifests.kustomize_graph``). No network, no writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

from pinner.errors import ManifestError
from pinner.manifests.mapkeys import NoKeySlot, key_slot
from pinner.manifests.sites import DigestSlot, ImageSite
from pinner.manifests.spans import splice_problem
from pinner.manifests.yamlnodes import (
    MISPLACED,
    LineIndex,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    iter_documents,
)

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
API_GROUP = "kustomize.config.k8s.io"
KINDS = ("Kustomization", "Component")
ENTRY_KEYS = ("name", "newName", "newTag", "digest")
FIELD = "images"
# The lists whose local paths kustomize reads: ``bases`` is the older spelling of resources.
INCLUDE_FIELDS = ("resources", "components", "bases")


class Include(NamedTuple):
    """One path a kustomization lists under resources, components or bases."""

    field: str
    path: str  # as written: relative to the kustomization's folder, or a URL
    line: int


class ImageEntry(NamedTuple):
    """One ``images:`` entry, as kustomize reads it."""

    name: str
    new_name: str
    new_tag: str
    digest: str
    line: int
    column: int

    @property
    def sets_tag(self) -> bool:
        """Whether kustomize replaces the resource's tag and digest with the entry's."""
        return bool(self.new_tag or self.digest)


class Kustomization(NamedTuple):
    path: str
    kind: str
    entries: tuple[ImageEntry, ...]
    includes: tuple[Include, ...]


def is_kustomization_name(path: str) -> bool:
    return os.path.basename(path) in FILE_NAMES


def may_hold_kustomization(text: str, path: str) -> bool:
    """A cheap test before composing: the file's name, or the API group in its text."""
    return is_kustomization_name(path) or API_GROUP in text


def read_kustomizations(text: str, path: str) -> list[tuple[Kustomization, list[ImageSite]]]:
    """Each kustomization in ``text`` with the image sites of its entries.

    ``text`` is valid YAML (the finder read it first). Raises ManifestError for an entry
    kustomize would not read either (not a mapping, no name, a value that is not a string).
    """
    if not may_hold_kustomization(text, path):
        return []
    by_name = is_kustomization_name(path)
    lines = LineIndex(text)
    found = []
    for root in iter_documents(text):
        if not isinstance(root, MappingNode):
            continue
        fields = _fields(root, path)
        kind = _string(fields.get("kind"))
        api_version = _string(fields.get("apiVersion"))
        ours = kind in KINDS and api_version.startswith(f"{API_GROUP}/")
        if not (ours or (by_name and not kind and not api_version)):
            continue
        kind = kind or KINDS[0]
        metadata = fields.get("metadata")
        name = _string(_fields(metadata, path).get("name")) if _is_mapping(metadata) else ""
        entries, sites = [], []
        for node in _items(fields.get(FIELD)):
            entry, site = _entry(node, text, lines, path, kind, name)
            entries.append(entry)
            if site is not None:
                sites.append(site)
        includes = tuple(_includes(fields, path))
        found.append((Kustomization(path, kind, tuple(entries), includes), sites))
    return found


def _entry(
    node: Node, text: str, lines: LineIndex, path: str, kind: str, name: str
) -> tuple[ImageEntry, ImageSite | None]:
    """One ``images:`` entry, and its site when it sets a tag (the only entries pinned)."""
    mapping, entry, fields = _read_entry(node, path)
    if not entry.sets_tag:
        return entry, None
    image = entry.new_name or entry.name
    image += f":{entry.new_tag}" if entry.new_tag else ""
    image += f"@{entry.digest}" if entry.digest else ""
    place = _digest_place(mapping, fields, text, lines)
    site = ImageSite(
        path,
        entry.line,
        entry.column,
        place.start,
        place.end,
        kind,
        name,
        FIELD,
        entry.name,
        image,
        place.quote,
        place.problem,
        digest_slot=place.slot,
    )
    return entry, site


def _read_entry(node: Node, path: str) -> tuple[MappingNode, ImageEntry, dict[str, Node]]:
    """The entry, checked (a mapping of strings, with a name), and its fields."""
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if not isinstance(node, MappingNode):
        raise ManifestError(
            f"{path}:{line}:{column}: an {FIELD} entry must be a mapping with name, newName, "
            "newTag or digest; the file was not changed."
        )
    fields = _fields(node, path)
    values = {}
    for key in ENTRY_KEYS:
        value = fields.get(key)
        if value is not None and not isinstance(value, ScalarNode):
            raise ManifestError(
                f"{path}:{value.start_mark.line + 1}: the {key} of an {FIELD} entry is not a "
                "string. Write it as a plain string; the file was not changed."
            )
        values[key] = _string(value)
    if not values["name"]:
        raise ManifestError(
            f"{path}:{line}:{column}: an {FIELD} entry has no name, which kustomize needs to "
            "know which image it sets. Add the name; the file was not changed."
        )
    entry = ImageEntry(
        values["name"], values["newName"], values["newTag"], values["digest"], line, column
    )
    return node, entry, fields


class _DigestPlace(NamedTuple):
    """Where an entry's digest is written: its value, or the place a new digest key goes."""

    start: int
    end: int
    quote: str
    slot: DigestSlot
    problem: str | None


def _digest_place(
    node: MappingNode, fields: dict[str, Node], text: str, lines: LineIndex
) -> _DigestPlace:
    digest = fields.get("digest")
    if isinstance(digest, ScalarNode):  # pinned already: --update rewrites its value
        found_start, found_end = lines.offset(digest.start_mark), lines.offset(digest.end_mark)
        quote = digest.style if digest.style in ("'", '"') else ""
        if found_start is None or found_end is None:
            start = int(digest.start_mark.index)
            return _DigestPlace(start, start, quote, DigestSlot(), MISPLACED)
        problem = splice_problem(text[found_start:found_end], digest.value, digest.style)
        return _DigestPlace(found_start, found_end, quote, DigestSlot(), problem)
    tag = fields.get("newTag")
    quote = tag.style if isinstance(tag, ScalarNode) and tag.style in ("'", '"') else ""
    try:
        found = key_slot(text, lines, node, "digest")
    except NoKeySlot as exc:
        start = int(node.start_mark.index)  # reported, never spliced
        problem = f"a digest key cannot be added to the entry exactly: {exc}"
        return _DigestPlace(start, start, quote, DigestSlot(), problem)
    slot = DigestSlot(found.before, found.after)
    return _DigestPlace(found.offset, found.offset, quote, slot, None)


def _includes(fields: dict[str, Node], path: str) -> Iterator[Include]:
    for field in INCLUDE_FIELDS:
        for item in _items(fields.get(field)):
            if isinstance(item, ScalarNode) and item.value:
                yield Include(field, str(item.value), item.start_mark.line + 1)


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _is_mapping(node: Node | None) -> bool:
    return isinstance(node, MappingNode)


def _fields(node: Node | None, path: str) -> dict[str, Node]:
    """A mapping's values by key; a duplicate key is an error, as it is to kustomize."""
    fields: dict[str, Node] = {}
    if not isinstance(node, MappingNode):
        return fields
    for key_node, value in node.value:
        key = _string(key_node)
        if key in fields:
            raise ManifestError(
                f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r} in one mapping: "
                "kustomize rejects it too. Remove one of them; the file was not changed."
            )
        fields[key] = value
    return fields


def _string(node: Node | None) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""

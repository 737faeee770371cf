"""Read a YAML mapping's entries as kubectl reads them: merge keys (``<<``) applied, and a key
written twice an error wherever pinner reads it.

A key written twice makes a manifest ambiguous (which value would kubectl use?), so the finder
must not pin what it read there. It is recorded when a mapping is read, not raised: an object
with no image (a CI config, say) may hold one, and it changes nothing pinner reads.
"""

from __future__ import annotations

from pinner.errors import Location, ManifestError
from pinner.manifests.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode

MERGE_KEY = "<<"
# Merges of merges are resolved recursively; a longer chain than this is refused, not a crash.
MAX_MERGE_DEPTH = 100


class Mappings:
    """The mappings of one document, read once each, for messages about the file ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._entries: dict[int, dict[str, Node]] = {}
        self._duplicates: dict[int, dict[str, Location]] = {}  # mapping -> key written twice
        self.duplicate_log: list[tuple[str, Location]] = []  # every such key, as read
        self._merging: set[int] = set()

    def forget(self) -> None:
        """Drop the caches keyed by node identity, which would keep a document's nodes alive
        (and, once they are freed, could mistake a new node for an old one)."""
        self._entries.clear()
        self._duplicates.clear()
        self.duplicate_log.clear()

    def entry(self, node: MappingNode, key: str) -> Node | None:
        """The value of ``key`` in a mapping (merge keys applied), or None; a ManifestError if
        the mapping holds ``key`` twice, which makes what pinner reads there ambiguous."""
        value = self.entries(node).get(key)
        second = self._duplicates.get(id(node), {}).get(key)
        if second is not None:
            raise self.duplicate_key(key, second)
        return value

    def plain_entry(self, node: MappingNode, key: str) -> Node | None:
        """``entry`` without merge keys, for the walk that looks for pod specs by shape."""
        found = [value for key_node, value in node.value if scalar_value(key_node) == key]
        if len(found) > 1:
            second = [k for k, _ in node.value if scalar_value(k) == key][1]
            raise self.duplicate_key(key, self.where(second))
        return found[0] if found else None

    def duplicate_key(self, key: str, second: Location) -> ManifestError:
        return ManifestError(
            f"{self.path}:{second.line}: duplicate key {key!r} in one mapping: the manifest is "
            "ambiguous (kubectl rejects it too). Remove one of them.",
            at=[second],
        )

    def entries(self, node: MappingNode) -> dict[str, Node]:
        """A mapping's entries by key, with merge keys (<<) applied. A key written twice is
        recorded (its second place), an error only where ``entry`` reads it."""
        # Cached: aliases share nodes, and merges of merges must not multiply the work.
        known = self._entries.get(id(node))
        if known is not None:
            return known
        if len(self._merging) >= MAX_MERGE_DEPTH:
            raise ManifestError(
                f"{self.path}:{node.start_mark.line + 1}: merge keys (<<) are nested more than "
                f"{MAX_MERGE_DEPTH} levels deep. Flatten them.",
                at=[self.where(node)],
            )
        self._merging.add(id(node))
        entries: dict[str, Node] = {}
        merged: dict[str, Node] = {}
        duplicates: dict[str, Location] = {}
        merged_duplicates: dict[str, Location] = {}
        for key_node, value in node.value:
            key = scalar_value(key_node)
            if key == MERGE_KEY:
                for source in _merge_sources(value):
                    if id(source) in self._merging:
                        raise ManifestError(
                            f"{self.path}:{key_node.start_mark.line + 1}: a merge key (<<) "
                            "includes the mapping that holds it. Remove it.",
                            at=[self.where(key_node)],
                        )
                    for merged_key, merged_value in self.entries(source).items():
                        merged.setdefault(merged_key, merged_value)
                    for merged_key, line in self._duplicates.get(id(source), {}).items():
                        merged_duplicates.setdefault(merged_key, line)
                continue
            if key in entries:
                duplicates.setdefault(key, self.where(key_node))
            entries[key] = value
        self._merging.discard(id(node))
        result = {**merged, **entries} if merged else entries
        self._entries[id(node)] = result
        # A key this mapping writes itself overrides a merged one, duplicated or not.
        duplicates.update(
            (key, line) for key, line in merged_duplicates.items() if key not in entries
        )
        if duplicates:
            self._duplicates[id(node)] = duplicates
            self.duplicate_log.extend(duplicates.items())
        return result

    def where(self, node: Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)


def scalar_value(node: Node | None) -> str:
    """A scalar's value, or "" for anything else (no node, a mapping, a sequence)."""
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _merge_sources(value: Node) -> list[MappingNode]:
    if isinstance(value, MappingNode):
        return [value]
    if isinstance(value, SequenceNode):
        return [item for item in value.value if isinstance(item, MappingNode)]
    return []

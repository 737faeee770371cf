"""Where an anchored image's aliases are used outside image fields.

``image: &img nginx:1.25`` with ``value: *img`` in an env var: the alias is the same node, so
pinning the image changes the env value too. pinner keeps the alias (the author linked the two
on purpose, and breaking it would change more than image values and let the two drift apart)
and reports every other place that changes with it.

Only files with an anchored image pay for this: their events are read once more, to find each
alias, the key it stands under, and its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from _ruamel_yaml import CParser
from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
)

from pinner.manifests.yamlnodes import MarkedYAMLError

# Keys an image stands under: a container's `image`, an image volume's `reference`.
IMAGE_KEYS = frozenset({"image", "reference"})
Position = int  # a scalar node's start offset, as the parser marks it (both parsers agree)


class AliasUse(NamedTuple):
    """An alias of an anchored image, used where no image goes."""

    anchor: str
    line: int  # 1-based, as the parser counts lines
    path: str  # where it stands, such as spec.containers[].env[].value


class _Frame:
    """An open collection in the event stream: its path, and for a mapping the key last read."""

    def __init__(self, path: str, mapping: bool) -> None:
        self.path = path
        self.mapping = mapping
        self.expecting_key = True
        self.key = ""

    def place(self, event: Any) -> tuple[str, str]:
        """(key, path) of the node ``event`` starts; moves a mapping on to its next entry."""
        if not self.mapping:
            return "", f"{self.path}[]"
        if self.expecting_key:
            self.expecting_key = False
            self.key = str(event.value) if isinstance(event, ScalarEvent) else "?"
            return "?", ""
        self.expecting_key = True
        return self.key, f"{self.path}.{self.key}" if self.path else self.key


def alias_uses(
    text: str, anchored: Mapping[Position, str], image_keys: frozenset[str] = IMAGE_KEYS
) -> dict[Position, list[AliasUse]]:
    """For each anchored image (by its scalar's position), the aliases of it used under a key
    other than ``image_keys``."""
    anchors: dict[str, Position] = {}  # anchor name -> the image it names now
    uses: dict[Position, list[AliasUse]] = {}
    frames: list[_Frame] = []
    for event in _events(text):
        if isinstance(event, CollectionEndEvent):
            frames.pop()
            continue
        if not isinstance(event, (ScalarEvent, AliasEvent, CollectionStartEvent)):
            continue  # stream and document events
        key, path = frames[-1].place(event) if frames else ("", "")
        if isinstance(event, AliasEvent):
            if event.anchor in anchors and key not in image_keys:
                use = AliasUse(event.anchor, event.start_mark.line + 1, path or "(top)")
                uses.setdefault(anchors[event.anchor], []).append(use)
            continue
        if event.anchor is not None:
            # An anchor named again names the new node from here on (YAML allows it).
            position = int(event.start_mark.index)
            if isinstance(event, ScalarEvent) and position in anchored:
                anchors[event.anchor] = position
            else:
                anchors.pop(event.anchor, None)
        if isinstance(event, CollectionStartEvent):
            frames.append(_Frame(path, isinstance(event, MappingStartEvent)))
    return uses


def _events(text: str) -> Iterator[Any]:
    """The parser's events; the pure-Python parser's where libyaml refuses the text."""
    try:
        events = []
        parser = CParser(text)
        while parser.check_event():
            events.append(parser.get_event())
    except MarkedYAMLError:
        events = list(YAML(typ="safe", pure=True).parse(text))
    yield from events

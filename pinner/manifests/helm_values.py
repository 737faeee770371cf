"""Image blocks in Helm values: what each renders to, and where ``pin`` writes its digest.

A chart's values hold an image as parts (``registry``, ``repository``, ``tag``, ``digest``; the
shapes are data in ``pinner.helm_shapes``). ``find_blocks`` walks one values tree and
gives, for every block, the reference the chart's templates would render and the scalar ``pin``
rewrites: the block's ``digest`` value where it has that key, else its ``tag`` (written as
``tag@sha256:...`` only when the user opts in). What pinner cannot know without rendering (a
template expression in a part, an empty tag with no ``appVersion`` in sight) is skipped, with a
message that says so. Positions only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from pinner.errors import InvalidReferenceError
from pinner.helm_shapes import BlockShape, values_paths
from pinner.manifests.charts import Chart
from pinner.manifests.sites import Skipped, ValueSlot
from pinner.manifests.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode
from pinner.reference import parse_reference

# Reads a mapping's entries by key (the finder's: merge keys applied, duplicate keys refused).
MappingReader = Callable[[MappingNode], dict[str, Node]]
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
TEMPLATE_MARK = "{{"
RENDER_HINT = "render the chart first (helm template ... | pinner pin -)"


class Block(NamedTuple):
    node: ScalarNode  # the scalar pin rewrites
    image: str  # [registry/]repository:tag[@digest], as the templates would render it
    field: str  # the block's dotted path, e.g. spec.values.metrics.image
    slot: ValueSlot


class ValuesContext(NamedTuple):
    """What is known about the values being read, besides their text."""

    path: str  # the file, as messages name it
    prefix: str  # the path of the values in their object ("" for a values file)
    chart: str  # the chart folder, or the object that holds the values
    app_version: str | None  # the chart's appVersion, if pinner can see the chart
    no_version: str  # why the appVersion is unknown, for the message about an empty tag
    shapes: Sequence[BlockShape]


def chart_values(path: str, chart: Chart, shapes: Sequence[BlockShape]) -> ValuesContext:
    """How to read the values file ``path`` of ``chart``."""
    no_version = f"{chart.folder}/Chart.yaml has no appVersion"
    return ValuesContext(path, "", f"chart {chart.folder}", chart.app_version, no_version, shapes)


def object_values(
    node: Node,
    kind: str,
    name: str,
    api_version: str,
    mapping: MappingReader,
    path: str,
    shapes: Sequence[BlockShape],
) -> Iterator[tuple[Node, ValuesContext]]:
    """The values a HelmRelease or an Application holds (``VALUES_PATHS``), and how to read them."""
    owner = f"{path}: {kind} {name}".rstrip()
    # A chart fetched from elsewhere: its appVersion is not in this repository.
    elsewhere = "the chart is not in this repository"
    for values_path in values_paths(kind, api_version):
        for values, prefix in _follow_all(node, values_path, mapping):
            yield values, ValuesContext(path, prefix, owner, None, elsewhere, shapes)


def find_blocks(
    root: Node, mapping: MappingReader, context: ValuesContext
) -> Iterator[Block | Skipped]:
    """Every image block under ``root`` (a values tree), or why one was skipped."""
    globals_ = {shape: _global(root, shape.global_registry, mapping) for shape in context.shapes}
    seen: set[int] = set()  # aliases share nodes; each is read once
    stack: list[tuple[Node, str]] = [(root, context.prefix)]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            entries = mapping(node)
            shape = _shape_of(entries, context.shapes, globals_)
            if shape is not None:
                yield _block(node, entries, shape, globals_[shape] or "", where, context)
                continue
            children = [(value, _join(where, key)) for key, value in entries.items()]
            stack.extend(reversed(children))
        elif isinstance(node, SequenceNode):
            items = [(item, f"{where}[{index}]") for index, item in enumerate(node.value)]
            stack.extend(reversed(items))


def _shape_of(
    entries: dict[str, Node],
    shapes: Sequence[BlockShape],
    globals_: dict[BlockShape, str | None],
) -> BlockShape | None:
    for shape in shapes:
        repository = entries.get(shape.repository)
        if not isinstance(repository, ScalarNode) or _text(repository) == "":
            continue
        if not isinstance(entries.get(shape.tag), ScalarNode):
            continue
        if shape.needs_registry and shape.registry not in entries and globals_[shape] is None:
            continue
        return shape
    return None


def _block(
    node: MappingNode,
    entries: dict[str, Node],
    shape: BlockShape,
    global_registry: str,
    where: str,
    context: ValuesContext,
) -> Block | Skipped:
    at = f"{context.path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def skipped(reason: str) -> Skipped:
        message = f"{at}: skipped: the image block {where or '(root)'} {reason}"
        return Skipped(context.path, node.start_mark.line + 1, node.start_mark.column + 1, message)

    digest_node = entries.get(shape.digest)
    if digest_node is not None and not isinstance(digest_node, ScalarNode):
        return skipped(
            f'has a {shape.digest!r} that is not a string. Write it as {shape.digest}: "".'
        )
    registry_node = entries.get(shape.registry) if shape.registry else None
    registry = shape.registry_of(_text(registry_node), global_registry)
    repository = _text(entries[shape.repository])
    tag_node = entries[shape.tag]
    assert isinstance(tag_node, ScalarNode)  # _shape_of checked it
    tag = _text(tag_node)
    digest = _text(digest_node)
    if any(TEMPLATE_MARK in part for part in (registry, repository, tag, digest)):
        return skipped(f"holds a Go/Helm template expression ('{{{{'); {RENDER_HINT}.")
    if tag == "":
        if context.app_version is None:
            return skipped(
                f"has an empty tag, which the chart's templates usually replace with its "
                f"appVersion, and {context.no_version}. Write the tag, or {RENDER_HINT}."
            )
        tag = context.app_version
    name = f"{registry}/{repository}" if registry else repository
    image = f"{name}:{tag}@{digest}" if digest else f"{name}:{tag}"
    try:
        parse_reference(image)
    except InvalidReferenceError as exc:
        return skipped(f"reads as {image!r}, which is not an image reference ({exc}).")
    flow = bool(node.flow_style)
    if isinstance(digest_node, ScalarNode):
        return Block(digest_node, image, where, ValueSlot("digest", tag, flow, context.chart))
    return Block(
        tag_node, image, where, ValueSlot("tag", tag.partition("@")[0], flow, context.chart)
    )


def _follow_all(
    node: Node, path: Sequence[str], mapping: MappingReader
) -> Iterator[tuple[Node, str]]:
    """Each node at ``path``, where "*" stands for every item of a list, with its dotted path
    (``spec.sources[1].helm.valuesObject``)."""
    found: list[tuple[Node, str]] = [(node, "")]
    for key in path:
        step: list[tuple[Node, str]] = []
        for parent, where in found:
            if key == "*" and isinstance(parent, SequenceNode):
                step.extend((item, f"{where}[{i}]") for i, item in enumerate(parent.value))
            elif isinstance(parent, MappingNode):
                child = mapping(parent).get(key)
                if child is not None:
                    step.append((child, _join(where, key)))
        found = step
    yield from found


def _global(root: Node, path: tuple[str, ...], mapping: MappingReader) -> str | None:
    """The global registry at ``path`` ("" if set empty), or None where the values lack it."""
    if not path:
        return None
    node = root
    for key in path:
        if not isinstance(node, MappingNode):
            return None
        child = mapping(node).get(key)
        if child is None:
            return None
        node = child
    return _text(node) if isinstance(node, ScalarNode) else None


def _text(node: Node | None) -> str:
    """A scalar's value as Helm reads it, with YAML's null spellings read as empty."""
    if not isinstance(node, ScalarNode):
        return ""
    if not node.style and node.value in NULLS:
        return ""
    return str(node.value)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

"""Typed values out of ``.pinner.yaml`` nodes, each mistake reported with its file and line.

The composer does no tag resolution, so types are decided here, strictly: ``true``/``false`` are
booleans, digits are numbers, and a list must be written as a list.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence

from pinner.errors import ConfigError
from pinner.kinds import Rule
from pinner.manifests.yamlnodes import MappingNode, Node, ScalarNode, SequenceNode
from pinner.settings import MAX_CONCURRENCY
from pinner.sizes import SIZE_FORMS, parse_size

KeyReader = Callable[[Node, str, str], object]
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
TRUE = frozenset({"true", "True", "TRUE"})
FALSE = frozenset({"false", "False", "FALSE"})
RULE_KEYS = ("kind", "apiVersion", "podSpec", "images")
# A dotted path of plain keys: spec.template.spec. Keys holding dots cannot be written.
_PATH_RE = re.compile(r"[^.\s]+(?:\.[^.\s]+)*")
EXAMPLES = {
    "exempt": "exempt: ['registry.k8s.io/pause*']",
    "exclude": "exclude: ['charts/**']",
    "insecure_registries": "insecure_registries: ['localhost:5000']",
    "gcloud_hosts": "gcloud_hosts: ['registry.example.com']",
    "images": "images: [spec.image]",
}


def close_match(key: str, known: Iterable[str]) -> str | None:
    """The known key that ``key`` most likely misspells, if any."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value in NULLS


def line_of(node: Node, display: str) -> str:
    return f"{display}:{node.start_mark.line + 1}"


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return repr(node.value)


def read_string(node: Node, key: str, display: str) -> str:
    if not isinstance(node, ScalarNode) or (not node.style and node.value in TRUE | FALSE):
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must be a string, not {describe(node)}. "
            f"Write it as {key}: 'value'."
        )
    return str(node.value)


def read_bool(node: Node, key: str, display: str) -> bool:
    if isinstance(node, ScalarNode) and not node.style:
        if node.value in TRUE:
            return True
        if node.value in FALSE:
            return False
    raise ConfigError(
        f"{line_of(node, display)}: {key!r} must be true or false, not {describe(node)}."
    )


def read_int(node: Node, key: str, display: str) -> int:
    if isinstance(node, ScalarNode) and not node.style and node.value.isdigit():
        number = int(node.value)
        if 1 <= number <= MAX_CONCURRENCY:
            return number
    raise ConfigError(
        f"{line_of(node, display)}: {key!r} must be a whole number from 1 to {MAX_CONCURRENCY}, "
        f"not {describe(node)}."
    )


def read_size(node: Node, key: str, display: str) -> int:
    """A size in bytes: ``33554432``, ``32M`` or ``32MiB`` (quoted or not)."""
    size = parse_size(node.value) if isinstance(node, ScalarNode) else None
    if size is None:
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must be {SIZE_FORMS}, not {describe(node)}."
        )
    return size


def read_string_list(node: Node, key: str, display: str) -> tuple[str, ...]:
    example = EXAMPLES.get(key, f"{key}: [a, b]")
    if not isinstance(node, SequenceNode):
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must be a list of strings, not "
            f"{describe(node)}. Write it as {example}."
        )
    items = []
    for item in node.value:
        if not isinstance(item, ScalarNode) or is_null(item):
            raise ConfigError(
                f"{line_of(item, display)}: {key!r} must be a list of strings, but this item is "
                f"{'empty' if is_null(item) else describe(item)}. Write it as {example}."
            )
        items.append(str(item.value))
    return tuple(items)


def read_mirrors(node: Node, key: str, display: str) -> tuple[tuple[str, str], ...]:
    hint = "Write it as mirrors: {docker.io: 'mirror.gcr.io'}."
    if not isinstance(node, MappingNode):
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must map a registry to its mirror's host[:port], "
            f"not {describe(node)}. {hint}"
        )
    pairs = []
    for registry_node, host_node in node.value:
        registry = read_string(registry_node, "mirrors", display)
        host = host_node.value if isinstance(host_node, ScalarNode) else ""
        if not isinstance(host_node, ScalarNode) or not host or "/" in host:
            raise ConfigError(
                f"{line_of(host_node, display)}: the mirror of {registry!r} must be a "
                f"host[:port] such as 'mirror.gcr.io', not {describe(host_node)}. {hint}"
            )
        pairs.append((registry, str(host)))
    return tuple(pairs)


def read_rules(node: Node, key: str, display: str) -> tuple[Rule, ...]:
    if not isinstance(node, SequenceNode):
        raise ConfigError(
            f"{line_of(node, display)}: 'rules' must be a list of rules, not {describe(node)}. "
            "Write each rule as '- kind: Rollout' followed by 'podSpec: spec.template.spec' "
            "or 'images: [spec.image]'."
        )
    return tuple(_rule(item, number, display) for number, item in enumerate(node.value, 1))


def read_fields(
    node: MappingNode, known: Sequence[str], name: str, noun: str, display: str
) -> dict[str, Node]:
    """The entries of one list item of ``.pinner.yaml`` (a rule, a shape) by key, each key one
    of ``known`` and given once; ``name`` and ``noun`` ("A rule") are how messages call it."""
    fields: dict[str, Node] = {}
    for key_node, value in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else ""
        if key not in known:
            close = close_match(key, known)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ConfigError(
                f"{line_of(key_node, display)}: unknown key {key!r} in {name}{hint}. {noun} "
                f"takes {', '.join(known)}."
            )
        if key in fields:
            raise ConfigError(f"{line_of(key_node, display)}: {key!r} is set twice in {name}.")
        fields[key] = value
    return fields


def _rule(node: Node, number: int, display: str) -> Rule:
    name = f"rule {number}"
    if not isinstance(node, MappingNode):
        raise ConfigError(
            f"{line_of(node, display)}: {name} must be a mapping with 'kind' and 'podSpec' or "
            f"'images', not {describe(node)}."
        )
    fields = read_fields(node, RULE_KEYS, name, "A rule", display)
    if "kind" not in fields:
        raise ConfigError(
            f"{line_of(node, display)}: {name} has no 'kind'. Name the kind it applies to, "
            "e.g. kind: Rollout."
        )
    if "podSpec" not in fields and "images" not in fields:
        raise ConfigError(
            f"{line_of(node, display)}: {name} says neither 'podSpec' nor 'images'. Give the "
            "path of a pod spec (podSpec: spec.template.spec) or of image fields "
            "(images: [spec.image])."
        )
    api_version = fields.get("apiVersion")
    pod_spec = fields.get("podSpec")
    return Rule(
        kind=read_string(fields["kind"], "kind", display),
        api_version=None
        if api_version is None
        else read_string(api_version, "apiVersion", display),
        pod_spec=None if pod_spec is None else _path(pod_spec, "podSpec", display),
        images=_image_paths(fields.get("images"), display),
    )


def _image_paths(node: Node | None, display: str) -> tuple[tuple[str, ...], ...]:
    if node is None:
        return ()
    paths = read_string_list(node, "images", display)  # checks that node is a list first
    return tuple(
        _dotted(path, item, "images", display) for path, item in zip(paths, node.value, strict=True)
    )


def _path(node: Node, key: str, display: str) -> tuple[str, ...]:
    return _dotted(read_string(node, key, display), node, key, display)


def _dotted(path: str, node: Node, key: str, display: str) -> tuple[str, ...]:
    if not _PATH_RE.fullmatch(path):
        example = "spec.image" if key == "images" else "spec.template.spec"
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must hold dotted paths such as {example}, "
            f"not {path!r}."
        )
    return tuple(path.split("."))

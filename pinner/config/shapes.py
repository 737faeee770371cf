"""``helm_shapes`` in ``.pinner.yaml``: a repository's own image block shapes for Helm values.

Each entry names the keys of one convention, e.g. calico's tigera-operator block
``{registry: quay.io, image: tigera/operator, version: v1.36}``::

    helm_shapes:
      - repository: image
        tag: version
        registry: registry

They are tried before the built-in shapes (``pinner.helm_shapes.SHAPES``).
"""

from __future__ import annotations

from pinner.config.values import line_of, read_bool, read_fields, read_string
from pinner.errors import ConfigError
from pinner.helm_shapes import BlockShape
from pinner.manifests.yamlnodes import MappingNode, Node, SequenceNode

SHAPE_KEYS = (
    "name",
    "repository",
    "tag",
    "digest",
    "registry",
    "global_registry",
    "global_overrides",
)
EXAMPLE = "Write each shape as '- repository: image' followed by 'tag: version'."


def read_shapes(node: Node, key: str, display: str) -> tuple[BlockShape, ...]:
    if not isinstance(node, SequenceNode):
        raise ConfigError(
            f"{line_of(node, display)}: {key!r} must be a list of image block shapes. {EXAMPLE}"
        )
    return tuple(_shape(item, number, display) for number, item in enumerate(node.value, 1))


def _shape(node: Node, number: int, display: str) -> BlockShape:
    label = f"helm_shapes entry {number}"
    if not isinstance(node, MappingNode):
        raise ConfigError(f"{line_of(node, display)}: {label} must be a mapping. {EXAMPLE}")
    fields = read_fields(node, SHAPE_KEYS, label, "A shape", display)
    if "repository" not in fields:
        raise ConfigError(
            f"{line_of(node, display)}: {label} has no 'repository': name the key that holds "
            "the repository (e.g. repository: image)."
        )
    texts = {
        key: read_string(value, key, display)
        for key, value in fields.items()
        if key != "global_overrides"
    }
    for key, text in texts.items():
        if not text or (key != "global_registry" and "." in text):
            raise ConfigError(
                f"{line_of(fields[key], display)}: {key!r} in {label} must be a key name"
                + (
                    " or a dotted path such as global.imageRegistry"
                    if key == "global_registry"
                    else ""
                )
                + f", not {text!r}."
            )
    overrides = fields.get("global_overrides")
    return BlockShape(
        name=texts.get("name", f"helm_shapes {number}"),
        repository=texts["repository"],
        tag=texts.get("tag", "tag"),
        digest=texts.get("digest", "digest"),
        registry=texts.get("registry"),
        global_registry=tuple(texts["global_registry"].split("."))
        if "global_registry" in texts
        else (),
        global_overrides=False
        if overrides is None
        else read_bool(overrides, "global_overrides", display),
    )

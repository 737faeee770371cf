"""How Helm charts spell an image in their values: the shapes of image blocks, as data.

A chart's templates join an image from parts of a values mapping, and each family of charts
names the parts its own way. ``SHAPES`` lists the conventions pinner knows; ``.pinner.yaml``'s
``helm_shapes`` puts a repository's own before them. Where the values hold images is found by
shape (any mapping, at any depth); where Flux and Argo CD objects hold values is
``VALUES_PATHS``. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlockShape:
    """The keys of one convention's image block, e.g. bitnami's ``registry/repository/tag``."""

    name: str  # how docs and messages call the convention
    repository: str = "repository"  # the key of the repository (``image`` in ingress-nginx)
    tag: str = "tag"
    digest: str = "digest"  # the key ``pin`` fills, when the block has it
    registry: str | None = None  # the key of the registry host, if the convention has one
    # Where the values' global registry is, from their root (bitnami: global.imageRegistry).
    global_registry: tuple[str, ...] = ()
    # True: a global registry that is set replaces the block's (bitnami's common.images.image);
    # False: it only fills in for a block without one (ingress-nginx merges global.image in).
    global_overrides: bool = False
    # The block is of this shape only when a registry is named, by the block or globally: a
    # mapping with just `image` and `tag` is too common to be taken for an ingress-nginx image.
    needs_registry: bool = False

    def registry_of(self, block: str, global_value: str) -> str:
        """The registry the chart's templates would use, given the block's and the global one."""
        if self.global_overrides:
            return global_value or block
        return block or global_value


SHAPES: tuple[BlockShape, ...] = (
    BlockShape(
        "bitnami",
        registry="registry",
        global_registry=("global", "imageRegistry"),
        global_overrides=True,
        needs_registry=True,
    ),
    BlockShape(
        "ingress-nginx",
        repository="image",
        registry="registry",
        global_registry=("global", "image", "registry"),
        needs_registry=True,
    ),
    BlockShape("plain"),
)

# Where GitOps objects hold a chart's values: (kind, API group) -> paths in the object. A "*"
# stands for every item of a list (Argo CD's multi-source `spec.sources`).
VALUES_PATHS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("HelmRelease", "helm.toolkit.fluxcd.io"): (("spec", "values"),),
    ("Application", "argoproj.io"): (
        ("spec", "source", "helm", "valuesObject"),
        ("spec", "sources", "*", "helm", "valuesObject"),
    ),
}
VALUES_KINDS = frozenset(kind for kind, _ in VALUES_PATHS)
# The kind reports give an image found in a chart's values file.
VALUES_FILE_KIND = "HelmValues"


def values_paths(kind: str, api_version: str) -> tuple[tuple[str, ...], ...]:
    """Where an object of this kind and apiVersion holds chart values (none for most)."""
    group = api_version.rpartition("/")[0]
    return VALUES_PATHS.get((kind, group), ())

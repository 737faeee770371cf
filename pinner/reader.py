"""What verify and tags ask a registry: the reader they need (``RegistryClient`` is one), and
where a tag points now (``TagState``: its digest, and, when a pin differs from it, the
platforms of the index it names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pinner.reference import Reference
from pinner.registry.errors import ImageNotFoundError
from pinner.registry.mediatypes import INDEX_TYPES, json_object
from pinner.registry.platforms import normalize, parse_platform, select_manifest
from pinner.settings import Settings

if TYPE_CHECKING:
    # Annotations only: importing the registry client pulls in httpx, which `pinner check`
    # (which imports verify through the CLI) must not pay for.
    from pinner.registry.client import Manifest
    from pinner.registry.taglists import TagList


class RegistryReader(Protocol):
    """What verify and tags need from a client; ``RegistryClient`` is one."""

    @property
    def settings(self) -> Settings: ...

    def resolve(self, ref: Reference, platform: str | None = None) -> str: ...

    def manifest_exists(self, ref: Reference, digest: str) -> bool: ...

    def fetch_manifest(self, ref: Reference, digest_or_tag: str) -> Manifest: ...

    def list_tags(self, ref: Reference) -> TagList: ...


def check_no_default_platform(client: RegistryReader) -> None:
    # resolve() without a platform must answer with the tag's own digest, as a HEAD does.
    if client.settings.platform is not None:
        raise ValueError("verify and tags need a client without a default platform")


@dataclass(frozen=True)
class TagState:
    """What a tag points to now, and (when a pin differs from it) what that manifest holds."""

    top: str | None  # the tag's own digest; None when the tag does not exist
    children: Mapping[str, str] = field(default_factory=dict)  # index child digest -> platform
    expected: str | None = None  # the digest a pin of this tag should have (per --platform)


def tag_state(
    client: RegistryReader, reference: Reference, pinned: frozenset[str], platform: str | None
) -> TagState:
    """Where ``reference``'s tag points now; with the manifests of its index when one of the
    ``pinned`` digests differs from it (one platform's manifest, or drift?)."""
    try:
        # The client has no default platform: this is the tag's own digest, by HEAD.
        top = client.resolve(reference)
    except ImageNotFoundError:
        return TagState(None)
    if pinned <= {top}:
        return TagState(top, expected=top)
    # A pin differs: is it drift, or one platform's manifest of the index the tag names?
    manifest = client.fetch_manifest(reference, top)
    if manifest.media_type not in INDEX_TYPES:
        return TagState(top, expected=top)
    index = json_object(manifest.body)
    expected = select_manifest(index, parse_platform(platform)) if platform else top
    return TagState(top, index_children(index), expected)


def index_children(index: Mapping[str, object]) -> dict[str, str]:
    """Every manifest an index lists, by digest, with its platform as ``os/arch[/variant]``."""
    children: dict[str, str] = {}
    entries = index.get("manifests")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("digest"), str):
            continue
        platform = entry.get("platform")
        described = "unknown platform"
        if isinstance(platform, Mapping):
            os, arch = platform.get("os"), platform.get("architecture")
            variant = platform.get("variant") or ""
            if isinstance(os, str) and isinstance(arch, str) and isinstance(variant, str):
                described = str(normalize(os, arch, variant))
        children.setdefault(entry["digest"], described)
    return children

"""Choosing one platform's manifest from an image index.

Platforms are written ``os/arch[/variant]`` and normalized as containerd does, so
``linux/aarch64``, ``linux/arm64/v8`` and ``linux/arm64`` are the same platform. An index (the
parsed JSON of an OCI index or Docker manifest list) gives the digest of the child for the
platform asked for, or a ``PlatformNotFoundError`` naming the platforms it does have.
Attestation entries (``unknown/unknown``, or any ``vnd.docker.reference.type`` annotation) are
never chosen nor listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pinner.errors import ConfigError, InvalidReferenceError
from pinner.reference import check_digest
from pinner.registry.errors import ImageLookupError, PlatformNotFoundError

REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
# Only these children can be pinned; image-index.md says unknown types must be ignored.
CHILD_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)

_ARCH_ALIASES = {
    "i386": ("386", ""),
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "aarch64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
}
_ARM_VARIANTS = {"": "v7", "5": "v5", "6": "v6", "7": "v7", "8": "v8"}
_ARM64_VARIANTS = {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


def normalize(os: str, architecture: str, variant: str = "") -> Platform:
    """Normalize like containerd's ``platforms.Normalize`` (lowercase, aliases, variants)."""
    os, architecture, variant = os.lower(), architecture.lower(), variant.lower()
    if os == "macos":
        os = "darwin"
    alias = _ARCH_ALIASES.get(architecture)
    if alias is not None:
        architecture, forced_variant = alias
        if forced_variant is not None:
            variant = forced_variant
    if architecture == "amd64" and variant == "v1":
        variant = ""
    elif architecture == "arm64":
        variant = _ARM64_VARIANTS.get(variant, variant)
    elif architecture == "arm":
        variant = _ARM_VARIANTS.get(variant, variant)
    return Platform(os, architecture, variant)


def parse_platform(text: str) -> Platform:
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(
            f"{text!r} is not a platform; write it as os/architecture[/variant], "
            "for example linux/amd64 or linux/arm64/v8."
        )
    return normalize(*parts)


def available_platforms(index: Mapping[str, object]) -> list[Platform]:
    return [platform for platform, _ in _candidates(index)]


def select_manifest(index: Mapping[str, object], wanted: Platform) -> str:
    """The digest of ``wanted``'s manifest: an exact match, else (when ``wanted`` names no
    variant) the first entry of the same OS and architecture, as go-containerregistry does."""
    candidates = _candidates(index)
    for platform, digest in candidates:
        if platform == wanted:
            return digest
    if not wanted.variant:
        for platform, digest in candidates:
            if (platform.os, platform.architecture) == (wanted.os, wanted.architecture):
                return digest
    listed = ", ".join(dict.fromkeys(str(platform) for platform, _ in candidates)) or "none"
    raise PlatformNotFoundError(
        f"the image index has no manifest for {wanted}; it has: {listed}",
        hint="Choose one of the listed platforms, or drop the platform to pin the index.",
    )


def _candidates(index: Mapping[str, object]) -> list[tuple[Platform, str]]:
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        raise ImageLookupError(
            "the image index has no 'manifests' list",
            hint="The registry served a malformed index; report it to the image's publisher.",
        )
    found: list[tuple[Platform, str]] = []
    for entry in manifests:
        if not isinstance(entry, Mapping) or _is_attestation(entry):
            continue
        media_type = entry.get("mediaType")
        if media_type is not None and media_type not in CHILD_MEDIA_TYPES:
            continue
        platform = entry.get("platform")
        if not isinstance(platform, Mapping):
            continue
        os, arch = platform.get("os"), platform.get("architecture")
        variant = platform.get("variant") or ""
        if not (isinstance(os, str) and isinstance(arch, str) and isinstance(variant, str)):
            continue
        found.append((normalize(os, arch, variant), _child_digest(entry)))
    return found


def _is_attestation(entry: Mapping[str, object]) -> bool:
    annotations = entry.get("annotations")
    if isinstance(annotations, Mapping) and REFERENCE_TYPE_ANNOTATION in annotations:
        return True
    platform = entry.get("platform")
    return isinstance(platform, Mapping) and (
        platform.get("os"),
        platform.get("architecture"),
    ) == ("unknown", "unknown")


def _child_digest(entry: Mapping[str, object]) -> str:
    digest = entry.get("digest")
    try:
        return check_digest(digest if isinstance(digest, str) else "")
    except InvalidReferenceError:
        raise ImageLookupError(
            "the image index lists a manifest with an invalid digest",
            hint="The registry served a malformed index; report it to the image's publisher.",
        ) from None

"""Manifest content checks: media types, digests, and what a body says it is. No I/O here.

pinner accepts the OCI and Docker image manifests and indexes (``ACCEPT`` lists all four in one
header), and refuses schema 1 and anything else. A body's media type is its ``Content-Type``
when that is specific (checked against the body's ``mediaType``), else the body's own, else a
guess from its shape; a ``Docker-Content-Digest`` is used only when it is a valid digest, and
bodies are checked against the digests they should hash to.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from pinner.jsonload import load_json
from pinner.registry.errors import ImageLookupError

if TYPE_CHECKING:
    # Only for annotations: `pinner check` imports this module and must not pay for httpx.
    import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1_TYPES = frozenset({SCHEMA1_SIGNED, "application/vnd.docker.distribution.manifest.v1+json"})
# Types that say nothing about the manifest: look inside the body instead.
GENERIC_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})
# One header listing all four: a registry missing one may rewrite or hide the manifest (T1).
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
DIGEST_HEADER = "docker-content-digest"
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
REPORT_HINT = "Report it to the registry's operators (or a proxy in between) if it persists."


def content_type(headers: httpx.Headers) -> str:
    value: str = headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def header_digest(headers: httpx.Headers) -> str | None:
    value: str = headers.get(DIGEST_HEADER, "")
    value = value.strip()
    algorithm, _, encoded = value.partition(":")
    hexdigits = {"sha256": 64, "sha512": 128}.get(algorithm)
    if hexdigits is None or len(encoded) != hexdigits or encoded.strip("0123456789abcdef"):
        return None
    return value


def hash_matches(digest: str, body: bytes) -> bool | None:
    """Whether ``body`` hashes to ``digest``; ``None`` for an algorithm we cannot compute."""
    algorithm, _, encoded = digest.partition(":")
    new = _HASHES.get(algorithm)
    return None if new is None else new(body).hexdigest() == encoded


def json_object(body: bytes) -> dict[str, object]:
    data = load_json(body)
    if not isinstance(data, dict):
        raise ImageLookupError(
            "the registry sent a body that is not a JSON object", hint=REPORT_HINT
        )
    return data


def media_type_of(headers: httpx.Headers, body: bytes) -> str:
    declared = content_type(headers)
    data = json_object(body)
    inside = data.get("mediaType")
    if declared not in GENERIC_TYPES:
        if isinstance(inside, str) and inside and inside != declared:
            raise ImageLookupError(
                f"the registry sent Content-Type {declared} for a {inside} manifest",
                hint=REPORT_HINT,
            )
        return declared
    if isinstance(inside, str) and inside:
        return inside
    # Early OCI content may omit mediaType; schema 1 never has it.
    if data.get("schemaVersion") == 1:
        return SCHEMA1_SIGNED
    if "manifests" in data:
        return OCI_INDEX
    return OCI_MANIFEST if "layers" in data else declared


def check_media_type(media_type: str) -> None:
    if media_type in SCHEMA1_TYPES:
        raise ImageLookupError(
            "the registry serves this image only as a Docker schema 1 manifest, which is "
            "deprecated and not supported",
            hint="Push the image again with a current Docker or buildx, or choose another tag.",
        )
    if media_type not in MANIFEST_TYPES:
        raise ImageLookupError(
            f"the registry answered with {media_type or 'no media type'}, "
            "not an image manifest or index",
            hint="Check that the registry host and the repository are right.",
        )

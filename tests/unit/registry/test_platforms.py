from __future__ import annotations

import pytest

from pinner.errors import ConfigError
from pinner.registry.errors import ImageLookupError, PlatformNotFoundError
from pinner.registry.platforms import (
    Platform,
    available_platforms,
    normalize,
    parse_platform,
    select_manifest,
)

AMD64 = "sha256:" + "a" * 64
ARM64 = "sha256:" + "b" * 64
ARMV7 = "sha256:" + "c" * 64
ATTESTATION = "sha256:" + "d" * 64
PPC = "sha256:" + "e" * 64
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def entry(digest: str, os: str, arch: str, variant: str | None = None, **extra: object) -> dict:
    platform = {"os": os, "architecture": arch}
    if variant is not None:
        platform["variant"] = variant
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": 1, "platform": platform, **extra}


INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        entry(AMD64, "linux", "amd64"),
        entry(
            ATTESTATION,
            "unknown",
            "unknown",
            annotations={
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": AMD64,
            },
        ),
        entry(ARM64, "linux", "arm64", "v8"),
        entry(ARMV7, "linux", "arm", "v7"),
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/x86_64", Platform("linux", "amd64")),
        ("linux/amd64/v1", Platform("linux", "amd64")),
        ("linux/amd64/v3", Platform("linux", "amd64", "v3")),
        ("linux/aarch64", Platform("linux", "arm64")),
        ("linux/arm64/v8", Platform("linux", "arm64")),
        ("linux/arm64/8", Platform("linux", "arm64")),
        ("linux/arm", Platform("linux", "arm", "v7")),
        ("linux/armhf", Platform("linux", "arm", "v7")),
        ("linux/armel", Platform("linux", "arm", "v6")),
        ("linux/arm/6", Platform("linux", "arm", "v6")),
        ("linux/i386", Platform("linux", "386")),
        ("Linux/AMD64", Platform("linux", "amd64")),
        ("macos/arm64", Platform("darwin", "arm64")),
        ("windows/amd64", Platform("windows", "amd64")),
    ],
)
def test_parse_platform_normalizes(text: str, expected: Platform) -> None:
    assert parse_platform(text) == expected


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux/arm/v7/extra", ""])
def test_parse_platform_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="os/architecture"):
        parse_platform(text)


def test_platform_str() -> None:
    assert str(normalize("linux", "arm", "7")) == "linux/arm/v7"
    assert str(normalize("linux", "arm64", "v8")) == "linux/arm64"


@pytest.mark.parametrize(
    ("wanted", "digest"),
    [
        ("linux/amd64", AMD64),
        ("linux/x86_64", AMD64),
        ("linux/arm64", ARM64),
        ("linux/arm64/v8", ARM64),
        ("linux/aarch64", ARM64),
        ("linux/arm", ARMV7),
        ("linux/arm/v7", ARMV7),
    ],
)
def test_select_manifest(wanted: str, digest: str) -> None:
    assert select_manifest(INDEX, parse_platform(wanted)) == digest


def test_arm64_without_variant_matches_v8_in_the_index_too() -> None:
    index = {"manifests": [entry(ARM64, "linux", "arm64")]}
    assert select_manifest(index, parse_platform("linux/arm64/v8")) == ARM64


def test_attestations_are_skipped_and_not_listed() -> None:
    assert [str(p) for p in available_platforms(INDEX)] == [
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
    ]
    with pytest.raises(PlatformNotFoundError) as caught:
        select_manifest(INDEX, parse_platform("unknown/unknown"))
    assert "unknown/unknown;" in str(caught.value)


def test_any_reference_type_annotation_is_skipped() -> None:
    index = {
        "manifests": [
            entry(PPC, "linux", "ppc64le", annotations={"vnd.docker.reference.type": "sbom"}),
        ]
    }
    assert available_platforms(index) == []


def test_missing_platform_lists_available_ones() -> None:
    with pytest.raises(PlatformNotFoundError) as caught:
        select_manifest(INDEX, parse_platform("linux/s390x"))
    error = caught.value
    assert "linux/s390x" in str(error)
    assert "linux/amd64, linux/arm64, linux/arm/v7" in str(error)
    assert error.hint


def test_requested_variant_must_match_but_no_variant_takes_the_first() -> None:
    index = {
        "manifests": [entry(AMD64, "linux", "amd64", "v3"), entry(PPC, "linux", "amd64", "v2")]
    }
    assert select_manifest(index, parse_platform("linux/amd64/v2")) == PPC
    assert select_manifest(index, parse_platform("linux/amd64")) == AMD64
    with pytest.raises(PlatformNotFoundError):
        select_manifest(index, parse_platform("linux/amd64/v4"))


def test_unknown_child_media_types_are_ignored() -> None:
    index = {
        "manifests": [
            {**entry(PPC, "linux", "amd64"), "mediaType": "application/vnd.example.thing"},
            entry(AMD64, "linux", "amd64"),
        ]
    }
    assert select_manifest(index, parse_platform("linux/amd64")) == AMD64


def test_malformed_index() -> None:
    with pytest.raises(ImageLookupError, match="no 'manifests' list"):
        select_manifest({"layers": []}, parse_platform("linux/amd64"))
    bad = {"manifests": [entry("sha256:XYZ", "linux", "amd64")]}
    with pytest.raises(ImageLookupError, match="invalid digest"):
        select_manifest(bad, parse_platform("linux/amd64"))

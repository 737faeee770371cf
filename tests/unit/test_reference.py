"""Image references: parsing per the distribution grammar, normalization, and the text we write."""

from __future__ import annotations

import re

import pytest

from pinner.errors import InvalidReferenceError
from pinner.reference import Reference, check_digest, parse_reference

HEX = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX}"


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("nginx", "", "nginx", None, None),
        ("nginx:1.25", "", "nginx", "1.25", None),
        ("library/nginx:1.25", "", "library/nginx", "1.25", None),
        ("docker.io/nginx", "docker.io", "nginx", None, None),
        ("ghcr.io/acme/api:v1.4.0-rc.1_b2", "ghcr.io", "acme/api", "v1.4.0-rc.1_b2", None),
        ("gcr.io/a/b/c/d:latest", "gcr.io", "a/b/c/d", "latest", None),
        (f"nginx@{DIGEST}", "", "nginx", None, DIGEST),
        (f"nginx:1.25@{DIGEST}", "", "nginx", "1.25", DIGEST),
        (f"quay.io/org/app:v2@{DIGEST}", "quay.io", "org/app", "v2", DIGEST),
        # A ':' before the last '/' is a port, not a tag.
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
        (
            "registry.example.com:8443/team/svc:3.1",
            "registry.example.com:8443",
            "team/svc",
            "3.1",
            None,
        ),
        ("[::1]:5000/app:2", "[::1]:5000", "app", "2", None),
        ("[2001:db8::1]/app", "[2001:db8::1]", "app", None, None),
        ("10.0.0.1:5000/app", "10.0.0.1:5000", "app", None, None),
        # A first component is a registry when it has '.', ':', is localhost, or has capitals.
        ("localhost/app", "localhost", "app", None, None),
        ("nginx:1/app", "nginx:1", "app", None, None),
        ("myregistry:5000/app", "myregistry:5000", "app", None, None),
        ("Registry.Example.com/app", "Registry.Example.com", "app", None, None),
        ("acme/app", "", "acme/app", None, None),
        # Separators inside path components.
        ("a/b.c_d__e---f", "", "a/b.c_d__e---f", None, None),
        ("nginx:_x", "", "nginx", "_x", None),
        ("nginx:" + "t" * 128, "", "nginx", "t" * 128, None),
        # Docker Hub names count with their "library/" (as docker counts them): 247 at most.
        ("x" * 247, "", "x" * 247, None, None),
        ("acme/" + "x" * 250, "", "acme/" + "x" * 250, None, None),
        # The domain does not count towards the 255-character path limit.
        ("example.com/" + "x" * 255, "example.com", "x" * 255, None, None),
        (f"{HEX}:1", "", HEX, "1", None),
        (f"nginx@sha512:{'ab' * 64}", "", "nginx", None, f"sha512:{'ab' * 64}"),
    ],
)
def test_valid(text: str, domain: str, path: str, tag: str | None, digest: str | None) -> None:
    reference = parse_reference(text)
    assert (reference.domain, reference.path, reference.tag, reference.digest) == (
        domain,
        path,
        tag,
        digest,
    )
    assert str(reference) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the image reference is empty"),
        (" nginx", "leading or trailing white space"),
        ("nginx\n", "leading or trailing white space"),
        ("Nginx", "repository names must be lowercase"),
        ("example.com/Acme/app", "repository names must be lowercase"),
        ("nginx:", "'' is not a valid tag"),
        ("nginx:-1", "'-1' is not a valid tag"),
        ("nginx:.1", "'.1' is not a valid tag"),
        ("nginx:1.25:2", "not a valid repository name"),
        ("nginx:" + "t" * 129, "is not a valid tag"),
        ("nginx:tag with space", "is not a valid tag"),
        ("a//b", "not a valid repository name"),
        ("a/", "not a valid repository name"),
        ("-a", "not a valid repository name"),
        ("a___b", "not a valid repository name"),
        ("a..b", "not a valid repository name"),
        ("a/b:c/d", "not a valid repository name"),
        ("x" * 256, "longer than 255 characters"),
        ("x" * 248, "longer than 255 characters"),
        ("docker.io/" + "x" * 248, "longer than 255 characters"),
        ("example.com/" + "x" * 256, "longer than 255 characters"),
        ("foo_bar.com/app", "'foo_bar.com' is not a valid registry host"),
        ("bad-.com/app", "'bad-.com' is not a valid registry host"),
        ("example.com:port/app", "'example.com:port' is not a valid registry host"),
        ("example.com/", "the repository name is empty"),
        (HEX, "image ID, not a name"),
        (f"a@{DIGEST}@{DIGEST}", "more than one '@'"),
        ("nginx@sha256:abc", "not a valid digest"),
        (f"nginx@sha256:{HEX[:-1]}", "not a valid digest"),
        (f"nginx@sha256:{HEX}0", "not a valid digest"),
        (f"nginx@sha256:{HEX.upper()}", "not a valid digest"),
        (f"nginx@sha512:{HEX}", "not a valid digest"),
        ("nginx@sha256", "not a valid digest"),
        ("nginx@", "not a valid digest"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError, match=re.escape(message)):
        parse_reference(text)


@pytest.mark.parametrize(
    "spelling",
    [
        "nginx",
        "nginx:latest",
        "docker.io/nginx",
        "docker.io/library/nginx",
        "index.docker.io/nginx",
        "index.docker.io/library/nginx:latest",
        "library/nginx",
    ],
)
def test_docker_hub_spellings_share_a_match_key(spelling: str) -> None:
    reference = parse_reference(spelling)
    assert reference.registry == "docker.io"
    assert reference.repository == "library/nginx"
    assert reference.match_key == ("docker.io", "library/nginx", "latest")
    assert reference.canonical == "docker.io/library/nginx:latest"


@pytest.mark.parametrize(
    ("text", "match_key", "canonical"),
    [
        ("acme/app:1", ("docker.io", "acme/app", "1"), "docker.io/acme/app:1"),
        ("docker.io/acme/app", ("docker.io", "acme/app", "latest"), "docker.io/acme/app:latest"),
        ("ghcr.io/nginx:1", ("ghcr.io", "nginx", "1"), "ghcr.io/nginx:1"),
        ("localhost:5000/app", ("localhost:5000", "app", "latest"), "localhost:5000/app:latest"),
        ("localhost/app:2", ("localhost", "app", "2"), "localhost/app:2"),
        (
            f"nginx@{DIGEST}",
            ("docker.io", "library/nginx", "latest"),
            f"docker.io/library/nginx@{DIGEST}",
        ),
        (
            f"nginx:1.25@{DIGEST}",
            ("docker.io", "library/nginx", "1.25"),
            f"docker.io/library/nginx:1.25@{DIGEST}",
        ),
    ],
)
def test_normalization(text: str, match_key: tuple[str, str, str], canonical: str) -> None:
    reference = parse_reference(text)
    assert reference.match_key == match_key
    assert reference.canonical == canonical


def test_different_registries_do_not_match() -> None:
    keys = {
        parse_reference(text).match_key
        for text in ("nginx:1", "ghcr.io/nginx:1", "quay.io/nginx:1")
    }
    assert len(keys) == 3


@pytest.mark.parametrize(
    ("text", "keep_tag", "expected"),
    [
        ("nginx:1.25", False, f"nginx@{DIGEST}"),
        ("nginx:1.25", True, f"nginx:1.25@{DIGEST}"),
        ("nginx", True, f"nginx@{DIGEST}"),
        ("docker.io/library/nginx:1.25", False, f"docker.io/library/nginx@{DIGEST}"),
        ("index.docker.io/nginx:1.25", True, f"index.docker.io/nginx:1.25@{DIGEST}"),
        ("localhost:5000/app:1", False, f"localhost:5000/app@{DIGEST}"),
        ("[::1]:5000/app:2", True, f"[::1]:5000/app:2@{DIGEST}"),
    ],
)
def test_pinned_keeps_the_name_as_written(text: str, keep_tag: bool, expected: str) -> None:
    assert parse_reference(text).pinned(DIGEST, keep_tag=keep_tag) == expected


def test_name_and_flags() -> None:
    reference = Reference(domain="ghcr.io", path="acme/api", tag="1", digest=None)
    assert reference.name == "ghcr.io/acme/api"
    assert not reference.is_pinned
    assert reference.tag_or_default == "1"
    assert Reference("", "nginx", None, DIGEST).is_pinned
    assert Reference("", "nginx", None, None).tag_or_default == "latest"


@pytest.mark.parametrize(
    "digest",
    [
        # The OCI image spec's own examples of digests in other encodings.
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    ],
)
def test_a_digest_in_another_encoding_is_read_as_gatekeeper_reads_it(digest: str) -> None:
    reference = parse_reference(f"nginx:1.25@{digest}")
    assert (reference.tag, reference.digest, reference.is_pinned) == ("1.25", digest, True)
    # What pinner writes (from a registry, a digest file, an index) is hex, as registries take.
    with pytest.raises(InvalidReferenceError, match="not a valid digest"):
        check_digest(digest)


def test_check_digest() -> None:
    assert check_digest(DIGEST) == DIGEST
    assert check_digest(f"sha512:{'0f' * 64}") == f"sha512:{'0f' * 64}"
    # Unregistered algorithms follow the reference grammar only: 32 or more hex digits.
    assert check_digest(f"md5:{HEX[:32]}") == f"md5:{HEX[:32]}"
    for bad in (f"sha256:{HEX[:63]}", f"sha256:{HEX.upper()}", f"md5:{HEX[:31]}", HEX, "sha256:"):
        with pytest.raises(InvalidReferenceError, match="not a valid digest"):
            check_digest(bad)

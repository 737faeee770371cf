"""What counts as pinned: Gatekeeper's k8simagedigests rule, quirks included, and exemptions."""

from __future__ import annotations

import pytest

from pinner.policy import GATEKEEPER_DIGEST_REGEX, is_exempt, is_pinned

HEX = "0123456789abcdef" * 4


def test_the_regex_is_gatekeepers_verbatim() -> None:
    # From gatekeeper-library's k8simagedigests template; a change here changes what passes.
    assert GATEKEEPER_DIGEST_REGEX == "@[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"


@pytest.mark.parametrize(
    "image",
    [
        f"nginx@sha256:{HEX}",
        f"nginx:1.25@sha256:{HEX}",
        f"docker.io/library/nginx@sha256:{HEX}",
        f"localhost:5000/app:1@sha256:{HEX}",
        f"app@sha512:{HEX}{HEX}",
        # Any algorithm, any length: Gatekeeper checks the shape, not the digest.
        "nginx@sha256:abc",
        "nginx@md5:x",
        "nginx@a.b+c_d-e:ABC=_-",
        # Unanchored: a match anywhere in the string is enough.
        "nginx@sha256:abc and more",
        "not a reference at all @x:y",
    ],
)
def test_pinned(image: str) -> None:
    assert is_pinned(image)


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.25",
        "localhost:5000/app:1",
        "nginx@",
        "nginx@sha256",
        "nginx@sha256:",
        "nginx@SHA256:abc",
        "nginx@:abc",
        "nginx@sha256-:abc",
        "nginx@sha256:+",
        "nginx#sha256:abc",
        "",
    ],
)
def test_not_pinned(image: str) -> None:
    assert not is_pinned(image)


@pytest.mark.parametrize(
    ("image", "patterns", "exempt"),
    [
        ("nginx:1.25", ["nginx:1.25"], True),
        ("nginx:1.25", ["nginx"], False),
        ("nginx:1.25", ["nginx:1.2"], False),
        ("nginx:1.25", ["docker.io/library/nginx:1.25"], False),  # as written, not normalized
        ("nginx:1.25", ["nginx*"], True),
        ("nginx-exporter:1", ["nginx*"], True),
        ("nginx:1.25", ["nginx:*"], True),
        ("registry.k8s.io/pause:3.9", ["registry.k8s.io/*"], True),
        ("registry.k8s.io.evil.com/pause", ["registry.k8s.io/*"], False),
        ("nginx:1.25", ["*"], True),
        ("nginx:1.25", ["*nginx"], False),  # only a trailing '*' is special
        ("a*b", ["a*b"], True),
        ("axb", ["a*b"], False),
        ("nginx:1.25", ["redis", "nginx:1.25"], True),
        ("nginx:1.25", [], False),
    ],
)
def test_exempt(image: str, patterns: list[str], exempt: bool) -> None:
    assert is_exempt(image, patterns) is exempt

"""Image references: parse, normalize and format, per the distribution reference grammar.

No I/O here. A reference keeps the name exactly as written (so the writer never adds
``docker.io/library/``) and also knows its normalized registry and repository (so
``nginx``, ``docker.io/nginx`` and ``index.docker.io/library/nginx`` match the same digest).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pinner.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"
# (registry, repository, tag): what a tag's digest is known by (``Reference.match_key``).
MatchKey = tuple[str, str, str]
# Path length limit from distribution/reference (the domain does not count).
MAX_PATH_LENGTH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(_DOMAIN)
_PATH_RE = re.compile(_PATH)
_TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST)
# The OCI image-spec rules for registered algorithms are stricter than the reference grammar:
# lowercase hex of an exact length. A pin we write or accept must follow them.
_STRICT_DIGESTS = {
    "sha256": re.compile(r"[a-f0-9]{64}"),
    "sha512": re.compile(r"[a-f0-9]{128}"),
}
_HEX64_RE = re.compile(r"[a-f0-9]{64}")
# The OCI image spec's digest grammar, which Gatekeeper's rule follows: any encoding, so
# `sha256+b64u:LCa0...` and `multihash+base58:QmRZ...` are digests there. Registries and the
# kubelet (distribution's grammar) take only hex; pinner accepts these where a manifest holds
# them, so `check` judges them as Gatekeeper does, and never writes one.
_OCI_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class Reference(NamedTuple):
    """One image reference, split into its parts.

    ``domain`` and ``path`` are as written; ``registry`` and ``repository`` are normalized.
    A NamedTuple: every image of every file is one, and a commit hook defines the type at each
    start-up (a frozen dataclass costs a millisecond more).
    """

    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The name as written: ``[domain/]path``, without tag or digest."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def registry(self) -> str:
        """The normalized registry: ``docker.io`` for Docker Hub in any spelling."""
        if not self.domain or self.domain == "index.docker.io":
            return DOCKER_HUB
        return self.domain

    @property
    def repository(self) -> str:
        """The normalized repository path, with ``library/`` for one-component Hub names."""
        if self.registry == DOCKER_HUB and "/" not in self.path:
            return f"library/{self.path}"
        return self.path

    @property
    def is_pinned(self) -> bool:
        return self.digest is not None

    @property
    def tag_or_default(self) -> str:
        return self.tag if self.tag is not None else DEFAULT_TAG

    @property
    def match_key(self) -> MatchKey:
        """What two references share when one's known digest applies to the other."""
        return (self.registry, self.repository, self.tag_or_default)

    @property
    def canonical(self) -> str:
        """The fully-qualified form, e.g. ``docker.io/library/nginx:latest``."""
        base = f"{self.registry}/{self.repository}"
        if self.digest is not None:
            return f"{base}:{self.tag}@{self.digest}" if self.tag else f"{base}@{self.digest}"
        return f"{base}:{self.tag_or_default}"

    def pinned(self, digest: str, *, keep_tag: bool) -> str:
        """The text to write: the name as written, the tag if asked for, and the digest."""
        if keep_tag and self.tag is not None:
            return f"{self.name}:{self.tag}@{digest}"
        return f"{self.name}@{digest}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> Reference:
    """Parse ``text`` or raise :class:`InvalidReferenceError` saying which part is wrong."""
    if not text:
        raise InvalidReferenceError("the image reference is empty")
    if text != text.strip():
        raise InvalidReferenceError("the image reference has leading or trailing white space")
    rest, digest = _split_digest(text)
    name, tag = _split_tag(rest)
    domain, path = _split_domain(name)
    if domain and not _DOMAIN_RE.fullmatch(domain):
        raise InvalidReferenceError(f"{domain!r} is not a valid registry host[:port]")
    if not path:
        raise InvalidReferenceError("the repository name is empty")
    if not _PATH_RE.fullmatch(path):
        if _PATH_RE.fullmatch(path.lower()):
            raise InvalidReferenceError("repository names must be lowercase")
        raise InvalidReferenceError(
            f"{path!r} is not a valid repository name "
            "(lowercase letters, digits and . _ - separators, joined by /)"
        )
    reference = Reference(domain=domain, path=path, tag=tag, digest=digest)
    # Counted as docker counts it: normalized, so Docker Hub's "library/" is part of it.
    if len(reference.repository) > MAX_PATH_LENGTH:
        raise InvalidReferenceError(
            f"the repository name is longer than {MAX_PATH_LENGTH} characters"
        )
    if not domain and _HEX64_RE.fullmatch(path) and tag is None and digest is None:
        raise InvalidReferenceError("a bare 64-character hex string is an image ID, not a name")
    return reference


def check_digest(digest: str) -> str:
    """Validate a digest strictly (``sha256:`` + 64 lowercase hex); return it unchanged."""
    algorithm, _, encoded = digest.partition(":")
    strict = _STRICT_DIGESTS.get(algorithm)
    if strict is not None and not strict.fullmatch(encoded):
        length = 64 if algorithm == "sha256" else 128
        raise InvalidReferenceError(
            f"{digest!r} is not a valid digest ({algorithm} takes {length} lowercase hex digits)"
        )
    if not _DIGEST_RE.fullmatch(digest):
        raise InvalidReferenceError(
            f"{digest!r} is not a valid digest (expected sha256: and 64 lowercase hex digits)"
        )
    return digest


def host_problem(value: str) -> str | None:
    """Why ``value`` is not a registry ``host[:port]`` (a mirror, an insecure registry), or
    ``None``. The reason never repeats the value: it may hold a password."""
    if not value:
        return "is empty"
    if any(character.isspace() for character in value):
        return "holds white space"
    if "@" in value:
        return (
            "holds a user name or password (user:password@); give credentials with "
            "`docker login` instead"
        )
    if "://" in value:
        return "holds a scheme; write the host alone, without http:// or https://"
    for mark, part in (("?", "a query"), ("#", "a fragment"), ("/", "a path")):
        if mark in value:
            return f"holds {part} ({mark!r}); write host[:port] only"
    if not _DOMAIN_RE.fullmatch(value):
        return "is not a host name or address with an optional :port"
    port = value.rpartition("]")[2].rpartition(":")[2] if ":" in value else ""
    if port and not 0 < int(port) < 65536:
        return "has a port outside 1-65535"
    return None


def shown_host(value: str) -> str:
    """``value`` for a message: anything before an '@' (a user name, a password) left out."""
    return f"<redacted>@{value.rpartition('@')[2]}" if "@" in value else value


def _split_digest(text: str) -> tuple[str, str | None]:
    rest, at, digest = text.partition("@")
    if not at:
        return text, None
    if "@" in digest:
        raise InvalidReferenceError("the reference has more than one '@'")
    algorithm = digest.partition(":")[0]
    if algorithm not in _STRICT_DIGESTS and _OCI_DIGEST_RE.fullmatch(digest):
        return rest, digest
    return rest, check_digest(digest)


def _split_tag(text: str) -> tuple[str, str | None]:
    # A ':' after the last '/' starts the tag; one before it belongs to a registry port.
    colon = text.rfind(":")
    if colon == -1 or colon < text.rfind("/"):
        return text, None
    tag = text[colon + 1 :]
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(
            f"{tag!r} is not a valid tag (letters, digits, _ . -; at most 128 characters)"
        )
    return text[:colon], tag


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and (first == "localhost" or "." in first or ":" in first or first != first.lower()):
        return first, rest
    return "", name

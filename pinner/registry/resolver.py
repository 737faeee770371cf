"""Resolve many references at once: deduplicated, concurrent, every failure collected.

``resolve_all`` looks each distinct ``(registry, repository, tag)`` up once
(``Reference.match_key``) on the bounded lookup pool (``pinner.registry.pool``). Digest-pinned
references are skipped: they need no lookup. A failure does not stop the others: the
``RegistryError``s (in practice ``ImageLookupError``s, naming the image, status, code and hint)
are returned beside the digests, both in the order the references came; bugs propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import NamedTuple, Protocol

from pinner.errors import RegistryError
from pinner.reference import MatchKey, Reference
from pinner.registry.platforms import parse_platform
from pinner.registry.pool import run_bounded
from pinner.settings import Settings


class ResolveResult(NamedTuple):
    digests: dict[MatchKey, str]
    failures: dict[MatchKey, RegistryError]


class DigestSource(Protocol):
    """What ``resolve_all`` needs from a client (``RegistryClient`` is one)."""

    @property
    def settings(self) -> Settings: ...

    def resolve(self, ref: Reference, platform: str | None = None) -> str: ...


def unique_references(refs: Iterable[Reference]) -> dict[MatchKey, Reference]:
    """The first reference for each key that still needs a digest, in input order."""
    unique: dict[MatchKey, Reference] = {}
    for ref in refs:
        if not ref.is_pinned:
            unique.setdefault(ref.match_key, ref)
    return unique


def resolve_all(
    refs: Iterable[Reference],
    client: DigestSource,
    *,
    platform: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ResolveResult:
    """Every distinct reference's digest, or why it has none; ``progress(done, total)`` counts
    distinct lookups, in the calling thread."""
    settings = client.settings
    wanted = platform or settings.platform
    if wanted is not None:
        parse_platform(wanted)  # a bad option fails once, before any request
    unique = unique_references(refs)
    jobs = [
        (key, ref.registry, partial(client.resolve, ref, wanted)) for key, ref in unique.items()
    ]
    digests, failures = run_bounded(jobs, settings, progress)
    return ResolveResult(digests, failures)

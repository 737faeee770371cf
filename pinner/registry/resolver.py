"""Resolve many references at once: deduplicated, concurrent, every failure collected.

Public API:

- ``resolve_all(refs, client, *, platform=None, progress=None) -> ResolveResult``: looks each
  distinct
  ``(registry, repository, tag)`` up once (``Reference.match_key``), with at most
  ``settings.concurrency`` lookups in flight overall and ``settings.per_registry`` per registry.
  Digest-pinned references are skipped: they need no lookup. A failure does not stop the
  others; registry failures are returned, bugs propagate. ``progress(done, total)`` is called
  in the calling thread with ``(0, total)`` first and after each distinct lookup, where
  ``total`` counts distinct lookups.
- ``ResolveResult(digests, failures)``: both keyed by ``match_key``; ``failures`` holds
  ``RegistryError``s (in practice :class:`pinner.registry.errors.ImageLookupError`, which carry
  ``image``, ``status``, ``code`` and ``hint``), in the order the references came.
- ``DigestSource``: what ``resolve_all`` needs from a client (``RegistryClient`` is one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from itertools import chain, zip_longest
from typing import NamedTuple, Protocol

from pinner.errors import RegistryError
from pinner.reference import Reference
from pinner.registry.client import RegistrySettings
from pinner.registry.platforms import parse_platform

Key = tuple[str, str, str]


class ResolveResult(NamedTuple):
    digests: dict[Key, str]
    failures: dict[Key, RegistryError]


class DigestSource(Protocol):
    @property
    def settings(self) -> RegistrySettings: ...

    def resolve(self, ref: Reference, platform: str | None = None) -> str: ...


def unique_references(refs: Iterable[Reference]) -> dict[Key, Reference]:
    """The first reference for each key that still needs a digest, in input order."""
    unique: dict[Key, Reference] = {}
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
    settings = client.settings
    wanted = platform or settings.platform
    if wanted is not None:
        parse_platform(wanted)  # a bad option fails once, before any request
    unique = unique_references(refs)
    if progress is not None:
        progress(0, len(unique))
    if not unique:
        return ResolveResult({}, {})
    limits = {
        ref.registry: threading.BoundedSemaphore(settings.per_registry) for ref in unique.values()
    }

    def lookup(ref: Reference) -> str:
        with limits[ref.registry]:
            return client.resolve(ref, wanted)

    futures: dict[Key, Future[str]] = {}
    workers = min(settings.concurrency, len(unique))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pinner-resolve") as pool:
        for key in _interleaved(unique):
            futures[key] = pool.submit(lookup, unique[key])
        if progress is not None:
            for done, _ in enumerate(as_completed(futures.values()), start=1):
                progress(done, len(unique))
    result = ResolveResult({}, {})
    for key in unique:
        try:
            result.digests[key] = futures[key].result()
        except RegistryError as err:
            result.failures[key] = err
    return result


def _interleaved(unique: dict[Key, Reference]) -> list[Key]:
    """Keys taking registries in turn, so workers waiting on one busy registry are few."""
    by_registry: dict[str, list[Key]] = {}
    for key in unique:
        by_registry.setdefault(key[0], []).append(key)
    rounds = zip_longest(*by_registry.values())
    return [key for key in chain.from_iterable(rounds) if key is not None]

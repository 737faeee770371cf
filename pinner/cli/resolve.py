"""The bridge from a command's settings to the registry client, imported lazily.

Nothing here imports httpx at module level: ``pinner check`` and offline pins never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pinner.errors import PinnerError
from pinner.reference import Reference
from pinner.settings import Settings

MatchKey = tuple[str, str, str]


@dataclass(frozen=True)
class RegistryOptions:
    platform: str | None = None
    insecure_registries: frozenset[str] = frozenset()
    mirrors: tuple[tuple[str, str], ...] = ()
    gcloud_hosts: frozenset[str] = frozenset()
    concurrency: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistryOptions:
        return cls(
            platform=settings.platform,
            insecure_registries=settings.insecure_registries,
            mirrors=settings.mirrors,
            gcloud_hosts=settings.gcloud_hosts,
            concurrency=settings.concurrency,
        )


def resolve_online(
    references: Sequence[Reference],
    options: RegistryOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[MatchKey, str], dict[MatchKey, PinnerError]]:
    """Ask the registries for every reference's digest; return digests and failures.

    ``progress(done, total)`` is called as references are resolved, from worker threads.
    """
    from pinner.registry import RegistryClient, RegistrySettings
    from pinner.resolver import resolve_all

    settings = RegistrySettings(
        insecure_registries=options.insecure_registries,
        mirrors=dict(options.mirrors),
        gcloud_hosts=options.gcloud_hosts,
        platform=options.platform,
        concurrency=options.concurrency,
    )
    if progress is not None:
        progress(0, len(references))
    with RegistryClient(settings) as client:
        # TODO(lead): resolve_all takes no progress callback yet; pass `progress` through so it
        # is called with (done, total) after each reference, instead of only before and after.
        result = resolve_all(references, client)
    if progress is not None:
        progress(len(references), len(references))
    return dict(result.digests), dict(result.failures)

"""The bridge from command-line flags to the registry client, imported lazily.

Nothing here imports httpx at module level: ``pinner check`` and offline pins never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pinner.cli.app import fail_usage
from pinner.errors import PinnerError
from pinner.reference import Reference

MatchKey = tuple[str, str, str]


@dataclass(frozen=True)
class RegistryOptions:
    platform: str | None = None
    insecure_registries: frozenset[str] = frozenset()
    mirrors: tuple[tuple[str, str], ...] = ()
    gcloud_hosts: frozenset[str] = frozenset()
    concurrency: int = 16

    @classmethod
    def from_flags(
        cls,
        platform: str | None,
        insecure: Sequence[str] | None,
        mirrors: Sequence[str] | None,
        gcloud_hosts: Sequence[str] | None,
    ) -> RegistryOptions:
        pairs = []
        for mirror in mirrors or ():
            registry, equals, host = mirror.partition("=")
            if not equals or not registry or not host:
                raise fail_usage(f"--mirror takes REGISTRY=HOST[:PORT], not {mirror!r}.")
            pairs.append((registry, host))
        return cls(
            platform=platform,
            insecure_registries=frozenset(insecure or ()),
            mirrors=tuple(pairs),
            gcloud_hosts=frozenset(gcloud_hosts or ()),
        )


def resolve_online(
    references: Sequence[Reference], options: RegistryOptions
) -> tuple[dict[MatchKey, str], dict[MatchKey, PinnerError]]:
    """Ask the registries for every reference's digest; return digests and failures."""
    from pinner.registry import RegistryClient, RegistrySettings
    from pinner.resolver import resolve_all

    settings = RegistrySettings(
        insecure_registries=options.insecure_registries,
        mirrors=dict(options.mirrors),
        gcloud_hosts=options.gcloud_hosts,
        platform=options.platform,
        concurrency=options.concurrency,
    )
    with RegistryClient(settings) as client:
        result = resolve_all(references, client)
    return dict(result.digests), dict(result.failures)

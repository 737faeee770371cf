"""The bridge from a command's settings to the registry client, imported lazily.

Nothing here imports httpx at module level: ``pinner check`` and offline pins never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pinner.cli.progress import Progress
from pinner.config.settings import Settings
from pinner.errors import PinnerError
from pinner.pinning import Lookup
from pinner.reference import MatchKey, Reference

if TYPE_CHECKING:
    from pinner.registry.client import RegistrySettings


@dataclass(frozen=True)
class RegistryOptions:
    platform: str | None = None
    insecure_registries: frozenset[str] = frozenset()
    mirrors: tuple[tuple[str, str], ...] = ()
    gcloud_hosts: frozenset[str] = frozenset()
    concurrency: int = 16
    timeout: float | None = None  # seconds to connect and per read; None: the client's defaults

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | None = None) -> RegistryOptions:
        return cls(
            platform=settings.platform,
            insecure_registries=settings.insecure_registries,
            mirrors=settings.mirrors,
            gcloud_hosts=settings.gcloud_hosts,
            concurrency=settings.concurrency,
            timeout=timeout,
        )


def online_lookup(settings: Settings, timeout: float | None, progress: Progress) -> Lookup:
    """pin's lookup of the references no digest file knows: the registries, with a progress bar."""

    def lookup(missing: Sequence[Reference]) -> tuple[dict[MatchKey, str], dict[MatchKey, str]]:
        options = RegistryOptions.from_settings(settings, timeout=timeout)
        stage = progress.stage("pinner: resolving references")
        digests, failures = resolve_online(missing, options, stage)
        progress.finish()
        return digests, {key: str(error) for key, error in failures.items()}

    return lookup


def resolve_online(
    references: Sequence[Reference],
    options: RegistryOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[MatchKey, str], dict[MatchKey, PinnerError]]:
    """Ask the registries for every reference's digest; return digests and failures.

    A reference written ``name:tag@digest`` is looked up by its tag: the question is always
    "what does this tag point to now?". ``progress(done, total)`` is called after each lookup.
    """
    from pinner.registry.client import RegistryClient
    from pinner.registry.resolver import resolve_all

    by_tag = [replace(reference, digest=None) for reference in references]
    with RegistryClient(client_settings(options)) as client:
        result = resolve_all(by_tag, client, progress=progress)
    return dict(result.digests), dict(result.failures)


def client_settings(options: RegistryOptions, *, platform: bool = True) -> RegistrySettings:
    """The registry client's settings for a command's options (imports the client lazily).

    ``platform=False`` leaves the default platform unset, for commands that judge platform
    manifests themselves (verify).
    """
    from pinner.registry.client import RegistrySettings

    return RegistrySettings(
        insecure_registries=options.insecure_registries,
        mirrors=dict(options.mirrors),
        gcloud_hosts=options.gcloud_hosts,
        platform=options.platform if platform else None,
        concurrency=options.concurrency,
        connect_timeout=options.timeout or RegistrySettings.connect_timeout,
        read_timeout=options.timeout or RegistrySettings.read_timeout,
    )

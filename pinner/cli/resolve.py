"""The bridge from a command to the registry client, imported lazily.

Nothing here imports httpx at module level: ``pinner check`` and offline pins never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pinner.cli.app import user_errors
from pinner.cli.progress import Progress
from pinner.errors import PinnerError
from pinner.pinning import Failures, Lookup
from pinner.reference import MatchKey, Reference
from pinner.settings import Settings

if TYPE_CHECKING:
    from pinner.registry.client import RegistryClient


def online_lookup(settings: Settings, progress: Progress) -> Lookup:
    """pin's lookup of the references no digest file knows: the registries, with a progress bar."""

    def lookup(missing: Sequence[Reference]) -> tuple[dict[MatchKey, str], Failures]:
        stage = progress.stage("pinner: resolving references")
        digests, failures = resolve_online(missing, settings, stage)
        progress.finish()
        return digests, dict(failures)

    return lookup


def resolve_online(
    references: Sequence[Reference],
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[MatchKey, str], dict[MatchKey, PinnerError]]:
    """Ask the registries for every reference's digest; return digests and failures.

    A reference written ``name:tag@digest`` is looked up by its tag: the question is always
    "what does this tag point to now?". ``progress(done, total)`` is called after each lookup.
    """
    from pinner.registry.client import RegistryClient
    from pinner.registry.resolver import resolve_all

    by_tag = [reference._replace(digest=None) for reference in references]
    with RegistryClient(settings) as client:
        result = resolve_all(by_tag, client, progress=progress)
    return dict(result.digests), dict(result.failures)


@contextmanager
def client_without_platform(settings: Settings, progress: Progress) -> Iterator[RegistryClient]:
    """A registry client with no default platform, for verify and tags: they compare each tag's
    own digest and judge platform manifests themselves (``.pinner.yaml`` may set a platform).

    A user's mistake it raises (a bad mirror) is printed once the progress bar is gone; the
    bar ends either way.
    """
    from pinner.registry.client import RegistryClient

    try:
        with (
            user_errors(progress.finish),
            RegistryClient(settings._replace(platform=None)) as client,
        ):
            yield client
    finally:
        progress.finish()

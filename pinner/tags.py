"""Name a digest by the tags that point to it now: ``tags_for_digest``. Nothing here prints.

The tags come from the tag list's gcr.io ``manifest`` map when the registry sends one, else from
a HEAD per tag on the bounded lookup pool (``pinner.registry.pool``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pinner.errors import RegistryError
from pinner.reader import RegistryReader, check_no_default_platform
from pinner.reference import Reference
from pinner.registry.errors import ImageNotFoundError
from pinner.registry.pool import Progress, run_bounded


@dataclass(frozen=True)
class TagsResult:
    tags: list[str]  # sorted
    from_map: bool  # the registry's manifest map answered; no HEAD per tag was needed
    listed: int  # how many tags the repository has
    failures: dict[str, RegistryError] = field(default_factory=dict)  # tag -> why it is unknown


def tags_for_digest(
    client: RegistryReader,
    reference: Reference,
    digest: str,
    progress: Progress | None = None,
) -> TagsResult:
    """The tags of ``reference``'s repository that point to ``digest`` now.

    Listing failures propagate. A tag deleted between the list and its HEAD is not a failure;
    any other failed HEAD is returned, because the answer may then be incomplete.
    """
    check_no_default_platform(client)
    listing = client.list_tags(reference)
    if listing.manifests:
        # gcr.io and Artifact Registry say which tags each digest has: no HEADs needed.
        entry = listing.manifests.get(digest)
        found = sorted(set(entry.tags)) if entry is not None else []
        return TagsResult(found, from_map=True, listed=len(listing.tags))
    bare = Reference(reference.domain, reference.path, None, None)
    jobs: list[tuple[str, str, Callable[[], str | None]]] = [
        (tag, reference.registry, _head_job(client, bare._replace(tag=tag)))
        for tag in dict.fromkeys(listing.tags)
    ]
    answers, failures = run_bounded(jobs, client.settings, progress)
    found = sorted(tag for tag, answer in answers.items() if answer == digest)
    return TagsResult(found, from_map=False, listed=len(jobs), failures=failures)


def _head_job(client: RegistryReader, reference: Reference) -> Callable[[], str | None]:
    def job() -> str | None:
        try:
            return client.resolve(reference)
        except ImageNotFoundError:
            return None  # deleted since the list was made: it points nowhere

    return job


def read_tags(
    client: RegistryReader, reference: Reference, progress: Progress | None
) -> TagsAnswer:
    """``tags_for_digest`` for ``reference``'s digest, and whether the repository has it at all
    (asked only when no tag points to it)."""
    digest = reference.digest
    assert digest is not None
    found = tags_for_digest(client, reference, digest, progress)
    exists = bool(found.tags or found.failures) or client.manifest_exists(reference, digest)
    return TagsAnswer(found, exists)


@dataclass(frozen=True)
class TagsAnswer:
    found: TagsResult
    exists: bool  # whether the repository has the digest

    def problems(self, reference: Reference) -> list[str]:
        """What the user must be told beside the tags: why the list may be incomplete (exit 2),
        or why it is empty (exit 1)."""
        found = self.found
        repository = f"{reference.registry}/{reference.repository}"
        if found.failures:
            # Some tags could not be read: a list without them would look complete.
            return [str(error) for error in found.failures.values()] + [
                f"{len(found.failures)} of {found.listed} tags of {repository} could not be "
                "checked, so the list above may be incomplete. Fix the errors above and run "
                "pinner tags again."
            ]
        if found.tags:
            return []
        if not self.exists:
            return [
                f"{repository} has no manifest {reference.digest}: it was deleted or never pushed "
                "there. Check the digest and the repository."
            ]
        return [
            f"no tag of {repository} points to {reference.digest} ({found.listed} "
            f"tag{'' if found.listed == 1 else 's'} checked). It may be one platform's "
            "manifest of a multi-arch index, or the tags that named it have moved on."
        ]

"""Check pins against their registries: ``verify_pins``. Library logic; nothing here prints.

Every pinned reference (exempt ones aside) gets a ``PinCheck``: ``ok``, ``missing`` (the
registry no longer has the digest), ``drift`` (``name:tag@digest`` whose tag now points
elsewhere, or no longer exists), ``platform`` (a warning: the pin is one platform's manifest of
the multi-arch index its tag points to) or ``error`` (the registry could not say). Each distinct
digest gets one HEAD; each distinct tag one HEAD, and one GET of its manifest only when a pin
differs from it. Lookups run on the bounded lookup pool (``pinner.registry.pool``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pinner.errors import Diagnostic
from pinner.manifests.scan import FileScan
from pinner.manifests.sites import ImageSite
from pinner.policy import is_exempt
from pinner.reader import RegistryReader, TagState, check_no_default_platform, tag_state
from pinner.reference import MatchKey, Reference
from pinner.registry.errors import placed_failures
from pinner.registry.platforms import parse_platform
from pinner.registry.pool import run_bounded

if TYPE_CHECKING:
    # Annotations only: importing the registry client pulls in httpx, which `pinner check`
    # (which imports this module through the CLI) must not pay for.
    pass

Progress = Callable[[int, int], None]
DigestKey = tuple[str, str, str]  # registry, repository, digest
# ("digest", DigestKey) or ("tag", MatchKey): one question verify asks a registry.
LookupKey = tuple[str, tuple[str, str, str]]

OK = "ok"
MISSING = "missing"
DRIFT = "drift"
PLATFORM = "platform"
ERROR = "error"
STATUSES = (OK, DRIFT, MISSING, PLATFORM, ERROR)


@dataclass(frozen=True)
class VerifyOptions:
    exempt: tuple[str, ...] = ()
    # The platform pins were made for (--platform): a pin of that platform's manifest is then
    # what the user asked for, not the multi-arch mistake.
    platform: str | None = None


@dataclass(frozen=True)
class PinCheck:
    """What the registry says about one pinned image site."""

    site: ImageSite
    reference: Reference
    status: str  # one of STATUSES
    exists: bool | None = None  # whether the registry has the pinned digest (None: unknown)
    tag_found: bool | None = None  # whether the tag exists (None: no tag, or unknown)
    current: str | None = None  # the digest the tag calls for now (what --update would write)
    platform: str | None = None  # for PLATFORM: the platform the pinned manifest is for
    index: str | None = None  # for PLATFORM: the index the tag points to
    error: str | None = None  # for ERROR: why the registry could not say


@dataclass
class VerifyResult:
    checks: list[PinCheck] = field(default_factory=list)
    # Registry failures, each with the places that use the image; then unreadable files and
    # invalid references.
    errors: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    references: int = 0
    not_pinned: int = 0
    exempt: int = 0
    failed: int = 0

    def count(self, status: str) -> int:
        return sum(1 for check in self.checks if check.status == status)


def verify_pins(
    scans: Sequence[FileScan],
    client: RegistryReader,
    options: VerifyOptions,
    progress: Progress | None = None,
) -> VerifyResult:
    """Ask the registries about every pinned reference; see the module docstring."""
    check_no_default_platform(client)
    if options.platform is not None:
        parse_platform(options.platform)  # a bad option fails once, before any request
    result = VerifyResult(files=len(scans))
    pinned = _pinned_images(scans, options, result)
    answers, failures = run_bounded(
        _lookup_jobs(pinned, client, options), client.settings, progress
    )
    failed_sites: dict[LookupKey, list[ImageSite]] = {}
    for site, reference in pinned:
        lookups = _lookups_of(reference)
        broken = [lookup for lookup in lookups if lookup in failures]
        if broken:
            # One message per image: when the digest could not be checked, the tag's failure
            # (nearly always the same refusal) would only repeat it.
            failed_sites.setdefault(broken[0], []).append(site)
            result.checks.append(PinCheck(site, reference, ERROR, error=str(failures[broken[0]])))
            result.failed += 1
            continue
        exists = answers[lookups[0]]
        state = answers[lookups[1]] if len(lookups) > 1 else None
        assert isinstance(exists, bool) and (state is None or isinstance(state, TagState))
        result.checks.append(_judge(site, reference, exists, state))
    result.errors = _registry_errors(failures, failed_sites) + result.errors
    return result


def _pinned_images(
    scans: Sequence[FileScan], options: VerifyOptions, result: VerifyResult
) -> list[tuple[ImageSite, Reference]]:
    """The images pinned by digest, each with its reference; the others are counted in
    ``result``, with the scans' errors."""
    pinned: list[tuple[ImageSite, Reference]] = []
    for scan in scans:
        if scan.error is not None:
            result.errors.append(Diagnostic.of(scan.error))
            result.failed += 1
        result.errors.extend(Diagnostic.of(error) for error in scan.invalid)
        for site, reference, _ in scan.images:
            result.references += 1
            if reference is None:
                result.failed += 1
            elif is_exempt(site.image, options.exempt):
                result.exempt += 1
            elif reference.digest is None:
                result.not_pinned += 1
            else:
                pinned.append((site, reference))
    return pinned


def _lookups_of(reference: Reference) -> list[LookupKey]:
    """What is asked about one pin: does its digest exist; and, with a tag, where it points."""
    lookups: list[LookupKey] = [("digest", _digest_key(reference))]
    if reference.tag is not None:
        lookups.append(("tag", reference.match_key))
    return lookups


def _lookup_jobs(
    pinned: Sequence[tuple[ImageSite, Reference]], client: RegistryReader, options: VerifyOptions
) -> list[tuple[LookupKey, str, Callable[[], object]]]:
    """One job per distinct digest and per distinct tag, however many files pin them."""
    digests: dict[DigestKey, Reference] = {}
    tags: dict[MatchKey, tuple[Reference, set[str]]] = {}
    for _, reference in pinned:
        digests.setdefault(_digest_key(reference), reference)
        if reference.tag is not None:
            bare = reference._replace(digest=None)
            entry = tags.setdefault(reference.match_key, (bare, set()))
            entry[1].add(_digest(reference))
    jobs: list[tuple[LookupKey, str, Callable[[], object]]] = []
    for key, reference in digests.items():
        digest = _digest(reference)
        jobs.append((("digest", key), reference.registry, _exists_job(client, reference, digest)))
    for key, (reference, wanted) in tags.items():
        job = _tag_job(client, reference, frozenset(wanted), options.platform)
        jobs.append((("tag", key), reference.registry, job))
    return jobs


def _registry_errors(
    failures: Mapping[LookupKey, Exception], failed_sites: Mapping[LookupKey, list[ImageSite]]
) -> list[Diagnostic]:
    """Each failed lookup once, placed at every image it speaks for (``placed_failures``)."""
    failed = {lookup: failures[lookup] for lookup in failed_sites}
    return placed_failures(failed, lambda lookup: failed_sites[lookup])


def _judge(site: ImageSite, reference: Reference, exists: bool, state: TagState | None) -> PinCheck:
    digest = _digest(reference)
    check = PinCheck(site, reference, OK if exists else MISSING, exists=exists)
    if state is None:
        return check  # a digest-only pin: nothing to compare it with
    if state.top is None:
        return replace(check, status=MISSING if not exists else DRIFT, tag_found=False)
    check = replace(check, tag_found=True, current=state.expected or state.top)
    if digest in (state.top, state.expected):
        # The tag points here, or (pinned with --platform) to an index whose child this is.
        return replace(check, current=digest)
    if not exists:
        return check
    platform = state.children.get(digest)
    if platform is not None:
        return replace(check, status=PLATFORM, platform=platform, index=state.top)
    return replace(check, status=DRIFT)


def _exists_job(client: RegistryReader, reference: Reference, digest: str) -> Callable[[], bool]:
    def job() -> bool:
        return client.manifest_exists(reference, digest)

    return job


def _tag_job(
    client: RegistryReader, reference: Reference, pinned: frozenset[str], platform: str | None
) -> Callable[[], TagState]:
    return lambda: tag_state(client, reference, pinned, platform)


def _digest(reference: Reference) -> str:
    assert reference.digest is not None
    return reference.digest


def _digest_key(reference: Reference) -> DigestKey:
    return (reference.registry, reference.repository, _digest(reference))

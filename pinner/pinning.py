"""Pin a run's files: the digests each needs, from digest files first and a lookup for the
rest, then every file's plan (``pinner.planning``), with each failed lookup reported once.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pinner.errors import Diagnostic, PinnerError
from pinner.manifests.scan import FileScan
from pinner.manifests.sites import ImageSite
from pinner.planning import Change, FilePlan, PinOptions, left_alone, needs_digest, plan_file
from pinner.reference import MatchKey, Reference
from pinner.registry.errors import placed_failures
from pinner.tally import Tally

# Digests for the references no digest file knows: (digests, failure messages), both by key.
# A failure is a message, or the registry's error (which may be about a whole host).
Failures = dict[MatchKey, "str | PinnerError"]
Lookup = Callable[[Sequence[Reference]], tuple[dict[MatchKey, str], Failures]]


@dataclass
class PinRun:
    """What ``pin_scans`` decided for every file, and every digest it used."""

    plans: list[FilePlan]
    errors: list[Diagnostic]  # failed lookups (each placed where the image is used), the files'
    wanted: dict[MatchKey, Reference]  # the references that needed a digest
    digests: dict[MatchKey, str]  # every digest known: the digest files' and the looked up

    @property
    def changes(self) -> list[Change]:
        return [change for plan in self.plans for change in plan.changes]

    @property
    def unwritten_blocks(self) -> list[ImageSite]:
        """Values image blocks with no digest key, not written (PinOptions.digest_in_tag)."""
        return [site for plan in self.plans for site in plan.left_alone]

    def tally(self) -> Tally:
        total = Tally()
        for plan in self.plans:
            total.add(plan.tally)
        return total


def pin_scans(
    scans: Sequence[FileScan], known: Mapping[MatchKey, str], options: PinOptions, lookup: Lookup
) -> PinRun:
    """Plan every file: digests from ``known`` first, then ``lookup`` for the rest."""
    wanted = wanted_references(scans, options)
    missing = [reference for key, reference in wanted.items() if key not in known]
    digests = dict(known)
    failures: Failures = {}
    if missing:
        found, failures = lookup(missing)
        digests.update(found)
    plans = [plan_file(scan, digests, options) for scan in scans]
    errors = failure_messages(scans, failures, options)
    errors += [Diagnostic.of(error) for plan in plans for error in plan.errors]
    return PinRun(plans, errors, wanted, digests)


def offline_lookup(
    missing: Sequence[Reference], lock: str | None = None
) -> tuple[dict[MatchKey, str], Failures]:
    """``--offline``: no registry is asked, so every reference no digest file knows fails, with
    the command that adds it to ``lock`` (the lock file the run reads or writes)."""
    file = f" --file {shlex.quote(lock)}" if lock is not None else ""
    return {}, {
        reference.match_key: (
            f"no known digest for {reference} and --offline forbids asking the registry. Add it "
            f"with `pinner lock add{file} {shlex.quote(str(reference))}`, or drop --offline."
        )
        for reference in missing
    }


def failure_messages(
    scans: Sequence[FileScan], failures: Mapping[MatchKey, str | PinnerError], options: PinOptions
) -> list[Diagnostic]:
    """Each failed lookup once, placed at every image that uses it (``placed_failures``)."""
    places = sites_by_key(scans, options)
    return placed_failures(dict(sorted(failures.items())), lambda key: places.get(key, []))


def wanted_references(scans: Iterable[FileScan], options: PinOptions) -> dict[MatchKey, Reference]:
    """The distinct references that need a digest, deduplicated by what they name."""
    wanted: dict[MatchKey, Reference] = {}
    for scan in scans:
        if scan.invalid:
            continue  # the file will not be pinned: do not spend registry requests on it
        for site, reference, _ in scan.images:
            if (
                reference is not None
                and needs_digest(site, reference, options)
                and not left_alone(site, options)
            ):
                wanted.setdefault(reference.match_key, reference)
    return wanted


def sites_by_key(scans: Sequence[FileScan], options: PinOptions) -> dict[MatchKey, list[ImageSite]]:
    """Every place that uses each wanted reference, for error messages."""
    places: dict[MatchKey, list[ImageSite]] = {}
    for scan in scans:
        for site, reference, _ in scan.images:
            if (
                reference is not None
                and needs_digest(site, reference, options)
                and not left_alone(site, options)
            ):
                places.setdefault(reference.match_key, []).append(site)
    return places

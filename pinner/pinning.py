"""Decide what to pin and compute each file's new text: the substitute phase.

Pure logic: the digests come in from digest files or the resolver, the new text goes out to the
writer. A file is rewritten only when every image it needs pinned has a digest and can be spliced
exactly; otherwise it is left as it was and the reasons are reported.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pinner.errors import Diagnostic, Location, ManifestError, PinnerError, UnreadableFileError
from pinner.manifests.rewrite import Edit, apply_edits
from pinner.manifests.scan import FileScan
from pinner.manifests.site_edits import site_edit
from pinner.manifests.sites import ImageSite, locations
from pinner.policy import is_exempt, is_pinned
from pinner.reference import MatchKey, Reference
from pinner.registry.errors import failure_groups
from pinner.tally import Tally

# Digests for the references no digest file knows: (digests, failure messages), both by key.
# A failure is a message, or the registry's error (which may be about a whole host).
Failures = dict[MatchKey, "str | PinnerError"]
Lookup = Callable[[Sequence[Reference]], tuple[dict[MatchKey, str], Failures]]


@dataclass(frozen=True)
class PinOptions:
    keep_tag: bool = False
    exempt: tuple[str, ...] = ()
    # Also re-resolve `name:tag@digest` references and move the digest when the tag has moved
    # (references not pinned yet are pinned as usual; digest-only pins stay as they are).
    update: bool = False
    # Write `tag@sha256:...` into the tag of a Helm values image block that has no digest key
    # (as Renovate does); without it such a block is left alone, with a notice.
    digest_in_tag: bool = False


@dataclass(frozen=True)
class Change:
    site: ImageSite
    old: str
    new: str


@dataclass
class FilePlan:
    scan: FileScan
    changes: list[Change] = field(default_factory=list)
    new_text: str | None = None  # None when the file stays as it is
    errors: list[PinnerError] = field(default_factory=list)
    # References with no digest: the caller reports each once, with every place that uses it.
    unresolved: set[MatchKey] = field(default_factory=set)
    # Values image blocks with no digest key, not written (see PinOptions.digest_in_tag).
    left_alone: list[ImageSite] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    # What else the changes change: aliases of an anchored image used where no image goes.
    notices: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.unresolved)


def left_alone(site: ImageSite, options: PinOptions) -> bool:
    """A values image block with no digest key, which pin writes only when told to."""
    return site.slot is not None and site.slot.key == "tag" and not options.digest_in_tag


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
    """Each failed lookup once, with every place that uses the image (a host that could not be
    reached once, with every image on it), in the text and as data."""
    places = sites_by_key(scans, options)
    ordered = dict(sorted(failures.items()))
    return [
        Diagnostic(
            message,
            tuple(
                Location(site.path, site.line, site.column, site.image)
                for key in keys
                for site in places.get(key, [])
            ),
        )
        for message, keys in failure_groups(ordered, lambda key: locations(places.get(key, [])))
    ]


def needs_digest(site: ImageSite, reference: Reference, options: PinOptions) -> bool:
    if is_exempt(site.image, options.exempt):
        return False
    if options.update and reference.tag is not None and reference.digest is not None:
        return True
    return not is_pinned(site.image)


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


def plan_file(scan: FileScan, digests: Mapping[MatchKey, str], options: PinOptions) -> FilePlan:
    plan = FilePlan(scan)
    plan.tally.files = 1
    plan.tally.skipped = len(scan.skipped)
    if scan.error is None and not scan.images:
        return plan  # no image: nothing to change (a scan keeps no text it will not need)
    if scan.error is not None or scan.source is None:
        plan.errors.append(
            unchanged(scan.error or ManifestError(f"{scan.display}: could not be read."))
        )
        plan.tally.unreadable = 1
        return plan
    plan.errors.extend(unchanged(error) for error in scan.invalid)
    text = scan.source.text
    edits = [
        edit
        for site, reference, _ in scan.images
        if (edit := _plan_image(plan, text, site, reference, digests, options)) is not None
    ]
    if plan.failed:
        # All or nothing: a half-pinned file would pass review looking finished. Its resolved
        # images were not written, so they count as failed, not pinned.
        plan.changes = []
        plan.notices = []
        plan.tally.failed += plan.tally.pinned
        plan.tally.pinned = 0
    elif edits:
        plan.new_text = apply_edits(scan.source.text, edits)
    return plan


def _plan_image(
    plan: FilePlan,
    text: str,
    site: ImageSite,
    reference: Reference | None,
    digests: Mapping[MatchKey, str],
    options: PinOptions,
) -> Edit | None:
    """Count one image of ``text`` in ``plan``; return its edit if it is pinned now."""
    plan.tally.references += 1
    if reference is None:
        plan.tally.failed += 1
        return None
    if is_exempt(site.image, options.exempt):
        plan.tally.exempt += 1
        return None
    if not needs_digest(site, reference, options):
        plan.tally.already_pinned += 1
        return None
    if left_alone(site, options):
        plan.tally.skipped += 1  # said once per chart, by the command
        plan.left_alone.append(site)
        return None
    key = reference.match_key
    digest = digests.get(key)
    if digest is None:
        plan.tally.failed += 1
        plan.unresolved.add(key)
        return None
    if site.problem is not None:
        plan.tally.failed += 1
        plan.errors.append(_unspliceable(site))
        return None
    # A pin being moved keeps the tag it was written with; a values block keeps its tag,
    # and a kustomize entry its newTag (only its digest key is written).
    keep_tag = (
        options.keep_tag
        or reference.digest is not None
        or site.slot is not None
        or site.digest_slot is not None
    )
    new_image = reference.pinned(digest, keep_tag=keep_tag)
    if new_image == site.image:
        plan.tally.already_pinned += 1
        return None
    plan.tally.pinned += 1
    plan.changes.append(Change(site, site.image, new_image))
    plan.notices.extend(
        notice for notice in _alias_notices(site, new_image) if notice not in plan.notices
    )
    return site_edit(text, site, new_image, digest)


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


def unchanged(error: PinnerError) -> PinnerError:
    """A file's error as pin reports it: pin writes a file whole or not at all."""
    # The reading phase says only what is wrong: `check` changes nothing, so it says nothing else.
    if isinstance(error, UnreadableFileError) or error.locations == ():
        return error  # nothing was read: nothing to say about changing it
    return ManifestError(f"{error} The file was not changed.", at=error.locations)


def _alias_notices(site: ImageSite, new_image: str) -> list[Diagnostic]:
    """The alias stays an alias (see pinner.manifests.aliases): say what it changes."""
    return [
        Diagnostic(
            f"{site.path}:{use.line}: {use.path} is *{use.anchor}, an alias of the "
            f"image on line {site.line}: pinning changes it to {new_image} too.",
            (Location(site.path, use.line, None, site.image),),
        )
        for use in site.aliases
    ]


def _unspliceable(site: ImageSite) -> ManifestError:
    return ManifestError(
        f"{site.where}: cannot rewrite {site.image!r} exactly: "
        f"{site.problem}. Write it as a plain or quoted one-line string; the file was not changed.",
        at=[Location(site.path, site.line, site.column, site.image)],
    )

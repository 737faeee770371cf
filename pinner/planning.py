"""One file's pins: which images need a digest, and the file's new text (the substitute step).

Pure text to text: the digests come in (from digest files or the resolver, see
``pinner.pinning``), the new text goes out to the writer. A file is rewritten only when every
image it needs pinned has a digest and can be spliced exactly; otherwise it is left as it was
and the reasons are reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pinner.errors import Diagnostic, Location, ManifestError, PinnerError, UnreadableFileError
from pinner.manifests.rewrite import Edit, apply_edits
from pinner.manifests.scan import FileScan
from pinner.manifests.site_edits import site_edit
from pinner.manifests.sites import ImageSite
from pinner.policy import is_exempt, is_pinned
from pinner.reference import MatchKey, Reference
from pinner.tally import Tally


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


def needs_digest(site: ImageSite, reference: Reference, options: PinOptions) -> bool:
    if is_exempt(site.image, options.exempt):
        return False
    if options.update and reference.tag is not None and reference.digest is not None:
        return True
    return not is_pinned(site.image)


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
        at=[site.location],
    )

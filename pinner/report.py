"""check's and pin's reports, and the summary line, for people (text), programs (json), GitHub
(annotations) and code scanning (SARIF, check only); built of :mod:`pinner.formats`.

Pure functions returning strings: the CLI decides where they go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pinner.errors import Diagnostic
from pinner.formats import (
    github_annotation,
    github_tail,
    json_report,
    one_per_line,
    sarif_report,
    site_record,
)
from pinner.manifests.sites import ImageSite, Skipped
from pinner.policy import is_pinned

if TYPE_CHECKING:
    # Annotations only: `pinner check` reports no changes, and need not import pin's logic.
    from pinner.planning import Change
    from pinner.tally import Tally

FIELD_WORDS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
    "volumes": "image volume",
    "images": "images entry",
}


def describe_owner(site: ImageSite) -> str:
    """``Deployment web, container nginx``: which object and container hold the image."""
    owner = f"{site.kind} {site.name}".strip() or "object"
    holder = FIELD_WORDS.get(site.field, site.field)
    return (
        f"{owner}, {holder} {site.container}".rstrip() if site.container else f"{owner}, {holder}"
    )


def violation_message(site: ImageSite) -> str:
    return f"{site.image} is not pinned by digest ({describe_owner(site)})"


def check_report(
    violations: Sequence[ImageSite],
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
    summary: Mapping[str, float],
    output_format: str,
    skipped: Sequence[Skipped] = (),
) -> str:
    """Violations as text lines, one JSON document, or GitHub annotations (with the errors)."""
    if output_format == "json":
        violation_records = [site_record(site) for site in violations]
        fields = {"violations": violation_records}
        return json_report("check", fields, errors, notices, skipped, summary)
    if output_format == "github":
        lines = [github_annotation(site, violation_message(site)) for site in violations]
        return one_per_line(lines + github_tail(errors, notices, skipped))
    if output_format == "sarif":
        from pinner import sarif

        findings = [
            sarif.site_finding(sarif.NOT_PINNED, violation_message(site), site)
            for site in violations
        ]
        return sarif_report(sarif.CHECK_RULES, findings, errors, notices, skipped)
    return one_per_line(f"{site.where}: {violation_message(site)}" for site in violations)


def change_line(change: Change) -> str:
    return f"{change.site.where}: {change.old} -> {change.new}"


def pin_report(
    changes: Sequence[Change],
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
    summary: Mapping[str, float],
    output_format: str,
    *,
    written: bool,
    skipped: Sequence[Skipped] = (),
) -> str:
    """Changes made (``written``) or that would be made, in the chosen format."""
    if output_format == "json":
        change_records = [{**site_record(c.site), "new_image": c.new} for c in changes]
        fields = {"written": written, "changes": change_records}
        return json_report("pin", fields, errors, notices, skipped, summary)
    if output_format == "github":
        lines = [_change_annotation(change, written) for change in changes]
        return one_per_line(lines + github_tail(errors, notices, skipped))
    return one_per_line(change_line(change) for change in changes)


def summary_record(
    tally: Tally, seconds: float, *, not_pinned: int | None = None
) -> dict[str, float]:
    """The summary line's figures, under the keys the JSON reports use."""
    counted = {"not_pinned": not_pinned} if not_pinned is not None else {"pinned": tally.pinned}
    return {
        "files": tally.files,
        "references": tally.references,
        **counted,
        "already_pinned": tally.already_pinned,
        "exempt": tally.exempt,
        "failed": tally.failed,
        "unreadable_files": tally.unreadable,
        "skipped": tally.skipped,
        "seconds": round(seconds, 2),
    }


def summary_line(
    command: str, tally: Tally, seconds: float, *, not_pinned: int | None = None
) -> str:
    parts = [f"{tally.pinned} pinned"] if not_pinned is None else [f"{not_pinned} not pinned"]
    parts += [
        f"{tally.already_pinned} already pinned",
        f"{tally.exempt} exempt",
        f"{tally.failed} failed",
    ]
    if tally.skipped:
        parts.append(f"{tally.skipped} skipped")
    unreadable = (
        f"; {tally.unreadable} {_plural(tally.unreadable, 'file')} could not be read"
        if tally.unreadable
        else ""
    )
    return (
        f"pinner {command}: {tally.files} {_plural(tally.files, 'file')} scanned, "
        f"{tally.references} {_plural(tally.references, 'reference')} found: "
        f"{', '.join(parts)}{unreadable} ({seconds:.2f}s)"
    )


def _change_annotation(change: Change, written: bool) -> str:
    # An old image with a digest is a pin `pin --update` moves because its tag has moved.
    moved = is_pinned(change.old)
    if written:
        done = f"moved {change.old} to" if moved else f"pinned {change.old} as"
        return github_annotation(change.site, f"{done} {change.new}", "notice")
    if moved:
        message = f"{change.old} has drifted; pinner pin --update would write {change.new}"
    else:
        message = f"{change.old} is not pinned by digest; pinner pin would write {change.new}"
    return github_annotation(change.site, message)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"

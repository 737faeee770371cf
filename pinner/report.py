"""Turn results into text for people (text), programs (json) and GitHub (annotations).

Pure functions returning strings: the CLI decides where they go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pinner import untrusted
from pinner.errors import Diagnostic, Location
from pinner.manifests.files import STDIN_NAME
from pinner.manifests.sites import ImageSite, Skipped
from pinner.policy import is_pinned

if TYPE_CHECKING:
    # Annotations only: `pinner check` reports no changes, and need not import pin's logic.
    from pinner import sarif  # SARIF is written only when asked for
    from pinner.planning import Change
    from pinner.tally import Tally

FORMATS = ("text", "json", "github")
# check and verify also write SARIF, for GitHub code scanning (pinner.sarif).
REPORT_FORMATS = (*FORMATS, "sarif")
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


def site_record(site: ImageSite) -> dict[str, Any]:
    return {
        "path": site.path,
        "line": site.line,
        "column": site.column,
        "kind": site.kind,
        "name": site.name,
        "field": site.field,
        "container": site.container,
        "image": site.image,
    }


def site_location(site: ImageSite) -> Location:
    return Location(site.path, site.line, site.column, site.image)


def diagnostic_records(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    """Errors or notices for JSON: one object for each place each is about (or one, unplaced)."""
    records: list[dict[str, Any]] = []
    for diagnostic in diagnostics:
        for place in diagnostic.locations or (None,):
            record: dict[str, Any] = {"message": diagnostic.message}
            if place is not None:
                record.update((key, value) for key, value in place._asdict().items() if value)
            records.append(record)
    return records


def github_diagnostics(errors: Iterable[Diagnostic], notices: Iterable[Diagnostic]) -> list[str]:
    """Workflow commands: one for each place each error or notice is about, so GitHub shows
    it on that line; a file's own problem on its first line; standard input names no file."""
    lines = []
    for level, diagnostics in (("error", errors), ("notice", notices)):
        for diagnostic in diagnostics:
            places = [place for place in diagnostic.locations if place.path != STDIN_NAME]
            if not places:
                lines.append(github_error(diagnostic.message, level))
            for place in places:
                lines.append(
                    f"::{level} file={_property(place.path)},line={place.line or 1},"
                    f"col={place.column or 1}::{_data(diagnostic.message)}"
                )
    return lines


def skipped_record(skip: Skipped) -> dict[str, Any]:
    return {"path": skip.path, "line": skip.line, "column": skip.column, "message": skip.message}


def skipped_diagnostics(skipped: Iterable[Skipped]) -> list[Diagnostic]:
    """What was skipped, as notices placed where it is (SARIF's tool notifications)."""
    return [
        Diagnostic(skip.message, (Location(skip.path, skip.line or None, skip.column or None),))
        for skip in skipped
    ]


def skipped_annotation(skip: Skipped) -> str:
    """A ``::warning`` on the skipped image's line, or on the file when all of it was skipped."""
    if skip.line == 0:
        return f"::warning file={_property(skip.path)}::{_data(skip.message)}"
    return (
        f"::warning file={_property(skip.path)},line={skip.line},col={skip.column}::"
        f"{_data(skip.message)}"
    )


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
        return _lines(lines + github_tail(errors, notices, skipped))
    if output_format == "sarif":
        from pinner import sarif

        findings = [
            sarif.site_finding(sarif.NOT_PINNED, violation_message(site), site)
            for site in violations
        ]
        return sarif_report(sarif.CHECK_RULES, findings, errors, notices, skipped)
    return _lines(f"{site.where}: {violation_message(site)}" for site in violations)


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
        return _lines(lines + github_tail(errors, notices, skipped))
    return _lines(change_line(change) for change in changes)


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


def github_annotation(site: ImageSite, message: str, level: str = "error") -> str:
    if site.path == STDIN_NAME:  # standard input is no file GitHub could show
        return github_error(f"{site.where}: {message}", level)
    return (
        f"::{level} file={_property(site.path)},line={site.line},col={site.column}::"
        f"{_data(message)}"
    )


def github_error(message: str, level: str = "error") -> str:
    return f"::{level}::{_data(message)}"


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


def json_report(
    command: str,
    fields: Mapping[str, object],
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
    skipped: Sequence[Skipped],
    summary: Mapping[str, object],
) -> str:
    """The JSON document of a command: its name, its own ``fields``, then what every report
    has, in the same order (the shape docs/output.md describes)."""
    return json_document(
        {
            "command": command,
            **fields,
            "errors": diagnostic_records(errors),
            "notices": diagnostic_records(notices),
            "skipped": [skipped_record(skip) for skip in skipped],
            "summary": dict(summary),
        }
    )


def github_tail(
    errors: Sequence[Diagnostic], notices: Sequence[Diagnostic], skipped: Sequence[Skipped]
) -> list[str]:
    """The annotations every ``--format github`` report ends with: what was skipped, then the
    errors and notices."""
    return [skipped_annotation(skip) for skip in skipped] + github_diagnostics(errors, notices)


def sarif_report(
    rules: Sequence[sarif.Rule],
    findings: Sequence[sarif.Finding],
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
    skipped: Sequence[Skipped],
) -> str:
    """A SARIF log: the findings, with what was skipped told among the notices."""
    from pinner import sarif  # only for --format sarif

    passed_over = [*notices, *skipped_diagnostics(skipped)]
    return json_document(sarif.sarif_document(rules, findings, errors, passed_over))


def json_document(document: Mapping[str, object]) -> str:
    """``document`` as indented JSON, made safe to show (:func:`pinner.untrusted.json_text`)."""
    return untrusted.json_text(document)


def _lines(lines: Iterable[str]) -> str:
    # Each record one line: a line break inside a file or image name cannot start another.
    return "".join(f"{untrusted.one_line(line)}\n" for line in lines)


def _data(text: str) -> str:
    return untrusted.github_data(text)


def _property(text: str) -> str:
    return untrusted.github_property(text)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"

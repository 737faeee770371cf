"""The pieces every report is made of, in each format: JSON records and the document around
them, GitHub workflow commands (annotations), and the SARIF log.

Pure functions returning strings, each made safe to show (:mod:`pinner.untrusted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pinner import untrusted
from pinner.errors import Diagnostic, Location
from pinner.manifests.files import STDIN_NAME
from pinner.manifests.sites import ImageSite, Skipped

if TYPE_CHECKING:
    from pinner import sarif  # SARIF is written only when asked for

FORMATS = ("text", "json", "github")
# check and verify also write SARIF, for GitHub code scanning (pinner.sarif).
REPORT_FORMATS = (*FORMATS, "sarif")


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


def github_annotation(site: ImageSite, message: str, level: str = "error") -> str:
    if site.path == STDIN_NAME:  # standard input is no file GitHub could show
        return github_error(f"{site.where}: {message}", level)
    return (
        f"::{level} file={_property(site.path)},line={site.line},col={site.column}::"
        f"{_data(message)}"
    )


def github_error(message: str, level: str = "error") -> str:
    return f"::{level}::{_data(message)}"


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


def one_per_line(lines: Iterable[str]) -> str:
    # Each record one line: a line break inside a file or image name cannot start another.
    return "".join(f"{untrusted.one_line(line)}\n" for line in lines)


def _data(text: str) -> str:
    return untrusted.github_data(text)


def _property(text: str) -> str:
    return untrusted.github_property(text)

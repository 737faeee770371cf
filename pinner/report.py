"""Turn results into text for people (text), programs (json) and GitHub (annotations).

Pure functions returning strings: the CLI decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pinner.finder import ImageSite
from pinner.pinning import Change, Tally

FORMATS = ("text", "json", "github")
FIELD_WORDS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
    "volumes": "image volume",
}


def where(site: ImageSite) -> str:
    return f"{site.path}:{site.line}:{site.column}"


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


def check_report(
    violations: Sequence[ImageSite],
    errors: Sequence[str],
    *,
    files: int,
    images: int,
    output_format: str,
) -> str:
    if output_format == "json":
        document = {
            "violations": [site_record(site) for site in violations],
            "files": files,
            "images": images,
            "errors": list(errors),
        }
        return json.dumps(document, indent=2) + "\n"
    if output_format == "github":
        lines = [github_annotation(site, violation_message(site)) for site in violations]
        lines += [github_error(message) for message in errors]
        return "".join(f"{line}\n" for line in lines)
    return "".join(f"{where(site)}: {violation_message(site)}\n" for site in violations)


def change_line(change: Change) -> str:
    return f"{where(change.site)}: {change.old} -> {change.new}"


def pin_report(changes: Sequence[Change], errors: Sequence[str], tally: Tally, fmt: str) -> str:
    if fmt == "json":
        document = {
            "changes": [{**site_record(c.site), "new_image": c.new} for c in changes],
            "errors": list(errors),
            "summary": tally_record(tally),
        }
        return json.dumps(document, indent=2) + "\n"
    if fmt == "github":
        lines = [
            github_annotation(c.site, f"{c.old} should be pinned as {c.new}", level="notice")
            for c in changes
        ]
        lines += [github_error(message) for message in errors]
        return "".join(f"{line}\n" for line in lines)
    return "".join(f"{change_line(change)}\n" for change in changes)


def tally_record(tally: Tally) -> dict[str, int]:
    return {
        "files": tally.files,
        "references": tally.references,
        "pinned": tally.pinned,
        "already_pinned": tally.already_pinned,
        "exempt": tally.exempt,
        "failed": tally.failed,
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
    return (
        f"pinner {command}: {tally.files} {_plural(tally.files, 'file')} scanned, "
        f"{tally.references} {_plural(tally.references, 'reference')} found: "
        f"{', '.join(parts)} ({seconds:.2f}s)"
    )


def github_annotation(site: ImageSite, message: str, level: str = "error") -> str:
    return (
        f"::{level} file={_property(site.path)},line={site.line},col={site.column}::"
        f"{_data(message)}"
    )


def github_error(message: str) -> str:
    return f"::error::{_data(message)}"


def locations(sites: Iterable[ImageSite]) -> str:
    return ", ".join(where(site) for site in sites)


def _data(text: str) -> str:
    # GitHub's workflow-command escaping (actions/toolkit command.ts).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"

"""Results as SARIF 2.1.0, the format GitHub code scanning reads (``--format sarif``).

One run, with pinner as ``tool.driver`` and a rule for each kind of finding. Each finding is a
result at the file, line and column of its image, the path relative to the current folder (the
checkout, in CI), so code scanning shows it on that line of the pull request. Errors that name a
file are results of the ``pinner-error`` rule; errors that name none, and notices, are the run's
tool notifications. Standard input is no file: its findings carry no location.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any, NamedTuple
from urllib.parse import quote

from pinner import __version__
from pinner.errors import Diagnostic, Location
from pinner.manifests.files import STDIN_NAME
from pinner.manifests.sites import ImageSite

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/OWNER/pinner"
VERSION = __version__
RULES_URI = f"{INFORMATION_URI}/blob/main/docs/output.md"


class Rule(NamedTuple):
    id: str
    name: str
    level: str  # "error", "warning" or "note"
    summary: str
    help: str


NOT_PINNED = Rule(
    "not-pinned",
    "ImageNotPinned",
    "error",
    "Image not pinned by digest",
    "A tag can be moved to other content; a digest cannot. Run `pinner pin` to replace the tag "
    "with the digest it points to now, or exempt the image with --exempt.",
)
MISSING = Rule(
    "digest-missing",
    "PinnedDigestMissing",
    "error",
    "The registry no longer has the pinned digest",
    "The pinned manifest is gone: nodes cannot pull it. Pin a digest the registry has "
    "(`pinner pin --update` moves a name:tag@digest pin to the tag's digest).",
)
DRIFT = Rule(
    "tag-drift",
    "TagDrifted",
    "error",
    "The tag no longer points to the pinned digest",
    "The tag written beside the digest has moved. Run `pinner pin --update` to move the pin, "
    "or drop the tag to keep only the digest.",
)
PLATFORM = Rule(
    "platform-manifest",
    "PlatformManifestPinned",
    "warning",
    "A platform's manifest is pinned where the tag names a multi-arch index",
    "Nodes of other platforms cannot run it. Pin the index, or pass --platform to verify if "
    "only that platform runs it.",
)
PINNER_ERROR = Rule(
    "pinner-error",
    "PinnerCouldNotCheck",
    "error",
    "pinner could not check this image or file",
    "The message says why (invalid YAML, an invalid reference, a registry that could not be "
    "asked) and what to do about it.",
)
CHECK_RULES = (NOT_PINNED, PINNER_ERROR)
VERIFY_RULES = (MISSING, DRIFT, PLATFORM, PINNER_ERROR)


class Finding(NamedTuple):
    """One result: which rule, what to say, and where."""

    rule: Rule
    message: str
    location: Location | None


def site_finding(rule: Rule, message: str, site: ImageSite) -> Finding:
    return Finding(rule, message, site.location)


def sarif_document(
    rules: Sequence[Rule],
    findings: Iterable[Finding],
    errors: Sequence[Diagnostic],
    notices: Sequence[Diagnostic],
) -> dict[str, Any]:
    """The SARIF log of one pinner run."""
    index = {rule.id: number for number, rule in enumerate(rules)}
    results = [_result(finding, index) for finding in findings]
    notifications = []
    for error in errors:
        places = [place for place in error.locations if place.path != STDIN_NAME]
        results += [_result(Finding(PINNER_ERROR, error.message, p), index) for p in places]
        if not places:
            notifications.append(_notification(error, "error"))
    notifications += [_notification(notice, "note") for notice in notices]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pinner",
                "version": VERSION,
                "semanticVersion": VERSION,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        # pinner counts columns in characters, SARIF by default in UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {"executionSuccessful": not errors, "toolExecutionNotifications": notifications}
        ],
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def artifact_uri(path: str) -> str:
    """``path`` as a URI reference relative to the current folder, with ``/`` separators."""
    if os.path.isabs(path):
        path = os.path.relpath(path)
    return quote(PurePath(path).as_posix())


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "helpUri": RULES_URI,
        "defaultConfiguration": {"level": rule.level},
        "properties": {"tags": ["supply-chain", "kubernetes"]},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index[finding.rule.id],
        "level": finding.rule.level,
        "message": {"text": finding.message},
    }
    place = finding.location
    if place is not None and place.path != STDIN_NAME:
        result["locations"] = [_location(place)]
    return result


def _location(place: Location) -> dict[str, Any]:
    region = {"startLine": place.line or 1, "startColumn": place.column or 1}
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(place.path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def _notification(diagnostic: Diagnostic, level: str) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": level, "message": {"text": diagnostic.message}}
    places = [place for place in diagnostic.locations if place.path != STDIN_NAME]
    if places:
        notification["locations"] = [_location(place) for place in places]
    return notification

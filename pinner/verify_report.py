"""``pinner verify``'s results as text lines, one JSON document, GitHub annotations or SARIF.

Pure functions returning strings; the CLI decides where they go. Each finding is a sentence
with a hint (``finding_message``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinner.errors import Diagnostic
from pinner.formats import (
    github_annotation,
    github_tail,
    json_report,
    one_per_line,
    sarif_report,
    site_record,
)
from pinner.manifests.sites import Skipped
from pinner.verify import DRIFT, MISSING, OK, PLATFORM, PinCheck, VerifyResult

UPDATE_HINT = "Run `pinner pin --update` to move the pin."


def finding_message(check: PinCheck) -> str | None:
    """What is wrong with one pin, as a sentence with a hint; ``None`` when all is well."""
    reference = check.reference
    image = check.site.image
    tag = reference.tag
    if check.status == MISSING:
        text = f"{image} is missing: the registry has no manifest {reference.digest}."
        if check.tag_found is False:
            return f"{text} The tag {tag} is gone too. Pin an image that exists."
        if check.current is not None and check.current != reference.digest:
            return f"{text} The tag {tag} now points to {check.current}. {UPDATE_HINT}"
        return f"{text} Pin a digest the registry has (pinner pin, without the digest)."
    if check.status == DRIFT:
        if check.tag_found is False:
            return (
                f"{image} has drifted: the tag {tag} no longer exists in the registry. "
                "Pin a tag that exists, or drop the tag to keep only the digest."
            )
        return f"{image} has drifted: the tag {tag} now points to {check.current}. {UPDATE_HINT}"
    if check.status == PLATFORM:
        return (
            f"{image} is the {check.platform} manifest, but the tag {tag} points to a "
            f"multi-arch index ({check.index}): nodes of other platforms cannot run it. Pin the "
            f"index ({reference.name}:{tag}@{check.index}), or pass --platform {check.platform} "
            "if only that platform runs it."
        )
    return None


def verify_report(
    result: VerifyResult,
    notices: Sequence[Diagnostic],
    seconds: float,
    output_format: str,
    skipped: Sequence[Skipped] = (),
) -> str:
    """Problems as text lines, one JSON document with every pin, or GitHub annotations."""
    if output_format == "json":
        fields = {"results": [_record(check) for check in result.checks]}
        summary = summary_record(result, seconds, len(skipped))
        return json_report("verify", fields, result.errors, notices, skipped, summary)
    if output_format == "sarif":
        from pinner import sarif

        rules = {MISSING: sarif.MISSING, DRIFT: sarif.DRIFT, PLATFORM: sarif.PLATFORM}
        findings = [
            sarif.site_finding(rules[check.status], message, check.site)
            for check in result.checks
            if (message := finding_message(check)) is not None
        ]
        return sarif_report(sarif.VERIFY_RULES, findings, result.errors, notices, skipped)
    lines: list[str] = []
    for check in result.checks:
        message = finding_message(check)
        if message is None:
            continue
        if output_format == "github":
            level = "warning" if check.status == PLATFORM else "error"
            lines.append(github_annotation(check.site, message, level))
        else:
            prefix = "warning: " if check.status == PLATFORM else ""
            lines.append(f"{check.site.where}: {prefix}{message}")
    if output_format == "github":
        lines += github_tail(result.errors, notices, skipped)
    return one_per_line(lines)


def _record(check: PinCheck) -> dict[str, Any]:
    return {
        **site_record(check.site),
        "status": check.status,
        "digest": check.reference.digest,
        "exists": check.exists,
        "tag": check.reference.tag,
        "tag_exists": check.tag_found,
        "tag_digest": check.current,
        "platform": check.platform,
        "index": check.index,
        "message": check.error or finding_message(check),
    }


def summary_record(result: VerifyResult, seconds: float, skipped: int = 0) -> dict[str, float]:
    return {
        "files": result.files,
        "references": result.references,
        "ok": result.count(OK),
        "drift": result.count(DRIFT),
        "missing": result.count(MISSING),
        "platform_warnings": result.count(PLATFORM),
        "not_pinned": result.not_pinned,
        "exempt": result.exempt,
        "failed": result.failed,
        "skipped": skipped,
        "seconds": round(seconds, 2),
    }


def summary_line(result: VerifyResult, seconds: float, skipped: int = 0) -> str:
    files = f"{result.files} file{'' if result.files == 1 else 's'}"
    references = f"{result.references} reference{'' if result.references == 1 else 's'}"
    warnings = result.count(PLATFORM)
    parts = [
        f"{result.count(OK)} ok",
        f"{result.count(DRIFT)} drifted",
        f"{result.count(MISSING)} missing",
        f"{warnings} platform warning{'' if warnings == 1 else 's'}",
        f"{result.not_pinned} not pinned",
        f"{result.exempt} exempt",
        f"{result.failed} failed",
    ]
    if skipped:
        parts.append(f"{skipped} skipped")
    return (
        f"pinner verify: {files} scanned, {references} found: {', '.join(parts)} ({seconds:.2f}s)"
    )

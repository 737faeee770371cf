"""``pinner verify``: do the registries still have every pinned digest, and do the tags agree?"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer

from pinner.cli.app import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    check_format,
    command,
    err,
    out,
    print_errors,
    print_notices,
)
from pinner.cli.common import command_settings, scan_arguments
from pinner.cli.options import (
    IMAGES,
    Concurrency,
    ConfigFile,
    Exclude,
    Exempt,
    GcloudHosts,
    InsecureRegistries,
    Jobs,
    MaxFileSize,
    Mirrors,
    NoConfig,
    Paths,
    Quiet,
    ReportFormat,
    Timeout,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import RegistryOptions, client_settings
from pinner.config.settings import Settings
from pinner.errors import Diagnostic, Location, PinnerError
from pinner.manifests.scan import FileScan
from pinner.report import (
    REPORT_FORMATS,
    diagnostic_records,
    github_annotation,
    github_diagnostics,
    json_document,
    site_record,
    where,
)
from pinner.verify import (
    DRIFT,
    MISSING,
    OK,
    PLATFORM,
    PinCheck,
    VerifyOptions,
    VerifyResult,
    verify_pins,
)

UPDATE_HINT = "Run `pinner pin --update` to move the pin."
# pin's --platform, read the other way round: the platform the pins were made for.
Platform = Annotated[
    Optional[str],  # noqa: UP045  (typer reads the annotation at run time)
    typer.Option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="The pins were made with pin --platform.",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]


@command(
    epilog="Examples:\n\n"
    "pinner verify k8s/\n\n"
    "pinner verify --format github deploy/ charts/rendered.yaml",
)
def verify(
    paths: Paths = None,
    exempt: Exempt = None,
    platform: Platform = None,
    insecure_registry: InsecureRegistries = None,
    mirror: Mirrors = None,
    gcloud_host: GcloudHosts = None,
    concurrency: Concurrency = None,
    timeout: Timeout = None,
    output_format: ReportFormat = "text",
    exclude: Exclude = None,
    max_file_size: MaxFileSize = None,
    jobs: Jobs = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """Check pins against their registries: missing digests, drift."""
    check_format(output_format, REPORT_FORMATS)
    started = time.monotonic()
    settings = command_settings(
        config,
        no_config,
        exempt=exempt,
        platform=platform,
        mirrors=mirror,
        insecure_registries=insecure_registry,
        gcloud_hosts=gcloud_host,
        concurrency=concurrency,
        exclude=exclude,
        max_file_size=max_file_size,
        jobs=jobs,
    )
    progress = Progress.for_terminal(quiet)
    scans = scan_arguments(paths, settings, progress, keep_sources=False)
    try:
        result = _verify(scans, settings, progress, timeout)
    except PinnerError as exc:  # a bad --platform or mirror: nothing was asked
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        progress.finish()
    notices = [Diagnostic(scan.notice, (Location(scan.display),)) for scan in scans if scan.notice]
    seconds = time.monotonic() - started
    out(verify_report(result, notices, seconds, output_format))
    if output_format == "text":
        print_errors(error.message for error in result.errors)
        if not quiet:
            print_notices(notice.message for notice in notices)
    if not quiet:
        err(summary_line(result, seconds))
    problems = result.count(DRIFT) + result.count(MISSING)
    code = max(EXIT_ERROR if result.errors else EXIT_OK, EXIT_CHANGES if problems else EXIT_OK)
    raise typer.Exit(code)


def _verify(
    scans: Sequence[FileScan], settings: Settings, progress: Progress, timeout: float | None
) -> VerifyResult:
    from pinner.registry.client import RegistryClient

    # No default platform on the client: verify asks for each tag's own digest and judges
    # platform manifests itself.
    registry_options = RegistryOptions.from_settings(settings, timeout=timeout)
    registry_settings = client_settings(registry_options, platform=False)
    options = VerifyOptions(exempt=settings.exempt, platform=settings.platform)
    with RegistryClient(registry_settings) as client:
        return verify_pins(scans, client, options, progress.stage("pinner: verifying pins"))


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
    result: VerifyResult, notices: Sequence[Diagnostic], seconds: float, output_format: str
) -> str:
    """Problems as text lines, one JSON document with every pin, or GitHub annotations."""
    if output_format == "json":
        document = {
            "command": "verify",
            "results": [_record(check) for check in result.checks],
            "errors": diagnostic_records(result.errors),
            "notices": diagnostic_records(notices),
            "summary": summary_record(result, seconds),
        }
        return json_document(document)
    if output_format == "sarif":
        from pinner import sarif

        rules = {MISSING: sarif.MISSING, DRIFT: sarif.DRIFT, PLATFORM: sarif.PLATFORM}
        findings = [
            sarif.site_finding(rules[check.status], message, check.site)
            for check in result.checks
            if (message := finding_message(check)) is not None
        ]
        log = sarif.sarif_document(sarif.VERIFY_RULES, findings, result.errors, notices)
        return json_document(log)
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
            lines.append(f"{where(check.site)}: {prefix}{message}")
    if output_format == "github":
        lines += github_diagnostics(result.errors, notices)
    return "".join(f"{line}\n" for line in lines)


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


def summary_record(result: VerifyResult, seconds: float) -> dict[str, float]:
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
        "seconds": round(seconds, 2),
    }


def summary_line(result: VerifyResult, seconds: float) -> str:
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
    return (
        f"pinner verify: {files} scanned, {references} found: {', '.join(parts)} ({seconds:.2f}s)"
    )

"""``pinner verify``: do the registries still have every pinned digest, and do the tags agree?"""

from __future__ import annotations

import time
from collections.abc import Sequence

import typer

from pinner.cli.app import check_format, command, exit_code, finish
from pinner.cli.common import command_settings, scan_arguments
from pinner.cli.options import (
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
    PinnedPlatform,
    Quiet,
    ReportFormat,
    Timeout,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import client_without_platform
from pinner.formats import REPORT_FORMATS, skipped_diagnostics
from pinner.manifests.scan import FileScan
from pinner.settings import Settings
from pinner.verify import DRIFT, MISSING, VerifyOptions, VerifyResult, verify_pins
from pinner.verify_report import summary_line, verify_report


@command(
    epilog="Examples:\n\n"
    "pinner verify k8s/\n\n"
    "pinner verify --format github deploy/ charts/rendered.yaml",
)
def verify(
    context: typer.Context,
    paths: Paths = None,
    exempt: Exempt = None,
    platform: PinnedPlatform = None,
    insecure_registries: InsecureRegistries = None,
    mirrors: Mirrors = None,
    gcloud_hosts: GcloudHosts = None,
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
    settings = command_settings(context)
    progress = Progress.for_terminal(quiet)
    scans = scan_arguments(paths, settings, progress, keep_sources=False)
    result = _verify(scans, settings, progress)
    skipped = [skip for scan in scans for skip in scan.skipped]
    seconds = time.monotonic() - started
    finish(
        verify_report(result, [], seconds, output_format, skipped),
        result.errors,
        skipped_diagnostics(skipped),
        summary_line(result, seconds, len(skipped)),
        exit_code(result.errors, bool(result.count(DRIFT) + result.count(MISSING))),
        output_format=output_format,
        quiet=quiet,
    )


def _verify(scans: Sequence[FileScan], settings: Settings, progress: Progress) -> VerifyResult:
    options = VerifyOptions(exempt=settings.exempt, platform=settings.platform)
    with client_without_platform(settings, progress) as client:
        return verify_pins(scans, client, options, progress.stage("pinner: verifying pins"))

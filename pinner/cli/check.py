"""``pinner check``: report every image that is not pinned, offline, with Gatekeeper's rule."""

# No `from __future__ import annotations` here: typer reads the command's annotations at run
# time, and string annotations would be compiled and evaluated on every start-up (milliseconds).
import time
from contextlib import closing

import typer

from pinner.check import check_scans
from pinner.cli.app import check_format, command, exit_code, finish
from pinner.cli.common import command_settings, iter_scan_arguments
from pinner.cli.options import (
    ConfigFile,
    Exclude,
    Exempt,
    Jobs,
    MaxFileSize,
    NoConfig,
    Paths,
    Quiet,
    ReportFormat,
)
from pinner.cli.progress import Progress
from pinner.formats import REPORT_FORMATS, skipped_diagnostics
from pinner.report import check_report, summary_line, summary_record


@command(
    epilog="Examples:\n\n"
    "pinner check k8s/ --exempt 'registry.k8s.io/pause*'\n\n"
    "kustomize build . | pinner check - --format github",
)
def check(
    context: typer.Context,
    paths: Paths = None,
    exempt: Exempt = None,
    output_format: ReportFormat = "text",
    exclude: Exclude = None,
    max_file_size: MaxFileSize = None,
    jobs: Jobs = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """Report images not pinned by digest (offline; exit 1 if any)."""
    check_format(output_format, REPORT_FORMATS)
    started = time.monotonic()
    settings = command_settings(context)
    progress = Progress.for_terminal(quiet)
    # One file at a time, keeping no text: memory follows the largest file. Closed on the way
    # out, so that Ctrl-C stops the workers at once, not when the traceback is freed at exit.
    with closing(iter_scan_arguments(paths, settings, progress, keep_sources=False)) as scans:
        result = check_scans(scans, settings.exempt)
    seconds = time.monotonic() - started
    not_pinned = len(result.violations)
    summary = summary_record(result.tally, seconds, not_pinned=not_pinned)
    report = check_report(
        result.violations, result.errors, result.notices, summary, output_format, result.skipped
    )
    finish(
        report,
        result.errors,
        [*skipped_diagnostics(result.skipped), *result.notices],
        summary_line("check", result.tally, seconds, not_pinned=not_pinned),
        exit_code(result.errors, bool(result.violations)),
        output_format=output_format,
        quiet=quiet,
    )

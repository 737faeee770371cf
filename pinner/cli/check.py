"""``pinner check``: report every image that is not pinned, offline, with Gatekeeper's rule."""

from __future__ import annotations

import time

import typer

from pinner.cli.app import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    app,
    check_format,
    err,
    out,
    print_errors,
    print_notices,
)
from pinner.cli.common import command_settings, iter_scan_arguments
from pinner.cli.options import (
    ConfigFile,
    Exclude,
    Exempt,
    Format,
    Jobs,
    MaxFileSize,
    NoConfig,
    Paths,
    Quiet,
)
from pinner.cli.progress import Progress
from pinner.manifests.finder import ImageSite
from pinner.pinning import Tally
from pinner.policy import is_exempt, is_pinned
from pinner.report import check_report, summary_line, summary_record


@app.command(
    epilog="Examples:\n\n"
    "pinner check k8s/ --exempt 'registry.k8s.io/pause*'\n\n"
    "kustomize build . | pinner check - --format github",
)
def check(
    paths: Paths = None,
    exempt: Exempt = None,
    output_format: Format = "text",
    exclude: Exclude = None,
    max_file_size: MaxFileSize = None,
    jobs: Jobs = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """Report every image not pinned by digest (offline; exit 1 if any)."""
    check_format(output_format)
    started = time.monotonic()
    settings = command_settings(
        config, no_config, exempt=exempt, exclude=exclude, max_file_size=max_file_size, jobs=jobs
    )
    violations: list[ImageSite] = []
    errors: list[str] = []
    notices: list[str] = []
    tally = Tally()
    # One file at a time, keeping only what is reported: memory follows the largest file.
    for scan in iter_scan_arguments(
        paths, settings, Progress.for_terminal(quiet), keep_sources=False
    ):
        tally.files += 1
        if scan.notice:
            notices.append(scan.notice)
        if scan.error is not None:
            errors.append(str(scan.error))
            tally.unreadable += 1
        for site, _, invalid in scan.images:
            tally.references += 1
            if invalid is not None:
                # Not a reference at all: an error naming file:line (exit 2), counted once.
                errors.append(str(invalid))
                tally.failed += 1
            elif is_exempt(site.image, settings.exempt):
                tally.exempt += 1
            elif is_pinned(site.image):
                tally.already_pinned += 1
            else:
                violations.append(site)
    seconds = time.monotonic() - started
    summary = summary_record(tally, seconds, not_pinned=len(violations))
    out(check_report(violations, errors, notices, summary, output_format))
    if output_format == "text":
        print_errors(errors)
        if not quiet:
            print_notices(notices)
    if not quiet:
        err(summary_line("check", tally, seconds, not_pinned=len(violations)))
    code = max(EXIT_ERROR if errors else EXIT_OK, EXIT_CHANGES if violations else EXIT_OK)
    raise typer.Exit(code)

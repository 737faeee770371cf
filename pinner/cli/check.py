"""``pinner check``: report every image that is not pinned, offline, with Gatekeeper's rule."""

from __future__ import annotations

import sys
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
from pinner.cli.options import Exclude, Exempt, Format, Paths, Quiet
from pinner.finder import ImageSite
from pinner.pinning import Tally
from pinner.policy import is_exempt, is_pinned
from pinner.report import check_report, summary_line
from pinner.scan import is_stdin, scan_paths, scan_stdin


@app.command(
    epilog="Example: pinner check k8s/ --exempt 'registry.k8s.io/pause*'",
)
def check(
    paths: Paths = None,
    exempt: Exempt = None,
    output_format: Format = "text",
    exclude: Exclude = None,
    quiet: Quiet = False,
) -> None:
    """Report every image not pinned by digest (offline; exit 1 if any)."""
    check_format(output_format)
    started = time.monotonic()
    arguments = paths or ["."]
    if is_stdin(arguments):
        scans = [scan_stdin(sys.stdin.buffer.read())]
    else:
        scans = scan_paths(arguments, exclude=exclude or ())
    patterns = tuple(exempt or ())
    violations: list[ImageSite] = []
    tally = Tally(files=len(scans))
    errors = [str(scan.error) for scan in scans if scan.error is not None]
    errors += [str(error) for scan in scans for error in scan.invalid.values()]
    for scan in scans:
        for site in scan.sites:
            tally.references += 1
            if is_exempt(site.image, patterns):
                tally.exempt += 1
            elif is_pinned(site.image):
                tally.already_pinned += 1
            else:
                violations.append(site)
    tally.failed = len(errors)
    out(
        check_report(
            violations,
            errors,
            files=tally.files,
            images=tally.references,
            output_format=output_format,
        )
    )
    if output_format != "json":
        print_errors(errors)
    if not quiet:
        print_notices(scan.notice for scan in scans if scan.notice)
        seconds = time.monotonic() - started
        err(summary_line("check", tally, seconds, not_pinned=len(violations)))
    code = EXIT_ERROR if errors else EXIT_CHANGES if violations else EXIT_OK
    raise typer.Exit(code)

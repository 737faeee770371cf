"""``pinner pin``: replace tags with digests, byte for byte, from digest files or registries."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import typer

from pinner.cli.app import (
    check_format,
    command,
    err_report,
    exit_code,
    fail_usage,
    finish,
    out,
    user_errors,
)
from pinner.cli.common import command_settings, scan_arguments
from pinner.cli.options import (
    Concurrency,
    ConfigFile,
    Diff,
    DigestFiles,
    DryRun,
    Exclude,
    Exempt,
    Format,
    GcloudHosts,
    HelmDigestInTag,
    InsecureRegistries,
    Jobs,
    KeepTag,
    MaxFileSize,
    Mirrors,
    NoConfig,
    Offline,
    Paths,
    Platform,
    PruneDigests,
    Quiet,
    Timeout,
    Update,
    WriteDigests,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import online_lookup
from pinner.errors import Diagnostic
from pinner.formats import skipped_diagnostics
from pinner.helm import digest_key_notices, skipped_block
from pinner.lockfile import load_digest_files, write_lock_file
from pinner.manifests.scan import FileScan, is_stdin
from pinner.pinning import PinRun, offline_lookup, pin_scans
from pinner.planning import FilePlan, PinOptions
from pinner.report import pin_report, summary_line, summary_record
from pinner.writing import unified_diff, write_plans


@command(
    epilog="Examples:\n\n"
    "pinner pin k8s/\n\n"
    "pinner pin --diff --offline --digests digests.txt .\n\n"
    "kustomize build . | pinner pin - | kubectl apply -f -",
)
def pin(
    context: typer.Context,
    paths: Paths = None,
    digest_files: DigestFiles = None,
    offline: Offline = False,
    keep_tag: KeepTag = None,
    update: Update = False,
    helm_digest_in_tag: HelmDigestInTag = None,
    dry_run: DryRun = False,
    diff: Diff = False,
    write_digests: WriteDigests = None,
    prune_digests: PruneDigests = False,
    exempt: Exempt = None,
    platform: Platform = None,
    insecure_registries: InsecureRegistries = None,
    mirrors: Mirrors = None,
    gcloud_hosts: GcloudHosts = None,
    concurrency: Concurrency = None,
    timeout: Timeout = None,
    output_format: Format = "text",
    exclude: Exclude = None,
    max_file_size: MaxFileSize = None,
    jobs: Jobs = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """Pin images to digests, byte for byte (exit 1 if any changed)."""
    check_format(output_format)
    if prune_digests and write_digests is None:
        raise fail_usage("--prune-digests prunes the lock --write-digests FILE writes; name it.")
    started = time.monotonic()
    settings = command_settings(context)
    options = PinOptions(
        keep_tag=settings.keep_tag,
        exempt=settings.exempt,
        update=update,
        digest_in_tag=settings.helm_digest_in_tag,
    )
    with user_errors():  # with --update too: a digest file says what each tag points to now
        known = load_digest_files(digest_files or ())
    progress = Progress.for_terminal(quiet)
    scans = scan_arguments(paths, settings, progress)
    # A missing digest offline names the command that adds it to the lock this run uses.
    lock = write_digests or next(iter(digest_files or ()), None)
    offline_in_lock = partial(offline_lookup, lock=None if lock is None else str(lock))
    lookup = offline_in_lock if offline else online_lookup(settings, progress)
    run = pin_scans(scans, known, options, lookup)
    stdin_mode, write = is_stdin(paths or ["."]), not (dry_run or diff)
    changed = _emit(run, stdin_mode=stdin_mode, write=write, diff=diff)
    notices = digest_key_notices(run.unwritten_blocks)
    notices += [notice for plan in run.plans for notice in plan.notices]
    if write_digests is not None and not run.errors:
        notices += _write_lock(run, scans, options, write_digests, prune_digests, dry_run)
    skipped = [skip for scan in scans for skip in scan.skipped]
    tally, seconds = run.tally(), time.monotonic() - started
    report = pin_report(
        run.changes,
        run.errors,
        notices,
        summary_record(tally, seconds),
        output_format,
        written=write and not run.errors if stdin_mode else write,
        skipped=skipped + [skipped_block(site) for site in run.unwritten_blocks],
    )
    finish(
        "" if quiet and output_format == "text" else report,
        run.errors,
        [*skipped_diagnostics(skipped), *notices],
        summary_line("pin", tally, seconds),
        # A filter that wrote its stream did its job; exit 1 would break `set -o pipefail`.
        exit_code(run.errors, changed and not (stdin_mode and write)),
        output_format=output_format,
        quiet=quiet,
        # Standard output carries the report, unless it carries the pinned stream or the diff.
        show=err_report if stdin_mode or diff else out,
    )


def _write_lock(
    run: PinRun,
    scans: Sequence[FileScan],
    options: PinOptions,
    path: Path,
    prune: bool,
    dry_run: bool,
) -> list[Diagnostic]:
    """``--write-digests``: the lock of this run, written (its errors join the run's); return
    its notices. --diff writes it too: the digests of the reviewed diff, which
    `pin --offline --digests` then applies exactly (the README's one-off recipe)."""
    if dry_run:  # --dry-run writes nothing at all
        return [Diagnostic(f"--dry-run: {path} was not written.")]
    notices, errors = write_lock_file(path, scans, options, run, prune=prune)
    run.errors += errors
    return notices


def _emit(run: PinRun, *, stdin_mode: bool, write: bool, diff: bool) -> bool:
    """Write, diff or print each changed file; return whether anything changed."""
    if stdin_mode:
        return _emit_stdin(run, write=write)
    changed = False
    to_write: list[FilePlan] = []
    for plan in run.plans:
        source, new_text = plan.scan.source, plan.new_text
        if new_text is None or source is None:
            continue
        changed = True
        if diff:
            out(unified_diff(plan.scan.display, source.text, new_text))
        if write and source.path is not None:
            to_write.append(plan)
    run.errors += write_plans(to_write)
    return changed


def _emit_stdin(run: PinRun, *, write: bool) -> bool:
    """Standard input in, the pinned stream out: written only when every image could be pinned."""
    for plan in run.plans:
        source = plan.scan.source
        if write and not run.errors and source is not None:
            new_text = plan.new_text
            sys.stdout.buffer.write(source.encode(new_text) if new_text else source.raw)
            sys.stdout.buffer.flush()
    return any(plan.new_text is not None for plan in run.plans)

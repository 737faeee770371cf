"""``pinner pin``: replace tags with digests, byte for byte, from digest files or registries."""

from __future__ import annotations

import difflib
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Optional

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
from pinner.cli.common import command_settings, scan_arguments
from pinner.cli.options import (
    Concurrency,
    ConfigFile,
    DigestFiles,
    Exclude,
    Exempt,
    Format,
    GcloudHosts,
    InsecureRegistries,
    Jobs,
    KeepTag,
    MaxFileSize,
    Mirrors,
    NoConfig,
    Paths,
    Platform,
    Quiet,
    Timeout,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import RegistryOptions, resolve_online
from pinner.errors import PinnerError
from pinner.lockfile import format_digest_lines, load_digest_files
from pinner.manifests.finder import ImageSite
from pinner.manifests.rewrite import PendingWrite, write_all_atomic
from pinner.manifests.scan import FileScan, is_stdin
from pinner.pinning import (
    FilePlan,
    MatchKey,
    PinOptions,
    Tally,
    plan_file,
    sites_by_key,
    wanted_references,
)
from pinner.policy import is_exempt
from pinner.reference import Reference
from pinner.report import locations, pin_report, summary_line, summary_record


@app.command(
    epilog="Examples:\n\n"
    "pinner pin k8s/\n\n"
    "pinner pin --diff --offline --digests digests.txt .\n\n"
    "kustomize build . | pinner pin - | kubectl apply -f -",
)
def pin(
    paths: Paths = None,
    digest_files: DigestFiles = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only --digests; never ask a registry.")
    ] = False,
    keep_tag: KeepTag = None,
    update: Annotated[
        bool,
        typer.Option("--update", help="Move name:tag@sha256:... pins to the tag's current digest."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Change nothing; exit 1 if something would change.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff instead of writing; exit 1 if any.")
    ] = False,
    write_digests: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--write-digests",
            metavar="FILE",
            help="Record every digest used, as a lock file --digests accepts.",
            show_default=False,
        ),
    ] = None,
    exempt: Exempt = None,
    platform: Platform = None,
    insecure_registry: InsecureRegistries = None,
    mirror: Mirrors = None,
    gcloud_host: GcloudHosts = None,
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
    """Pin images to digests, byte for byte (exit 1 if files changed)."""
    check_format(output_format)
    started = time.monotonic()
    settings = command_settings(
        config,
        no_config,
        exempt=exempt,
        keep_tag=keep_tag,
        platform=platform,
        mirrors=mirror,
        insecure_registries=insecure_registry,
        gcloud_hosts=gcloud_host,
        concurrency=concurrency,
        exclude=exclude,
        max_file_size=max_file_size,
        jobs=jobs,
    )
    stdin_mode = is_stdin(paths or ["."])
    options = PinOptions(keep_tag=settings.keep_tag, exempt=settings.exempt, update=update)
    try:
        # With --update too: a digest file says what each tag points to now.
        known = load_digest_files(digest_files or ())
    except PinnerError as exc:
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None

    progress = Progress.for_terminal(quiet)
    scans = scan_arguments(paths, settings, progress)
    wanted = wanted_references(scans, options)
    missing = [reference for key, reference in wanted.items() if key not in known]
    digests: dict[MatchKey, str] = dict(known)
    failures: dict[MatchKey, str] = {}
    if missing and offline:
        failures = {ref.match_key: _offline_message(ref) for ref in missing}
    elif missing:
        registry_options = RegistryOptions.from_settings(settings, timeout=timeout)
        stage = progress.stage("pinner: resolving references")
        resolved, registry_errors = resolve_online(missing, registry_options, stage)
        progress.finish()
        digests.update(resolved)
        failures = {key: str(error) for key, error in registry_errors.items()}

    plans = [plan_file(scan, digests, options) for scan in scans]
    errors = _failure_messages(scans, failures, options) + [
        str(error) for plan in plans for error in plan.errors
    ]
    write = not (dry_run or diff)
    changed = _emit(plans, stdin_mode=stdin_mode, write=write, diff=diff, errors=errors)
    notices = [scan.notice for scan in scans if scan.notice]
    notices += [notice for plan in plans for notice in plan.notices]
    if write_digests is not None and not errors:
        notices += _write_lock(write_digests, scans, options, wanted, digests, errors)

    tally = Tally()
    for plan in plans:
        tally.add(plan.tally)
    seconds = time.monotonic() - started
    changes = [change for plan in plans for change in plan.changes]
    written = write and not errors if stdin_mode else write
    report = pin_report(
        changes, errors, notices, summary_record(tally, seconds), output_format, written=written
    )
    # Standard output carries the report, unless it carries the pinned stream or the diff.
    show = err if stdin_mode or diff else out
    if output_format != "text":
        show(report)
    else:
        if report and not quiet:
            show(report)
        print_errors(errors)
        if not quiet:
            print_notices(notices)
    if not quiet:
        err(summary_line("pin", tally, seconds))
    if errors:
        raise typer.Exit(EXIT_ERROR)
    # A filter that wrote its stream did its job; exit 1 would break `set -o pipefail`.
    raise typer.Exit(EXIT_CHANGES if changed and not (stdin_mode and write) else EXIT_OK)


def _emit(
    plans: Sequence[FilePlan], *, stdin_mode: bool, write: bool, diff: bool, errors: list[str]
) -> bool:
    """Write, diff or print each changed file; return whether anything changed."""
    changed = False
    to_write: list[FilePlan] = []
    for plan in plans:
        source = plan.scan.source
        new_text = plan.new_text
        if stdin_mode:
            if write and not errors and source is not None:
                sys.stdout.buffer.write(source.encode(new_text) if new_text else source.raw)
                sys.stdout.buffer.flush()
            changed = changed or new_text is not None
            continue
        if new_text is None or source is None:
            continue
        changed = True
        if diff:
            out(_unified_diff(plan.scan.display, source.text, new_text))
        if write and source.path is not None:
            to_write.append(plan)
    # All files are written in one batch, so their data and renames are synced together.
    pending = [_pending(plan) for plan in to_write]
    for plan, failure in zip(to_write, write_all_atomic(pending), strict=True):
        if failure is not None:
            errors.append(_write_failure(plan, failure))
            _unwritten(plan)
    return changed


def _pending(plan: FilePlan) -> PendingWrite:
    source = plan.scan.source
    assert source is not None and source.path is not None and plan.new_text is not None
    return PendingWrite(source.path, source.encode(plan.new_text), source.raw, source.identity)


def _write_failure(plan: FilePlan, failure: Exception) -> str:
    """Why a planned file could not be written, as the user is told."""
    if isinstance(failure, OSError):
        return (
            f"{plan.scan.display}: cannot write the file ({failure.strerror}); it was not "
            "changed. Check the permissions of the file and its folder."
        )
    return str(failure)


def _unwritten(plan: FilePlan) -> None:
    """A file that could not be written was not pinned: count its images as failed."""
    plan.tally.failed += plan.tally.pinned
    plan.tally.pinned = 0
    plan.changes = []


def _unified_diff(display: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{display}",
        tofile=f"b/{display}",
    )
    return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)


def _offline_message(reference: Reference) -> str:
    return (
        f"no known digest for {reference} and --offline forbids asking the registry. "
        "Add it to a --digests file, or drop --offline."
    )


def _failure_messages(
    scans: Sequence[FileScan], failures: Mapping[MatchKey, str], options: PinOptions
) -> list[str]:
    places = sites_by_key(scans, options)
    return [
        f"{message}\n  used at {locations(places.get(key, []))}"
        for key, message in sorted(failures.items())
    ]


def _write_lock(
    path: Path,
    scans: Sequence[FileScan],
    options: PinOptions,
    wanted: Mapping[MatchKey, Reference],
    digests: Mapping[MatchKey, str],
    errors: list[str],
) -> list[str]:
    """Write the lock file; return notices about tags it had to leave out."""
    pins, notices = lock_pins(scans, options, wanted, digests)
    try:
        path.write_text(format_digest_lines(pins), encoding="utf-8")
    except OSError as exc:
        errors.append(
            f"{path}: cannot write the digest file ({exc.strerror}). Check the path and the "
            "permissions of its folder."
        )
    return notices


def lock_pins(
    scans: Sequence[FileScan],
    options: PinOptions,
    wanted: Mapping[MatchKey, Reference],
    digests: Mapping[MatchKey, str],
) -> tuple[dict[Reference, str], list[str]]:
    """Every tag the files use, with its digest, so the lock file is complete.

    A tag this run looked up (or was given by --digests) gets that digest. A tag only written
    as ``name:tag@digest`` gets the digest written, so ``pin --update --offline`` can replay
    the run; if the files pin it to different digests there is no one answer, and it is left
    out with a notice. Digest-only pins name no tag and need no entry.
    """
    pins: dict[MatchKey, tuple[Reference, str]] = {
        key: (ref, digests[key]) for key, ref in wanted.items() if key in digests
    }
    written: dict[MatchKey, dict[str, list[ImageSite]]] = {}
    names: dict[MatchKey, Reference] = {}
    for scan in scans:
        for site, ref, _ in scan.images:
            if ref is None or ref.tag is None or ref.digest is None:
                continue
            if is_exempt(site.image, options.exempt) or ref.match_key in pins:
                continue
            names.setdefault(ref.match_key, ref)
            written.setdefault(ref.match_key, {}).setdefault(ref.digest, []).append(site)
    notices = []
    for key, by_digest in written.items():
        ref = names[key]
        if len(by_digest) == 1:
            pins[key] = (ref, next(iter(by_digest)))
            continue
        places = locations(site for sites in by_digest.values() for site in sites)
        notices.append(
            f"{ref.name}:{ref.tag} is pinned to {len(by_digest)} different digests ({places}), "
            "so the digest file leaves it out. Run `pinner pin --update` to pin them alike."
        )
    return {ref: digest for ref, digest in pins.values()}, notices

"""``pinner pin``: replace tags with digests, byte for byte, from digest files or registries."""

from __future__ import annotations

import difflib
import shlex
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
    check_format,
    command,
    err,
    fail_usage,
    out,
    print_errors,
    print_notices,
)
from pinner.cli.common import command_settings, scan_arguments
from pinner.cli.options import (
    DIGESTS,
    IMAGES,
    OUTPUT,
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
from pinner.errors import Diagnostic, Location, PinnerError
from pinner.lockfile import load_digest_files, write_lock
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
from pinner.report import locations, pin_report, site_location, summary_line, summary_record


@command(
    epilog="Examples:\n\n"
    "pinner pin k8s/\n\n"
    "pinner pin --diff --offline --digests digests.txt .\n\n"
    "kustomize build . | pinner pin - | kubectl apply -f -",
)
def pin(
    paths: Paths = None,
    digest_files: DigestFiles = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Use only --digests; never ask a registry.", rich_help_panel=DIGESTS
        ),
    ] = False,
    keep_tag: KeepTag = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Move name:tag@sha256:… to the tag's digest.",
            rich_help_panel=IMAGES,
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Change nothing; exit 1 if something would.", rich_help_panel=OUTPUT
        ),
    ] = False,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff", help="Print a diff, write nothing; exit 1 if any.", rich_help_panel=OUTPUT
        ),
    ] = False,
    write_digests: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--write-digests",
            metavar="FILE",
            help="Record the digests used in this lock file.",
            show_default=False,
            rich_help_panel=DIGESTS,
        ),
    ] = None,
    prune_digests: Annotated[
        bool,
        typer.Option(
            "--prune-digests",
            help="Drop lock entries of tags this run did not see.",
            rich_help_panel=DIGESTS,
        ),
    ] = False,
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
    """Pin images to digests, byte for byte (exit 1 if any changed)."""
    check_format(output_format)
    if prune_digests and write_digests is None:
        raise fail_usage("--prune-digests prunes the lock --write-digests FILE writes; name it.")
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
        lock = write_digests or next(iter(digest_files or ()), None)
        failures = {ref.match_key: _offline_message(ref, lock) for ref in missing}
    elif missing:
        registry_options = RegistryOptions.from_settings(settings, timeout=timeout)
        stage = progress.stage("pinner: resolving references")
        resolved, registry_errors = resolve_online(missing, registry_options, stage)
        progress.finish()
        digests.update(resolved)
        failures = {key: str(error) for key, error in registry_errors.items()}

    plans = [plan_file(scan, digests, options) for scan in scans]
    errors = _failure_messages(scans, failures, options) + [
        Diagnostic.of(error) for plan in plans for error in plan.errors
    ]
    write = not (dry_run or diff)
    changed = _emit(plans, stdin_mode=stdin_mode, write=write, diff=diff, errors=errors)
    notices = [Diagnostic(scan.notice, (Location(scan.display),)) for scan in scans if scan.notice]
    if write_digests is not None and not errors and write:
        pins, lock_notices = lock_pins(scans, options, wanted, digests)
        notices += lock_notices
        try:
            write_lock(write_digests, pins, prune=prune_digests)
        except PinnerError as exc:
            errors.append(Diagnostic(str(exc), (Location(str(write_digests)),)))
    elif write_digests is not None and not errors:
        flag = "--diff" if diff else "--dry-run"
        notices.append(Diagnostic(f"{flag}: {write_digests} was not written."))

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
        print_errors(error.message for error in errors)
        if not quiet:
            print_notices(notice.message for notice in notices)
    if not quiet:
        err(summary_line("pin", tally, seconds))
    if errors:
        raise typer.Exit(EXIT_ERROR)
    # A filter that wrote its stream did its job; exit 1 would break `set -o pipefail`.
    raise typer.Exit(EXIT_CHANGES if changed and not (stdin_mode and write) else EXIT_OK)


def _emit(
    plans: Sequence[FilePlan],
    *,
    stdin_mode: bool,
    write: bool,
    diff: bool,
    errors: list[Diagnostic],
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
    return PendingWrite(source.path, source.encode(plan.new_text), source.raw)


def _write_failure(plan: FilePlan, failure: Exception) -> Diagnostic:
    """Why a planned file could not be written, as the user is told."""
    place = (Location(plan.scan.display),)
    if isinstance(failure, OSError):
        message = (
            f"{plan.scan.display}: cannot write the file ({failure.strerror}); it was not "
            "changed. Check the permissions of the file and its folder."
        )
        return Diagnostic(message, place)
    return Diagnostic(str(failure), place)


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


def _offline_message(reference: Reference, lock: Path | None) -> str:
    file = f" --file {shlex.quote(str(lock))}" if lock is not None else ""
    return (
        f"no known digest for {reference} and --offline forbids asking the registry. Add it "
        f"with `pinner lock add{file} {shlex.quote(str(reference))}`, or drop --offline."
    )


def _failure_messages(
    scans: Sequence[FileScan], failures: Mapping[MatchKey, str], options: PinOptions
) -> list[Diagnostic]:
    places = sites_by_key(scans, options)
    return [
        Diagnostic(
            f"{message}\n  used at {locations(places.get(key, []))}",
            tuple(site_location(site) for site in places.get(key, [])),
        )
        for key, message in sorted(failures.items())
    ]


def lock_pins(
    scans: Sequence[FileScan],
    options: PinOptions,
    wanted: Mapping[MatchKey, Reference],
    digests: Mapping[MatchKey, str],
) -> tuple[dict[Reference, str], list[Diagnostic]]:
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
        sites = [site for sites in by_digest.values() for site in sites]
        message = (
            f"{ref.name}:{ref.tag} is pinned to {len(by_digest)} different digests "
            f"({locations(sites)}), so the digest file leaves it out. Run `pinner pin --update` "
            "to pin them alike."
        )
        notices.append(Diagnostic(message, tuple(site_location(site) for site in sites)))
    return {ref: digest for ref, digest in pins.values()}, notices

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
from pinner.cli.options import (
    DigestFiles,
    Exclude,
    Exempt,
    Format,
    GcloudHosts,
    InsecureRegistries,
    Mirrors,
    Paths,
    Platform,
    Quiet,
)
from pinner.cli.resolve import RegistryOptions, resolve_online
from pinner.digests import format_digest_lines, load_digest_files
from pinner.errors import PinnerError
from pinner.pinning import (
    FilePlan,
    MatchKey,
    PinOptions,
    Tally,
    plan_file,
    sites_by_key,
    wanted_references,
)
from pinner.reference import Reference
from pinner.report import locations, pin_report, summary_line
from pinner.rewrite import write_atomic
from pinner.scan import FileScan, is_stdin, scan_paths, scan_stdin


@app.command(
    epilog="Examples: pinner pin k8s/ | pinner pin --diff k8s/ | "
    "kustomize build . | pinner pin - | kubectl apply -f -",
)
def pin(
    paths: Paths = None,
    digest_files: DigestFiles = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only --digests; never ask a registry.")
    ] = False,
    keep_tag: Annotated[
        bool,
        typer.Option("--keep-tag", help="Write name:tag@sha256:... instead of name@sha256:..."),
    ] = False,
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
    output_format: Format = "text",
    exclude: Exclude = None,
    quiet: Quiet = False,
) -> None:
    """Pin every image to its digest, changing only those bytes (exit 1 if files changed)."""
    check_format(output_format)
    started = time.monotonic()
    arguments = paths or ["."]
    stdin_mode = is_stdin(arguments)
    options = PinOptions(keep_tag=keep_tag, exempt=tuple(exempt or ()), update=update)
    registry_options = RegistryOptions.from_flags(platform, insecure_registry, mirror, gcloud_host)
    try:
        known = {} if update else load_digest_files(digest_files or ())
    except PinnerError as exc:
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None

    if stdin_mode:
        scans = [scan_stdin(sys.stdin.buffer.read())]
    else:
        scans = scan_paths(arguments, exclude=exclude or ())
    wanted = wanted_references(scans, options)
    missing = [reference for key, reference in wanted.items() if key not in known]
    digests: dict[MatchKey, str] = dict(known)
    failures: dict[MatchKey, str] = {}
    if missing and offline:
        failures = {ref.match_key: _offline_message(ref) for ref in missing}
    elif missing:
        resolved, registry_errors = resolve_online(missing, registry_options)
        digests.update(resolved)
        failures = {key: str(error) for key, error in registry_errors.items()}

    plans = [plan_file(scan, digests, options) for scan in scans]
    errors = _failure_messages(scans, failures, options) + [
        str(error) for plan in plans for error in plan.errors
    ]
    write = not (dry_run or diff)
    changed = _emit(plans, stdin_mode=stdin_mode, write=write, diff=diff, errors=errors)
    if write_digests is not None and not errors:
        _write_lock(write_digests, wanted, digests, errors)

    tally = Tally()
    for plan in plans:
        tally.add(plan.tally)
    report = pin_report([c for p in plans for c in p.changes], errors, tally, output_format)
    if output_format == "json" and not stdin_mode and not diff:
        out(report)
    else:
        if report and (output_format != "text" or not quiet):
            err(report)
        if output_format == "text":
            print_errors(errors)
    if not quiet:
        print_notices(scan.notice for scan in scans if scan.notice)
        err(summary_line("pin", tally, time.monotonic() - started))
    if errors:
        raise typer.Exit(EXIT_ERROR)
    # A filter that wrote its stream did its job; exit 1 would break `set -o pipefail`.
    raise typer.Exit(EXIT_CHANGES if changed and not (stdin_mode and write) else EXIT_OK)


def _emit(
    plans: Sequence[FilePlan], *, stdin_mode: bool, write: bool, diff: bool, errors: list[str]
) -> bool:
    """Write, diff or print each changed file; return whether anything changed."""
    changed = False
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
            try:
                write_atomic(source.path, source.encode(new_text), expected=source.raw)
            except PinnerError as exc:
                errors.append(str(exc))
            except OSError as exc:
                errors.append(
                    f"{plan.scan.display}: cannot write the file ({exc.strerror}); it was not "
                    "changed. Check the permissions of the file and its folder."
                )
    return changed


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
    wanted: Mapping[MatchKey, Reference],
    digests: Mapping[MatchKey, str],
    errors: list[str],
) -> None:
    pins = {ref: digests[key] for key, ref in wanted.items() if key in digests}
    try:
        path.write_text(format_digest_lines(pins), encoding="utf-8")
    except OSError as exc:
        errors.append(f"{path}: cannot write the digest file ({exc.strerror}).")

"""``pinner lock add IMAGE...``: look up each tag's digest and write it into a lock file.

What a missing digest under ``pin --offline`` asks for. The lock is rewritten atomically with
every other line kept (``pinner.lockfile.write_lock``); if any image cannot be looked up,
nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pinner.cli.app import EXIT_ERROR, EXIT_OK, app, err, out, print_errors
from pinner.cli.common import command_settings
from pinner.cli.help import PinnerCommand
from pinner.cli.options import (
    DIGESTS,
    ConfigFile,
    GcloudHosts,
    InsecureRegistries,
    Mirrors,
    NoConfig,
    Platform,
    Quiet,
    Timeout,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import resolve_online
from pinner.errors import InvalidReferenceError, PinnerError
from pinner.lockfile import lock_line, write_lock
from pinner.reference import Reference, parse_reference

DEFAULT_LOCK = Path("pins.lock")

lock_app = typer.Typer(
    name="lock",
    help="Keep a digest lock file (--digests, --write-digests) up to date.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(
    lock_app,
    name="lock",
    help="Add or update entries of a digest lock file, keeping the rest.",
    epilog="Example: pinner lock add --file pins.lock nginx:1.27 ghcr.io/org/app:2.1",
)


@lock_app.command(
    "add",
    cls=PinnerCommand,
    epilog="Examples:\n\n"
    "pinner lock add nginx:1.27 redis:7\n\n"
    "pinner lock add -f deploy/pins.lock --platform linux/arm64 ghcr.io/o/app:2.1",
)
def add(
    context: typer.Context,
    images: Annotated[
        list[str],
        typer.Argument(metavar="IMAGE...", help="Images by tag (IMAGE:TAG), or IMAGE:TAG@DIGEST."),
    ],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            metavar="FILE",
            help="The lock file to write.",
            rich_help_panel=DIGESTS,
        ),
    ] = DEFAULT_LOCK,
    platform: Platform = None,
    insecure_registries: InsecureRegistries = None,
    mirrors: Mirrors = None,
    gcloud_hosts: GcloudHosts = None,
    timeout: Timeout = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """Look up each tag's digest and add or update its line in the lock."""
    settings = command_settings(context)
    references = [_tag_reference(image) for image in images]
    # IMAGE:TAG@DIGEST says the digest itself; only the others are looked up.
    pins = {_bare(ref): ref.digest for ref in references if ref.digest is not None}
    wanted = {ref.match_key: ref for ref in references if ref.digest is None}
    if wanted:
        progress = Progress.for_terminal(quiet)
        digests, failures = resolve_online(
            list(wanted.values()), settings, progress.stage("pinner: resolving references")
        )
        progress.finish()
        if failures:
            print_errors(str(error) for _, error in sorted(failures.items()))
            err(f"pinner lock add: {file} was not changed.")
            raise typer.Exit(EXIT_ERROR)
        pins.update({ref: digests[key] for key, ref in wanted.items()})
    try:
        changed = write_lock(file, pins)
    except PinnerError as exc:
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None
    out("".join(f"{lock_line(ref, digest)}\n" for ref, digest in pins.items()))
    if not quiet:
        err(f"pinner lock add: {file} {'updated' if changed else 'already up to date'}.")
    raise typer.Exit(EXIT_OK)


def _tag_reference(image: str) -> Reference:
    try:
        reference = parse_reference(image)
    except InvalidReferenceError as exc:
        print_errors([f"{image!r} is not an image reference: {exc}. Write IMAGE:TAG."])
        raise typer.Exit(EXIT_ERROR) from None
    if reference.digest is not None and reference.tag is None:
        print_errors(
            [
                f"{image} names no tag: a lock entry records the digest of a tag. Write "
                "IMAGE:TAG, or IMAGE:TAG@DIGEST."
            ]
        )
        raise typer.Exit(EXIT_ERROR)
    return reference


def _bare(reference: Reference) -> Reference:
    return Reference(reference.domain, reference.path, reference.tag, None)

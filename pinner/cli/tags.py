"""``pinner tags``: read a digest as a version, by the tags that point to it now."""

from __future__ import annotations

from typing import Annotated

import typer

from pinner.cli.app import (
    EXIT_CHANGES,
    EXIT_ERROR,
    command,
    fail_usage,
    out,
    print_errors,
)
from pinner.cli.common import command_settings
from pinner.cli.options import (
    Concurrency,
    ConfigFile,
    GcloudHosts,
    InsecureRegistries,
    Mirrors,
    NoConfig,
    Quiet,
    Timeout,
)
from pinner.cli.progress import Progress
from pinner.cli.resolve import client_without_platform
from pinner.errors import InvalidReferenceError
from pinner.reference import Reference, parse_reference


@command(epilog="Example: pinner tags ghcr.io/org/app@sha256:0123…cdef")
def tags(
    context: typer.Context,
    image: Annotated[
        str,
        typer.Argument(
            metavar="IMAGE@DIGEST", help="An image pinned by digest.", show_default=False
        ),
    ],
    insecure_registries: InsecureRegistries = None,
    mirrors: Mirrors = None,
    gcloud_hosts: GcloudHosts = None,
    concurrency: Concurrency = None,
    timeout: Timeout = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """List the tags that point to a digest now (exit 1 if none)."""
    reference = _parse(image)
    settings = command_settings(context)
    from pinner.tags import read_tags

    progress = Progress.for_terminal(quiet)
    with client_without_platform(settings, progress) as client:
        answer = read_tags(client, reference, progress.stage("pinner: reading tags"))
    out("".join(f"{tag}\n" for tag in answer.found.tags))
    print_errors(answer.problems(reference))
    if answer.found.failures:
        raise typer.Exit(EXIT_ERROR)
    if not answer.found.tags:
        raise typer.Exit(EXIT_CHANGES)


def _parse(image: str) -> Reference:
    try:
        reference = parse_reference(image)
    except InvalidReferenceError as exc:
        raise fail_usage(
            f"{image!r} is not an image reference: {exc}. Write IMAGE@sha256:<digest>."
        ) from None
    if reference.digest is None:
        raise fail_usage(
            f"{image} has no digest; pinner tags names a digest, e.g. "
            f"`pinner tags {reference.name}@sha256:<digest>`. For a tag's digest, run "
            f"`pinner digest {image}`."
        )
    return reference

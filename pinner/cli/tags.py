"""``pinner tags``: read a digest as a version, by the tags that point to it now."""

from __future__ import annotations

from typing import Annotated

import typer

from pinner.cli.app import EXIT_CHANGES, EXIT_ERROR, command, fail_usage, out, print_errors
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
from pinner.cli.resolve import RegistryOptions, client_settings
from pinner.errors import InvalidReferenceError, PinnerError
from pinner.reference import Reference, parse_reference


@command(epilog="Example: pinner tags ghcr.io/org/app@sha256:0123…cdef")
def tags(
    image: Annotated[
        str,
        typer.Argument(
            metavar="IMAGE@DIGEST", help="An image pinned by digest.", show_default=False
        ),
    ],
    insecure_registry: InsecureRegistries = None,
    mirror: Mirrors = None,
    gcloud_host: GcloudHosts = None,
    concurrency: Concurrency = None,
    timeout: Timeout = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    quiet: Quiet = False,
) -> None:
    """List the tags that point to a digest now (exit 1 if none)."""
    reference = _parse(image)
    digest = reference.digest
    assert digest is not None
    settings = command_settings(
        config,
        no_config,
        mirrors=mirror,
        insecure_registries=insecure_registry,
        gcloud_hosts=gcloud_host,
        concurrency=concurrency,
    )
    from pinner.registry.client import RegistryClient
    from pinner.verify import tags_for_digest

    options = RegistryOptions.from_settings(settings, timeout=timeout)
    registry_settings = client_settings(options, platform=False)
    progress = Progress.for_terminal(quiet)
    repository = f"{reference.registry}/{reference.repository}"
    try:
        with RegistryClient(registry_settings) as client:
            found = tags_for_digest(
                client, reference, digest, progress.stage("pinner: reading tags")
            )
            progress.finish()
            exists = found.tags or found.failures or client.manifest_exists(reference, digest)
    except PinnerError as exc:
        progress.finish()
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None
    out("".join(f"{tag}\n" for tag in found.tags))
    if found.failures:
        # Some tags could not be read: a list without them would look complete.
        print_errors(str(error) for error in found.failures.values())
        print_errors(
            [
                f"{len(found.failures)} of {found.listed} tags of {repository} could not be "
                "checked, so the list above may be incomplete. Fix the errors above and run "
                "pinner tags again."
            ]
        )
        raise typer.Exit(EXIT_ERROR)
    if not found.tags:
        if not exists:
            print_errors(
                [
                    f"{repository} has no manifest {digest}: it was deleted or never pushed "
                    "there. Check the digest and the repository."
                ]
            )
        else:
            print_errors(
                [
                    f"no tag of {repository} points to {digest} ({found.listed} "
                    f"tag{'' if found.listed == 1 else 's'} checked). It may be one platform's "
                    "manifest of a multi-arch index, or the tags that named it have moved on."
                ]
            )
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

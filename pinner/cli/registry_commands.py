"""Commands that talk to registries about one image: ``pinner digest``."""

from __future__ import annotations

from typing import Annotated

import typer

from pinner.cli.app import EXIT_ERROR, app, out, print_errors
from pinner.cli.options import GcloudHosts, InsecureRegistries, Mirrors, Platform
from pinner.cli.resolve import RegistryOptions
from pinner.errors import PinnerError
from pinner.reference import parse_reference


@app.command(epilog="Example: pinner digest nginx:1.25 --platform linux/arm64")
def digest(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="An image reference.")],
    platform: Platform = None,
    insecure_registry: InsecureRegistries = None,
    mirror: Mirrors = None,
    gcloud_host: GcloudHosts = None,
) -> None:
    """Print the digest a tag points to, as `crane digest` does."""
    options = RegistryOptions.from_flags(platform, insecure_registry, mirror, gcloud_host)
    try:
        reference = parse_reference(image)
        from pinner.registry import RegistryClient, RegistrySettings

        settings = RegistrySettings(
            insecure_registries=options.insecure_registries,
            mirrors=dict(options.mirrors),
            gcloud_hosts=options.gcloud_hosts,
            platform=platform,
        )
        with RegistryClient(settings) as client:
            found = client.resolve(reference, platform)
    except PinnerError as exc:
        print_errors([f"{image}: {exc}" if not str(exc).startswith(image) else str(exc)])
        raise typer.Exit(EXIT_ERROR) from None
    out(f"{found}\n")

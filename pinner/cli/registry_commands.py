"""Commands that talk to registries about one image: ``pinner digest``."""

from __future__ import annotations

from typing import Annotated

import typer

from pinner.cli.app import command, out, user_errors
from pinner.cli.common import command_settings
from pinner.cli.options import (
    ConfigFile,
    GcloudHosts,
    InsecureRegistries,
    Mirrors,
    NoConfig,
    Platform,
    Timeout,
)
from pinner.reference import parse_reference


@command(epilog="Example: pinner digest nginx:1.25 --platform linux/arm64")
def digest(
    context: typer.Context,
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="An image reference.")],
    platform: Platform = None,
    insecure_registries: InsecureRegistries = None,
    mirrors: Mirrors = None,
    gcloud_hosts: GcloudHosts = None,
    timeout: Timeout = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
) -> None:
    """Print the digest a tag points to, as `crane digest` does."""
    settings = command_settings(context)
    with user_errors():
        reference = parse_reference(image)
        from pinner.registry.client import RegistryClient

        with RegistryClient(settings) as client:
            found = client.resolve(reference, settings.platform)
    out(f"{found}\n")

"""``pinner policy``: print the Gatekeeper policy that enforces ``pinner check`` in the cluster."""

from __future__ import annotations

import typer

from pinner.cli.app import command, out
from pinner.cli.common import command_settings
from pinner.cli.options import ConfigFile, Exempt, NoConfig
from pinner.gatekeeper import policy_yaml


@command(
    epilog="Example: pinner policy --exempt 'registry.k8s.io/pause*' | kubectl apply -f -",
)
def policy(
    context: typer.Context,
    exempt: Exempt = None,
    config: ConfigFile = None,
    no_config: NoConfig = False,
) -> None:
    """Print a Gatekeeper policy that enforces pinner check's rule."""
    # .pinner.yaml's exemptions too, so the cluster admits exactly what the commit hook does.
    settings = command_settings(context)
    out(policy_yaml(settings.exempt))
    raise typer.Exit(0)

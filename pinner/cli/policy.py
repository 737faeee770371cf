"""``pinner policy``: print the Gatekeeper policy that enforces ``pinner check`` in the cluster."""

from __future__ import annotations

import typer

from pinner.cli.app import app, out
from pinner.cli.options import Exempt
from pinner.gatekeeper import policy_yaml


@app.command(
    epilog="Example: pinner policy --exempt 'registry.k8s.io/pause*' | kubectl apply -f -",
)
def policy(exempt: Exempt = None) -> None:
    """Print a Gatekeeper ConstraintTemplate and Constraint with pinner check's rule."""
    out(policy_yaml(tuple(exempt or ())))
    raise typer.Exit(0)

"""Issue 15 end to end: a chart's values pinned against the real Debian `docker-registry`.

The test pushes its own images through the distribution API (tests/support/registry_server.py),
so every digest expected in the values is the sha256 of bytes the test uploaded, one per
repository and tag, never something pinner computed. With CI=true the test fails instead of
skipping when `docker-registry` is missing (the fixtures call `require_binary`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pinner.cli import main
from tests.support.registry_server import Pusher, RegistryServer

pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("isolated", "docker_config")]

CHART = "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: 2.0.0\n"
VALUES = """\
global:
  imageRegistry: ""
image:
  registry: {host}
  repository: {repo}/web
  tag: "1.0"
  digest: ""
metrics:
  image:
    registry: {host}
    repository: {repo}/exporter
    tag: ""    # the chart's appVersion
    digest:
ingress:
  image:
    image: {repo}/proxy
    registry: {host}
    tag: v3
    digest: null
"""
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart:
    spec:
      chart: web
  values:
    image:
      registry: {host}
      repository: {repo}/web
      tag: "1.0"
      digest: ""
"""


def test_a_charts_values_are_pinned_to_what_was_pushed(
    capsys: pytest.CaptureFixture[str],
    registry_anonymous: RegistryServer,
    pusher_anonymous: Pusher,
    unique_repo: str,
) -> None:
    host = registry_anonymous.host
    pushed = {
        "web:1.0": pusher_anonymous.push_image(f"{unique_repo}/web", "1.0", seed="web"),
        "exporter:2.0.0": pusher_anonymous.push_image(
            f"{unique_repo}/exporter", "2.0.0", seed="exporter"
        ),
        "proxy:v3": pusher_anonymous.push_image(f"{unique_repo}/proxy", "v3", seed="proxy"),
    }
    # A decoy under the tag written in a block that takes appVersion: it must not be used.
    pusher_anonymous.push_image(f"{unique_repo}/exporter", "latest", seed="decoy")
    assert len(set(pushed.values())) == 3
    Path("chart").mkdir()
    Path("chart/Chart.yaml").write_text(CHART)
    values = Path("chart/values.yaml")
    values.write_text(VALUES.format(host=host, repo=unique_repo))
    release = Path("release.yaml")
    release.write_text(RELEASE.format(host=host, repo=unique_repo))

    assert main(["check", "chart", "release.yaml"]) == 1
    before = capsys.readouterr().out
    assert f"chart/values.yaml:7:11: {host}/{unique_repo}/web:1.0 is not pinned" in before
    assert len(before.splitlines()) == 4

    assert main(["pin", "chart", "release.yaml"]) == 1
    capsys.readouterr()
    data = YAML(typ="safe").load(values.read_text())
    assert data["image"]["digest"] == pushed["web:1.0"]
    assert data["metrics"]["image"]["digest"] == pushed["exporter:2.0.0"]
    assert data["ingress"]["image"]["digest"] == pushed["proxy:v3"]
    assert (
        YAML(typ="safe").load(release.read_text())["spec"]["values"]["image"]["digest"]
        == (pushed["web:1.0"])
    )
    # Nothing but the digest values changed.
    expected = VALUES.format(host=host, repo=unique_repo)
    expected = expected.replace('  digest: ""', f'  digest: "{pushed["web:1.0"]}"')
    expected = expected.replace("    digest:\n", f"    digest: {pushed['exporter:2.0.0']}\n")
    expected = expected.replace("    digest: null\n", f"    digest: {pushed['proxy:v3']}\n")
    assert values.read_text() == expected

    assert main(["check", "chart", "release.yaml"]) == 0
    assert main(["verify", "chart", "release.yaml"]) == 0
    capsys.readouterr()

    # The tag moves: verify sees the drift, and pin --update moves the digest value.
    moved = pusher_anonymous.push_image(f"{unique_repo}/web", "1.0", seed="web-2")
    assert main(["verify", "chart"]) == 1
    assert main(["pin", "--update", "chart"]) == 1
    capsys.readouterr()
    assert YAML(typ="safe").load(values.read_text())["image"]["digest"] == moved
    assert values.read_text() == expected.replace(pushed["web:1.0"], moved)

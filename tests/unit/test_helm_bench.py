"""The benchmark's switch really turns the Helm values search off (and back on)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.helm_bench import values_search_off
from pinner.manifests.scan import scan_paths

RELEASE = (
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\n"
    "spec:\n  values:\n    image: {repository: api, tag: '2', digest: ''}\n"
)


def test_the_switch(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (tmp_path / "values.yaml").write_text("image: {repository: web, tag: '1', digest: ''}\n")
    (tmp_path / "release.yaml").write_text(RELEASE)

    def images() -> list[str]:
        return [site.image for scan in scan_paths([str(tmp_path)]) for site in scan.sites]

    assert images() == ["api:2", "web:1"]
    with values_search_off():
        assert images() == []
    assert images() == ["api:2", "web:1"]

"""Rules from .pinner.yaml: images in custom resources, pinned byte for byte and checked."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from pinner.cli import main

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
RULES = """\
rules:
- kind: Rollout
  apiVersion: argoproj.io/v1alpha1
  podSpec: spec.template.spec
- kind: Prometheus   # prometheus-operator: the image fields are plain strings
  images: [spec.image, spec.thanos.image]
"""
ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
  template:
    spec:
      initContainers:
      - name: migrate
        image: "ghcr.io/acme/migrate:1.2"   # quoted, with a comment
      containers:
      - name: web
        image: nginx:1.27
"""
PROMETHEUS = """\
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: main
spec:
  image: quay.io/prometheus/prometheus:v2.53.0
  replicas: 2
  thanos:
    image: 'quay.io/thanos/thanos:v0.35.1'
    version: v0.35.1
"""
DIGESTS = f"""\
ghcr.io/acme/migrate:1.2@{A}
nginx:1.27@{B}
quay.io/prometheus/prometheus:v2.53.0@{C}
quay.io/thanos/thanos:v0.35.1@{A}
"""


@pytest.fixture(autouse=True)
def _rules(work_tree: Path) -> None:
    Path(".pinner.yaml").write_text(RULES)
    Path("digests.txt").write_text(DIGESTS)
    Path("k8s").mkdir()
    Path("k8s/rollout.yaml").write_text(ROLLOUT)
    Path("k8s/prometheus.yaml").write_text(PROMETHEUS)


def test_pin_rewrites_custom_resources_byte_for_byte(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pin", "--offline", "--digests", "digests.txt", "k8s"]) == 1
    assert Path("k8s/rollout.yaml").read_text() == ROLLOUT.replace(
        "ghcr.io/acme/migrate:1.2", f"ghcr.io/acme/migrate@{A}"
    ).replace("nginx:1.27", f"nginx@{B}")
    assert Path("k8s/prometheus.yaml").read_text() == PROMETHEUS.replace(
        "quay.io/prometheus/prometheus:v2.53.0", f"quay.io/prometheus/prometheus@{C}"
    ).replace("quay.io/thanos/thanos:v0.35.1", f"quay.io/thanos/thanos@{A}")
    # `version: v0.35.1` is not an image: it is left alone.
    assert "    version: v0.35.1\n" in Path("k8s/prometheus.yaml").read_text()
    capsys.readouterr()
    assert main(["check", "k8s"]) == 0


def test_check_flags_images_the_rules_point_at(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "k8s"]) == 1
    assert capsys.readouterr().out == (
        "k8s/prometheus.yaml:6:10: quay.io/prometheus/prometheus:v2.53.0 is not pinned by "
        "digest (Prometheus main, spec.image)\n"
        "k8s/prometheus.yaml:9:12: quay.io/thanos/thanos:v0.35.1 is not pinned by digest "
        "(Prometheus main, spec.thanos.image)\n"
        "k8s/rollout.yaml:13:16: ghcr.io/acme/migrate:1.2 is not pinned by digest "
        "(Rollout web, init container migrate)\n"
        "k8s/rollout.yaml:16:16: nginx:1.27 is not pinned by digest "
        "(Rollout web, container web)\n"
    )


def test_without_the_rules_the_prometheus_images_are_not_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A Prometheus holds no pod spec, so nothing finds its images by shape.
    assert main(["check", "--no-config", "k8s/prometheus.yaml"]) == 0
    assert capsys.readouterr().out == ""


def test_a_rule_applies_only_to_its_api_version(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text(
        "rules:\n- kind: Prometheus\n  apiVersion: monitoring.coreos.com/v2\n"
        "  images: [spec.image]\n"
    )
    assert main(["check", "k8s/prometheus.yaml"]) == 0
    assert capsys.readouterr().out == ""


def test_rules_apply_to_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PROMETHEUS.encode())))
    assert main(["pin", "--offline", "--digests", "digests.txt", "-"]) == 0
    assert capsys.readouterr().out == PROMETHEUS.replace(
        "quay.io/prometheus/prometheus:v2.53.0", f"quay.io/prometheus/prometheus@{C}"
    ).replace("quay.io/thanos/thanos:v0.35.1", f"quay.io/thanos/thanos@{A}")

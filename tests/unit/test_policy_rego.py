"""`pinner policy` prints a Gatekeeper policy whose Rego flags exactly what `pinner check` flags.

The Rego is evaluated by regopy (rego-cpp) on every object of a sample manifest, fed to it the
way Gatekeeper feeds admission reviews (`input.review.object`, `input.parameters`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from regopy import Interpreter
from ruamel.yaml import YAML

from pinner.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DIGEST = "sha256:" + "0123456789abcdef" * 4
# Images chosen to sit on both sides of the regex and of the exemptions.
SAMPLES = """\
apiVersion: v1
kind: Pod
metadata: {name: pod}
spec:
  initContainers:
  - {name: init, image: "busybox:1.36"}
  containers:
  - {name: tagged, image: "nginx:1.27"}
  - {name: digest, image: "nginx@DIGEST"}
  - {name: both, image: "nginx:1.27@DIGEST"}
  - {name: other-algorithm, image: "nginx@sha512:SHA512"}
  - {name: no-tag, image: "nginx"}
  - {name: exempt-exact, image: "registry.k8s.io/pause:3.9"}
  - {name: exempt-prefix, image: "internal.example.com/tools/debug:1"}
  - {name: prefix-not-exempt, image: "registry.k8s.io/pause:3.10"}
  ephemeralContainers:
  - {name: debugger, image: "alpine:3.20"}
  volumes:
  - name: data
    image: {reference: "quay.io/example/data:1"}
  - name: pinned-data
    image: {reference: "quay.io/example/data@DIGEST"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: web, image: "ghcr.io/example/web:2"}
      - {name: web-pinned, image: "ghcr.io/example/web@DIGEST"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: job, image: "us-docker.pkg.dev/p/r/job:1"}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tpl}
template:
  spec:
    containers:
    - {name: tpl, image: "redis:7"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      initContainers:
      - {name: db-init, image: "postgres:16@DIGEST"}
      containers:
      - {name: db, image: "postgres:16"}
""".replace("DIGEST", DIGEST).replace("SHA512", "ab" * 64)
EXEMPT = ["registry.k8s.io/pause:3.9", "internal.example.com/*"]


def policy_documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    args = ["policy"]
    for pattern in EXEMPT:
        args += ["--exempt", pattern]
    assert main(args) == 0
    return list(YAML(typ="safe", pure=True).load_all(capsys.readouterr().out))


def test_policy_is_a_gatekeeper_template_and_constraint(capsys: pytest.CaptureFixture[str]) -> None:
    template, constraint = policy_documents(capsys)
    assert template["apiVersion"] == "templates.gatekeeper.sh/v1"
    assert template["kind"] == "ConstraintTemplate"
    kind = template["spec"]["crd"]["spec"]["names"]["kind"]
    assert template["metadata"]["name"] == kind.lower()  # Gatekeeper requires this
    (target,) = template["spec"]["targets"]
    assert target["target"] == "admission.k8s.gatekeeper.sh"
    assert target["rego"].startswith(f"package {kind.lower()}\n")
    schema = template["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"]
    assert schema["properties"]["exemptImages"]["items"] == {"type": "string"}
    assert constraint["kind"] == kind
    assert constraint["spec"]["parameters"]["exemptImages"] == EXEMPT
    matched = {k for entry in constraint["spec"]["match"]["kinds"] for k in entry["kinds"]}
    assert {"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} <= matched


def rego_flags(rego: str, package: str, objects: list[dict[str, Any]]) -> set[str]:
    interpreter = Interpreter()
    interpreter.add_module("policy.rego", rego)
    flagged: set[str] = set()
    for obj in objects:
        interpreter.set_input({"review": {"object": obj}, "parameters": {"exemptImages": EXEMPT}})
        output = interpreter.query(f"data.{package}.violation")
        (result,) = output.results
        for violation in result.expressions[0]:
            flagged.add(violation["msg"].rsplit("<", 1)[1].rstrip(">"))
    return flagged


def test_rego_flags_exactly_what_check_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template, _ = policy_documents(capsys)
    rego = template["spec"]["targets"][0]["rego"]
    package = template["metadata"]["name"]
    manifest = tmp_path / "samples.yaml"
    manifest.write_text(SAMPLES)
    objects = list(YAML(typ="safe", pure=True).load_all(SAMPLES))

    args = ["check", "--format", "json", str(manifest)]
    for pattern in EXEMPT:
        args += ["--exempt", pattern]
    assert main(args) == 1
    report = json.loads(capsys.readouterr().out)
    checked = {violation["image"] for violation in report["violations"]}

    assert rego_flags(rego, package, objects) == checked
    # And the expected set, written out, so neither side can drift unnoticed.
    assert checked == {
        "busybox:1.36",
        "nginx:1.27",
        "nginx",
        "registry.k8s.io/pause:3.10",
        "alpine:3.20",
        "quay.io/example/data:1",
        "ghcr.io/example/web:2",
        "us-docker.pkg.dev/p/r/job:1",
        "redis:7",
        "postgres:16",
    }


def test_policy_without_exemptions_has_no_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy"]) == 0
    _, constraint = YAML(typ="safe", pure=True).load_all(capsys.readouterr().out)
    assert "parameters" not in constraint["spec"]

"""One table of workload kinds: the finder, the Gatekeeper policy and the docs all agree with it.

Each test builds its input from ``WORKLOAD_KINDS`` itself, so a kind added to the table is found
by the finder, flagged by the Rego and matched by the Constraint, or one of these tests fails.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from regopy import Interpreter
from ruamel.yaml import YAML

from pinner.gatekeeper import TEMPLATE_NAME, policy_yaml
from pinner.kinds import WORKLOAD_KINDS, WorkloadKind
from pinner.manifests.finder import find_images
from tests.support.paths import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
# A docs table row: "| Kind, Kind | `path.to.spec` |".
ROW_RE = re.compile(r"^\|\s*(?P<kinds>[^|`]+?)\s*\|\s*`(?P<path>[^`]+)`\s*\|$")


def workload(kind: str, entry: WorkloadKind) -> dict[str, Any]:
    """An object of ``kind`` with one unpinned container at its pod-spec path."""
    pod_spec: dict[str, Any] = {"containers": [{"name": "app", "image": image_of(kind)}]}
    for key in reversed(entry.pod_spec):
        pod_spec = {key: pod_spec}
    api_version = f"{entry.group}/v1" if entry.group else "v1"
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **pod_spec}


def image_of(kind: str) -> str:
    return f"example.com/{kind.lower()}:1"


def test_the_finder_reads_every_kind_at_its_pod_spec_path() -> None:
    text = "---\n".join(
        json.dumps(workload(kind, entry)) + "\n" for kind, entry in WORKLOAD_KINDS.items()
    )
    found = {(site.kind, site.image) for site in find_images(text, "all.yaml")}
    assert found == {(kind, image_of(kind)) for kind in WORKLOAD_KINDS}


def test_the_constraint_matches_every_kind_in_its_api_group() -> None:
    _, constraint = YAML(typ="safe", pure=True).load_all(policy_yaml(()))
    matched = {
        (group, kind)
        for entry in constraint["spec"]["match"]["kinds"]
        for group in entry["apiGroups"]
        for kind in entry["kinds"]
    }
    assert matched == {(entry.group, kind) for kind, entry in WORKLOAD_KINDS.items()}


def test_the_rego_flags_an_image_in_every_kind() -> None:
    template, _ = YAML(typ="safe", pure=True).load_all(policy_yaml(()))
    interpreter = Interpreter()
    interpreter.add_module("policy.rego", template["spec"]["targets"][0]["rego"])
    for kind, entry in WORKLOAD_KINDS.items():
        interpreter.set_input({"review": {"object": workload(kind, entry)}, "parameters": {}})
        (result,) = interpreter.query(f"data.{TEMPLATE_NAME}.violation").results
        messages = [violation["msg"] for violation in result.expressions[0]]
        assert messages == [f"containers <app> uses an image without a digest <{image_of(kind)}>"]


def test_the_docs_table_of_pod_spec_paths_is_the_table() -> None:
    documented: dict[str, str] = {}
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]:
        for line in page.read_text(encoding="utf-8").splitlines():
            row = ROW_RE.match(line.strip())
            if row is None or not row["path"].endswith("spec"):
                continue
            for kind in row["kinds"].split(","):
                documented[kind.strip()] = row["path"]
    assert documented == {kind: ".".join(entry.pod_spec) for kind, entry in WORKLOAD_KINDS.items()}

"""The commands on Helm values: one notice per chart, skipped blocks in every format, exempt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

A = "sha256:" + "a" * 64
CHART = "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: 1.0.0\n"
NO_DIGEST = "image:\n  repository: ghcr.io/acme/web\n  tag: '1.0'\n"
NOTICE = (
    "notice: chart chart: 2 image blocks have no digest key, so pin leaves the tag alone "
    '(chart/values-prod.yaml:3:8 image, chart/values.yaml:3:8 image). Add digest: "" to each '
    "block where the chart's templates use one; or pass --helm-digest-in-tag "
    "(helm_digest_in_tag: true in .pinner.yaml) to write the tag as tag@sha256:..., for "
    "templates that join repository:tag; or render the chart (helm template ... | pinner pin -)."
)
PIN = ["pin", "--offline", "--digests", "digests.txt"]


@pytest.fixture(autouse=True)
def _chart(work_tree: Path) -> None:
    Path("chart").mkdir()
    Path("chart/Chart.yaml").write_text(CHART)
    Path("chart/values.yaml").write_text(NO_DIGEST)
    Path("chart/values-prod.yaml").write_text(NO_DIGEST)
    Path("digests.txt").write_text(f"ghcr.io/acme/web:1.0@{A}\n")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    code, out, err = run_cli(capsys, *args)
    return code, out, err.splitlines()


def test_blocks_without_a_digest_key_get_one_notice_per_chart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, *PIN, "chart")
    assert (code, out) == (0, "")
    assert err[0] == NOTICE
    assert err[1].startswith(
        "pinner pin: 3 files scanned, 2 references found: 0 pinned, 0 already pinned, "
        "0 exempt, 0 failed, 2 skipped ("
    )
    # check: not pinned (the cluster gets a tag), with the same advice.
    code, out, err = run(capsys, "check", "chart")
    assert code == 1
    assert out.splitlines() == [
        "chart/values-prod.yaml:3:8: ghcr.io/acme/web:1.0 is not pinned by digest "
        "(HelmValues, image)",
        "chart/values.yaml:3:8: ghcr.io/acme/web:1.0 is not pinned by digest (HelmValues, image)",
    ]
    assert err[0] == NOTICE
    # Exempt like any image: nothing to say.
    code, out, err = run(capsys, "check", "--exempt", "ghcr.io/acme/*", "chart")
    assert (code, out, len(err)) == (0, "", 1)


def test_blocks_left_alone_are_listed_as_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *PIN, "--format", "json", "chart")
    report = json.loads(out)
    assert code == 0
    assert [(s["path"], s["line"], s["column"]) for s in report["skipped"]] == [
        ("chart/values-prod.yaml", 3, 8),
        ("chart/values.yaml", 3, 8),
    ]
    assert report["skipped"][1]["message"] == (
        "chart/values.yaml:3:8: skipped: ghcr.io/acme/web:1.0 (image) has no digest key; pin "
        "writes one only into its tag, with --helm-digest-in-tag."
    )
    assert report["summary"]["skipped"] == 2
    # The notice once per block it names, each placed there.
    assert [(n["message"], n["path"], n["line"]) for n in report["notices"]] == [
        (NOTICE.removeprefix("notice: "), path, 3)
        for path in ("chart/values-prod.yaml", "chart/values.yaml")
    ]
    code, out, _ = run(capsys, *PIN, "--format", "github", "chart")
    assert out.splitlines()[:2] == [
        "::warning file=chart/values-prod.yaml,line=3,col=8::" + report["skipped"][0]["message"],
        "::warning file=chart/values.yaml,line=3,col=8::" + report["skipped"][1]["message"],
    ]


def test_opted_in_the_tag_carries_the_digest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *PIN, "--helm-digest-in-tag", "chart/values.yaml")
    assert code == 1
    assert out == f"chart/values.yaml:3:8: ghcr.io/acme/web:1.0 -> ghcr.io/acme/web:1.0@{A}\n"
    assert Path("chart/values.yaml").read_text() == NO_DIGEST.replace("'1.0'", f"'1.0@{A}'")
    assert run(capsys, "check", "chart/values.yaml")[0] == 0
    # The lock file records the tag and digest written, so --update can replay them offline.
    code, _, _ = run(capsys, *PIN, "--write-digests", "lock.txt", "chart/values.yaml")
    assert Path("lock.txt").read_text().splitlines()[-1] == f"ghcr.io/acme/web:1.0@{A}"


def test_a_template_file_beside_the_values_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    Path("chart/templates").mkdir()
    Path("chart/templates/pod.yaml").write_text(
        "{{- if .Values.enabled }}\nkind: Pod\nspec:\n  containers:\n"
        "    - name: web\n      image: {{ .Values.image.repository }}\n{{- end }}\n"
    )
    code, out, _ = run(capsys, "check", "--format", "github", "--exempt", "ghcr.io/*", "chart")
    assert code == 0
    assert out == (
        "::warning file=chart/templates/pod.yaml::chart/templates/pod.yaml: skipped: this looks "
        "like a Go/Helm template ('{{'); render it first (helm template ... | pinner pin -).\n"
    )


def test_verify_counts_what_it_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    Path("chart/templates").mkdir()
    Path("chart/templates/pod.yaml").write_text(
        "kind: Pod\nspec:\n  containers:\n    - name: web\n      image: '{{ .Values.image }}'\n"
    )
    code, out, _ = run(capsys, "verify", "--format", "json", "chart/templates")
    report = json.loads(out)
    assert code == 0
    assert [(s["path"], s["line"]) for s in report["skipped"]] == [("chart/templates/pod.yaml", 5)]
    assert report["summary"]["skipped"] == 1
    code, out, err = run(capsys, "verify", "chart/templates")
    assert err[0].startswith("notice: chart/templates/pod.yaml:5:14: skipped: the image of ")
    assert ", 0 failed, 1 skipped (" in err[1]
    code, out, _ = run(capsys, "verify", "--format", "github", "chart/templates")
    assert out.startswith("::warning file=chart/templates/pod.yaml,line=5,col=14::")

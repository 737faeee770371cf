"""`--format sarif`: a SARIF 2.1.0 log GitHub code scanning accepts, for `check` and `verify`.

No JSON Schema validator is needed: the test checks, field by field, what GitHub's upload
requires (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/
sarif-support-for-code-scanning): ``version``, ``runs[].tool.driver`` with ``name`` and ``rules``
(each an ``id``), and results with ``ruleId``, ``message.text`` and a physical location whose
``artifactLocation.uri`` is relative to the checkout and whose ``region.startLine`` is set.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pinner.cli import main
from pinner.cli.verify import verify_report
from pinner.errors import Diagnostic, Location
from pinner.manifests.finder import find_images
from pinner.reference import parse_reference
from pinner.verify import DRIFT, MISSING, OK, PLATFORM, PinCheck, VerifyResult

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
POD = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: {}\n"
LEVELS = {"none", "note", "warning", "error"}


@pytest.fixture(autouse=True)
def _workspace(isolated: Path) -> None:
    Path("k8s").mkdir()
    Path("k8s/app.yaml").write_text(POD.format("nginx:1.27"))
    Path("k8s/pinned.yaml").write_text(POD.format(f"redis@{B}"))
    Path("k8s/broken.yaml").write_text("kind: Pod\nspec:\n  containers: [\n")


def valid_sarif(log: dict[str, Any]) -> dict[str, Any]:
    """Check what GitHub code scanning requires of a log; return its one run."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pinner"
    assert isinstance(driver["version"], str) and driver["version"]
    assert driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in LEVELS
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in LEVELS
        assert result["message"]["text"]
        for place in result.get("locations", []):
            physical = place["physicalLocation"]
            uri = physical["artifactLocation"]["uri"]
            assert uri and not uri.startswith("/") and "\\" not in uri and ":" not in uri, uri
            region = physical["region"]
            assert isinstance(region["startLine"], int) and region["startLine"] >= 1
            assert isinstance(region["startColumn"], int) and region["startColumn"] >= 1
    return dict(run)


def located(result: dict[str, Any]) -> tuple[str, str, int, int]:
    physical = result["locations"][0]["physicalLocation"]
    region = physical["region"]
    return (
        result["ruleId"],
        physical["artifactLocation"]["uri"],
        region["startLine"],
        region["startColumn"],
    )


def check_sarif(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--format", "sarif", *args])
    return code, valid_sarif(json.loads(capsys.readouterr().out))


def test_check_reports_unpinned_images_and_unreadable_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, run = check_sarif(capsys, "k8s")
    assert code == 2  # the unreadable file outranks the violation
    assert [located(result) for result in run["results"]] == [
        ("not-pinned", "k8s/app.yaml", 7, 12),
        ("pinner-error", "k8s/broken.yaml", 4, 1),
    ]
    assert run["results"][0]["message"]["text"] == (
        "nginx:1.27 is not pinned by digest (Pod web, container app)"
    )
    assert run["results"][0]["level"] == "error"
    assert run["invocations"][0]["executionSuccessful"] is False


def test_a_clean_tree_is_an_empty_successful_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, run = check_sarif(capsys, "k8s/pinned.yaml")
    assert code == 0
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_an_absolute_path_is_written_relative_to_the_checkout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    Path("my dir").mkdir()
    Path("my dir/app.yaml").write_text(POD.format("nginx:1.27"))
    code, run = check_sarif(capsys, str(tmp_path / "my dir" / "app.yaml"))
    assert code == 1
    assert [located(result)[1] for result in run["results"]] == ["my%20dir/app.yaml"]


def test_standard_input_names_no_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(POD.format("nginx:1.27").encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    code, run = check_sarif(capsys, "-")
    assert code == 1
    (result,) = run["results"]
    assert "locations" not in result
    assert result["message"]["text"].startswith("nginx:1.27 is not pinned")


def test_template_notices_are_tool_notifications(capsys: pytest.CaptureFixture[str]) -> None:
    Path("k8s/chart.yaml").write_text(POD.format('"{{ .Values.image }}"'))
    _, run = check_sarif(capsys, "k8s/chart.yaml")
    (notice,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notice["level"] == "note"
    assert notice["message"]["text"].startswith("k8s/chart.yaml:7:12: skipped")
    assert located({"ruleId": "", **notice})[1:] == ("k8s/chart.yaml", 7, 12)


def test_verify_findings_have_their_own_rules() -> None:
    text = "".join(
        POD.format(image).replace("name: app", f"name: c{n}")
        for n, image in enumerate([f"a:1@{A}", f"b:1@{A}", f"c:1@{A}", f"d@{A}"])
    )
    sites = find_images(text.replace("kind: Pod", "---\nkind: Pod"), "k8s/many.yaml")
    checks = [
        PinCheck(sites[0], parse_reference(sites[0].image), MISSING, exists=False),
        PinCheck(sites[1], parse_reference(sites[1].image), DRIFT, tag_found=True, current=B),
        PinCheck(
            sites[2], parse_reference(sites[2].image), PLATFORM, platform="linux/arm64", index=B
        ),
        PinCheck(sites[3], parse_reference(sites[3].image), OK, exists=True),
    ]
    failure = Diagnostic(
        "Could not look up e:1: the registry refused anonymous access (HTTP 401).",
        (Location("k8s/other.yaml", 3, 12, "e:1"),),
    )
    result = VerifyResult(checks=checks, errors=[failure], files=2, references=5)
    run = valid_sarif(json.loads(verify_report(result, [], 0.0, "sarif")))
    assert [(located(r)[0], located(r)[2], r["level"]) for r in run["results"]] == [
        ("digest-missing", sites[0].line, "error"),
        ("tag-drift", sites[1].line, "error"),
        ("platform-manifest", sites[2].line, "warning"),
        ("pinner-error", 3, "error"),
    ]
    assert run["results"][1]["message"]["text"] == (
        f"b:1@{A} has drifted: the tag 1 now points to {B}. Run `pinner pin --update` to move "
        "the pin."
    )

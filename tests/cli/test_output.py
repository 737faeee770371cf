"""The reports of `check` and `pin`, byte for byte, in every format; colour on and off."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from pinner.cli import main
from tests.support.samples import deployment

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
APP = deployment(f"""\
initContainers:
- name: pause
  image: registry.k8s.io/pause:3.9
containers:
- name: web
  image: nginx:1.27
- name: cache
  image: "redis@{B}"
""")
BROKEN = "kind: Pod\nspec:\n  containers: [\n"
CHART = """\
kind: Pod
metadata: {name: x}
spec:
  containers:
  - name: x
    image: "{{ .Values.image }}"
"""
EXEMPT = ["--exempt", "registry.k8s.io/pause*"]
PIN = ["pin", "--offline", "--digests", "digests.txt", *EXEMPT]

VIOLATION = "nginx:1.27 is not pinned by digest (Deployment web, container web)"
ERROR = "k8s/broken.yaml:4: invalid YAML: did not find expected node content. Fix the syntax."
PIN_ERROR = f"{ERROR} The file was not changed."  # pin writes a file whole or not at all
NOTICE = (
    "k8s/chart.yaml:6:12: skipped: the image of containers 'x' holds a Go/Helm template "
    "expression ('{{'); render it first (helm template ... | pinner pin -)."
)
# Errors as data (JSON): the message, and where it is.
ERROR_RECORD = {"message": ERROR, "path": "k8s/broken.yaml", "line": 4, "column": 1}
# The templated image, as --format json lists it and --format github annotates it.
SKIPPED = {"path": "k8s/chart.yaml", "line": 6, "column": 12, "message": NOTICE}
WARNING = f"::warning file=k8s/chart.yaml,line=6,col=12::{NOTICE}"
CHECK_SUMMARY = (
    "pinner check: 3 files scanned, 3 references found: 1 not pinned, 1 already pinned, "
    "1 exempt, 0 failed, 1 skipped; 1 file could not be read (0.00s)\n"
)
PIN_SUMMARY = (
    "pinner pin: 2 files scanned, 3 references found: 1 pinned, 1 already pinned, 1 exempt, "
    "0 failed, 1 skipped (0.00s)\n"
)
SITE = {
    "path": "k8s/app.yaml",
    "line": 13,
    "column": 16,
    "kind": "Deployment",
    "name": "web",
    "field": "containers",
    "container": "web",
    "image": "nginx:1.27",
}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _workspace(work_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "monotonic", lambda: 1000.0)  # every run takes 0.00s
    Path("k8s").mkdir()
    Path("k8s/app.yaml").write_text(APP)
    Path("k8s/broken.yaml").write_text(BROKEN)
    Path("k8s/chart.yaml").write_text(CHART)
    Path("digests.txt").write_text(f"nginx:1.27@{A}\n")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- check ------------------------------------------------------------------------------------


def test_check_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", *EXEMPT, "k8s") == (
        2,
        f"k8s/app.yaml:13:16: {VIOLATION}\n",
        f"error: {ERROR}\nnotice: {NOTICE}\n{CHECK_SUMMARY}",
    )


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", *EXEMPT, "--format", "json", "k8s")
    assert (code, err) == (2, CHECK_SUMMARY)
    document = {
        "command": "check",
        "violations": [SITE],
        "errors": [ERROR_RECORD],
        "notices": [],
        "skipped": [SKIPPED],
        "summary": {
            "files": 3,
            "references": 3,
            "not_pinned": 1,
            "already_pinned": 1,
            "exempt": 1,
            "failed": 0,
            "unreadable_files": 1,
            "skipped": 1,
            "seconds": 0.0,
        },
    }
    assert out == json.dumps(document, indent=2) + "\n"
    assert out.startswith('{\n  "command": "check",\n  "violations": [\n    {\n      "path": ')


def test_check_github(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", *EXEMPT, "--format", "github", "k8s") == (
        2,
        f"::error file=k8s/app.yaml,line=13,col=16::{VIOLATION}\n{WARNING}\n"
        f"::error file=k8s/broken.yaml,line=4,col=1::{ERROR}\n",
        CHECK_SUMMARY,
    )


def test_check_quiet_keeps_results_and_errors_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", *EXEMPT, "--quiet", "k8s") == (
        2,
        f"k8s/app.yaml:13:16: {VIOLATION}\n",
        f"error: {ERROR}\n",
    )


def test_check_github_escapes_what_github_would_misread(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("100%, odd:name.yaml").write_text(APP)
    code, out, _ = run(capsys, "check", *EXEMPT, "--format", "github", "100%, odd:name.yaml")
    assert code == 1
    assert out == f"::error file=100%25%2C odd%3Aname.yaml,line=13,col=16::{VIOLATION}\n"


# --- pin --------------------------------------------------------------------------------------

CHANGE = f"nginx:1.27 -> nginx@{A}"
FILES = ["k8s/app.yaml", "k8s/chart.yaml"]


def test_pin_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *PIN, "--dry-run", *FILES) == (
        1,
        f"k8s/app.yaml:13:16: {CHANGE}\n",
        f"notice: {NOTICE}\n{PIN_SUMMARY}",
    )
    assert Path("k8s/app.yaml").read_text() == APP


def pin_document(written: bool) -> str:
    document = {
        "command": "pin",
        "written": written,
        "changes": [{**SITE, "new_image": f"nginx@{A}"}],
        "errors": [],
        "notices": [],
        "skipped": [SKIPPED],
        "summary": {
            "files": 2,
            "references": 3,
            "pinned": 1,
            "already_pinned": 1,
            "exempt": 1,
            "failed": 0,
            "unreadable_files": 0,
            "skipped": 1,
            "seconds": 0.0,
        },
    }
    return json.dumps(document, indent=2) + "\n"


def test_pin_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *PIN, "--dry-run", "--format", "json", *FILES) == (
        1,
        pin_document(written=False),
        PIN_SUMMARY,
    )
    assert run(capsys, *PIN, "--format", "json", *FILES) == (
        1,
        pin_document(written=True),
        PIN_SUMMARY,
    )
    assert Path("k8s/app.yaml").read_text() == APP.replace("nginx:1.27", f"nginx@{A}")


def test_pin_github(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *PIN, "--dry-run", "--format", "github", *FILES) == (
        1,
        "::error file=k8s/app.yaml,line=13,col=16::nginx:1.27 is not pinned by digest; "
        f"pinner pin would write nginx@{A}\n{WARNING}\n",
        PIN_SUMMARY,
    )
    assert run(capsys, *PIN, "--format", "github", *FILES) == (
        1,
        f"::notice file=k8s/app.yaml,line=13,col=16::pinned nginx:1.27 as nginx@{A}\n{WARNING}\n",
        PIN_SUMMARY,
    )


def test_pin_errors_in_each_format(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*PIN, "--dry-run", "k8s/app.yaml", "k8s/broken.yaml"]
    summary = (
        "pinner pin: 2 files scanned, 3 references found: 1 pinned, 1 already pinned, "
        "1 exempt, 0 failed; 1 file could not be read (0.00s)\n"
    )
    assert run(capsys, *args) == (
        2,
        f"k8s/app.yaml:13:16: {CHANGE}\n",
        f"error: {PIN_ERROR}\n{summary}",
    )
    code, out, err = run(capsys, *args, "--format", "json")
    record = {**ERROR_RECORD, "message": PIN_ERROR}
    assert (code, json.loads(out)["errors"], err) == (2, [record], summary)
    code, out, err = run(capsys, *args, "--format", "github")
    annotation = f"::error file=k8s/broken.yaml,line=4,col=1::{PIN_ERROR}"
    assert (code, out.splitlines()[-1], err) == (2, annotation, summary)


def test_pin_diff_sends_the_report_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *PIN, "--diff", "--format", "json", "k8s/app.yaml")
    assert code == 1
    assert out.startswith("--- a/k8s/app.yaml\n+++ b/k8s/app.yaml\n")
    assert json.loads(err.split("pinner pin: ")[0])["written"] is False


# --- colour -----------------------------------------------------------------------------------


def test_colour_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("CI", "true")  # no progress bar in the captured text
    monkeypatch.setenv("TERM", "xterm")
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["check", *EXEMPT, "k8s"]) == 2
    assert terminal.getvalue() == (
        f"\033[31merror:\033[0m {ERROR}\n\033[33mnotice:\033[0m {NOTICE}\n{CHECK_SUMMARY}"
    )
    assert capsys.readouterr().out == f"k8s/app.yaml:13:16: {VIOLATION}\n"  # not a terminal


@pytest.mark.parametrize("no_color", ["1", ""])
def test_no_color_set_to_anything_turns_colour_off(
    no_color: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setenv("CI", "true")
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["check", *EXEMPT, "k8s"]) == 2
    assert "\033[" not in terminal.getvalue()
    assert terminal.getvalue().startswith(f"error: {ERROR}\n")


def test_no_colour_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR")
    assert main(["check", *EXEMPT, "k8s"]) == 2
    assert "\033[" not in capsys.readouterr().err


# --- errors placed, as data --------------------------------------------------------------------


def test_github_names_no_file_for_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((APP + BROKEN).encode())))
    code, out, _ = run(capsys, "check", *EXEMPT, "--format", "github", "-")
    assert code == 2
    assert "file=" not in out
    assert out.startswith("::error::<stdin>:")


def test_an_error_about_an_image_is_placed_wherever_it_is_used(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("k8s/other.yaml").write_text(APP.replace("name: web", "name: api"))
    args = ["pin", "--offline", "--digests", "digests.txt", "--dry-run", "--format"]
    files = ["k8s/app.yaml", "k8s/other.yaml"]
    code, out, _ = run(capsys, *args, "github", *files)
    assert code == 2
    # One annotation for each place the pause image (no known digest) is used.
    placed = [line.split("::")[1] for line in out.splitlines() if "pause" in line]
    assert placed == [f"error file={name},line=10,col=16" for name in files]
    code, out, _ = run(capsys, *args, "json", *files)
    errors = json.loads(out)["errors"]
    assert [(e["path"], e["line"], e["column"], e["image"]) for e in errors] == [
        (name, 10, 16, "registry.k8s.io/pause:3.9") for name in files
    ]
    assert errors[0]["message"] == errors[1]["message"]
    assert errors[0]["message"].startswith("no known digest for registry.k8s.io/pause:3.9")

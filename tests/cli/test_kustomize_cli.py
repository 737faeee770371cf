"""kustomize entries through the command line: reports, errors, notices and the lock file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
OVERLAY = (
    "resources: [../base]\nimages:\n"
    "  - name: my-app\n    newName: ghcr.io/acme/app\n    newTag: '2.0'\n"
)
BASE = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
    "    - name: app\n      image: my-app\n    - name: proxy\n      image: nginx:1.27\n"
)


@pytest.fixture(autouse=True)
def _tree(isolated: Path) -> None:
    for name, text in {
        "base/kustomization.yaml": "resources: [pod.yaml]\n",
        "base/pod.yaml": BASE,
        "prod/kustomization.yaml": OVERLAY,
        "digests.txt": f"ghcr.io/acme/app:2.0@{A}\nnginx:1.27@{B}\n",
    }.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")


def test_check_reports_the_entry_in_json_and_github(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", "-q", "--format", "json", ".")
    assert code == 1
    assert json.loads(out)["violations"] == [
        {
            "path": "base/pod.yaml",
            "line": 9,
            "column": 14,
            "kind": "Pod",
            "name": "web",
            "field": "containers",
            "container": "proxy",
            "image": "nginx:1.27",
        },
        {
            "path": "prod/kustomization.yaml",
            "line": 3,
            "column": 5,
            "kind": "Kustomization",
            "name": "",
            "field": "images",
            "container": "my-app",
            "image": "ghcr.io/acme/app:2.0",
        },
    ]
    code, out, _ = run_cli(capsys, "check", "-q", "--format", "github", "prod")
    # Naming the overlay reads the base it includes too (after the files named).
    assert (code, out.splitlines()) == (
        1,
        [
            "::error file=prod/kustomization.yaml,line=3,col=5::ghcr.io/acme/app:2.0 is not "
            "pinned by digest (Kustomization, images entry my-app)",
            "::error file=base/pod.yaml,line=9,col=14::nginx:1.27 is not pinned by digest (Pod "
            "web, container proxy)",
        ],
    )


def test_exempt_matches_the_rendered_image(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", "-q", "--exempt", "ghcr.io/acme/*", "prod")
    assert (code, out) == (
        1,
        "base/pod.yaml:9:14: nginx:1.27 is not pinned by digest (Pod web, container proxy)\n",
    )


def test_pin_offline_and_the_lock_covers_the_entry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "pin", "--offline", "--digests", "digests.txt", "--write-digests", "pins.lock", "."
    )
    assert code == 1, err
    assert out == (
        f"base/pod.yaml:9:14: nginx:1.27 -> nginx@{B}\n"
        f"prod/kustomization.yaml:3:5: ghcr.io/acme/app:2.0 -> ghcr.io/acme/app:2.0@{A}\n"
    )
    assert Path("prod/kustomization.yaml").read_text() == OVERLAY + f"    digest: '{A}'\n"
    assert Path("pins.lock").read_text() == (f"ghcr.io/acme/app:2.0@{A}\nnginx:1.27@{B}\n")
    assert run_cli(capsys, "check", "-q", ".")[0] == 0


def test_an_entry_that_cannot_take_a_key_is_an_error_and_the_file_stays(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "images:\n- name: my-app\n  newName: ghcr.io/acme/app\n  newTag: >-\n    2.0\n"
    Path("prod/kustomization.yaml").write_text(text, encoding="utf-8")
    code, _, err = run_cli(capsys, "pin", "--offline", "--digests", "digests.txt", "prod")
    assert code == 2
    assert (
        "error: prod/kustomization.yaml:2:3: cannot rewrite 'ghcr.io/acme/app:2.0' exactly: a "
        "digest key cannot be added to the entry exactly: its last value spans several lines."
    ) in err
    assert Path("prod/kustomization.yaml").read_text() == text


def test_a_rename_without_a_tag_is_an_error_not_a_lookup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("prod/kustomization.yaml").write_text(
        "resources: [../base]\nimages:\n- {name: my-app, newName: ghcr.io/acme/app}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(capsys, "pin", "--offline", "--digests", "digests.txt", "prod")
    assert code == 2
    assert (
        "error: base/pod.yaml:7:14: my-app is renamed to ghcr.io/acme/app by the images entry "
        "at prod/kustomization.yaml:3, which sets no newTag"
    ) in err
    assert "no known digest" not in err  # my-app itself was never wanted
    assert Path("base/pod.yaml").read_text() == BASE


def test_a_remote_resource_is_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    Path("prod/kustomization.yaml").write_text(
        "resources: [https://example.com/app.yaml]\n", encoding="utf-8"
    )
    code, _, err = run_cli(capsys, "check", "prod")
    assert code == 0
    assert err.splitlines()[0] == (
        "notice: prod/kustomization.yaml: not followed: line 1: resources "
        "'https://example.com/app.yaml' is remote (pinner reads only local paths). Pin what "
        "remote resources render with `kubectl kustomize DIR | pinner pin -`."
    )


def test_pinner_yaml_settings_reach_the_entries(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text("exempt: ['ghcr.io/acme/*']\nkeep_tag: true\n")
    code, out, err = run_cli(capsys, "pin", "--offline", "--digests", "digests.txt", ".")
    assert code == 1, err
    # The entry is exempt as its rendered image; keep_tag applies to the line pinned in place.
    assert out == f"base/pod.yaml:9:14: nginx:1.27 -> nginx:1.27@{B}\n"
    assert Path("prod/kustomization.yaml").read_text() == OVERLAY
    assert run_cli(capsys, "check", "-q", ".")[0] == 0

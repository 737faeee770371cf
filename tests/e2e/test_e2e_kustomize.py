"""Issue 14 end to end: a kustomize tree pinned against the real registry, rendered by the real
kustomize (`kubectl kustomize`, kustomize v5), and checked both ways.

The tree: a base whose Deployment uses a placeholder (`my-app`, renamed by every overlay) and a
sidecar at its own tag; a component that moves the sidecar to another tag; two overlays, one
with the component. The images are pushed by the test through the distribution API, so the
digests the rendered overlays must carry are the sha256 of bytes the test uploaded.

With CI=true these tests fail instead of skipping when `kubectl` or `docker-registry` is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pinner.cli import main
from tests.e2e.test_e2e_registry import outcome
from tests.support.files import write_tree
from tests.support.paths import REPO
from tests.support.registry_server import Pusher, RegistryServer, require_binary

pytestmark = pytest.mark.realregistry

OVERLAYS = ("overlays/prod", "overlays/dev")
KUBECTL_TIMEOUT = 60


def tree(host: str, repo: str) -> dict[str, str]:
    return {
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "base/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
            "  selector:\n    matchLabels: {app: web}\n  template:\n"
            "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
            "        - name: app\n          image: my-app # set by each overlay\n"
            f"        - name: sidecar\n          image: {host}/{repo}/sidecar:1.0\n"
        ),
        "components/sidecar-next/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
            f'  - name: {host}/{repo}/sidecar\n    newTag: "1.1"\n'
        ),
        "overlays/prod/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources:\n  - ../../base\ncomponents:\n  - ../../components/sidecar-next\n"
            "images:\n  - name: my-app # the placeholder\n"
            f'    newName: {host}/{repo}/app\n    newTag: "2.0"\n'
        ),
        "overlays/dev/kustomization.yaml": (
            "resources: [../../base]\r\n"
            f"images:\r\n- {{name: my-app, newName: {host}/{repo}/app, newTag: dev}}"
        ),
    }


def kustomize(overlay: str, cwd: Path) -> str:
    kubectl = require_binary("kubectl")
    result = subprocess.run(
        [kubectl, "kustomize", overlay],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=KUBECTL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered_images(stream: str) -> list[str]:
    images = []
    for document in YAML(typ="safe", pure=True).load_all(stream):
        for container in document["spec"]["template"]["spec"]["containers"]:
            images.append(container["image"])
    return images


def pinner(*args: str, stdin: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m pinner ARGS`, as a pipeline runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pinner", *args],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def pushed(
    registry_anonymous: RegistryServer, pusher_anonymous: Pusher, unique_repo: str
) -> dict[str, str]:
    """image:tag -> the digest the registry holds, for every tag the overlays render."""
    host = registry_anonymous.host
    digests = {}
    for name, tag in (("app", "2.0"), ("app", "dev"), ("sidecar", "1.0"), ("sidecar", "1.1")):
        digest = pusher_anonymous.push_image(f"{unique_repo}/{name}", tag)
        digests[f"{host}/{unique_repo}/{name}:{tag}"] = digest
    return digests


def test_pin_then_kustomize_renders_the_pushed_digests(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    registry_anonymous: RegistryServer,
    unique_repo: str,
    pushed: dict[str, str],
) -> None:
    require_binary("kubectl")
    host = registry_anonymous.host
    work = tmp_path / "work"
    original = tmp_path / "original"
    for root in (work, original):
        write_tree(root, tree(host, unique_repo))
    monkeypatch.chdir(work)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)

    # Before: the tree and every rendered overlay are unpinned, and pinner says so both ways.
    assert main(["check", "-q", "."]) == 1
    assert [line.split(": ", 1)[0] for line in capsys.readouterr().out.splitlines()] == [
        "base/deployment.yaml:16:18",  # dev renders the sidecar as written
        "components/sidecar-next/kustomization.yaml:4:5",
        "overlays/dev/kustomization.yaml:3:3",
        "overlays/prod/kustomization.yaml:8:5",
    ]
    for overlay in OVERLAYS:
        assert pinner("check", "-q", "-", stdin=kustomize(overlay, work), cwd=work).returncode == 1

    # pin: the entries get digest keys, the sidecar is pinned in place, my-app is not looked up.
    code = main(["pin", "--write-digests", str(tmp_path / "pins.lock"), "."])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "my-app" not in captured.err + captured.out
    app, sidecar = f"{host}/{unique_repo}/app", f"{host}/{unique_repo}/sidecar"
    assert (
        (work / "base/deployment.yaml")
        .read_text()
        .endswith(
            f"image: my-app # set by each overlay\n"
            f"        - name: sidecar\n          image: {sidecar}@{pushed[f'{sidecar}:1.0']}\n"
        )
    )
    assert (
        (work / "overlays/dev/kustomization.yaml")
        .read_bytes()
        .endswith(f"newTag: dev, digest: {pushed[f'{app}:dev']}}}".encode())
    )

    # kustomize renders each overlay with the pushed digests, and the stream passes check.
    expected = {
        "overlays/prod": [
            f"{app}:2.0@{pushed[f'{app}:2.0']}",
            f"{sidecar}:1.1@{pushed[f'{sidecar}:1.1']}",
        ],
        "overlays/dev": [
            f"{app}:dev@{pushed[f'{app}:dev']}",
            f"{sidecar}@{pushed[f'{sidecar}:1.0']}",
        ],
    }
    for overlay in OVERLAYS:
        stream = kustomize(overlay, work)
        assert rendered_images(stream) == expected[overlay]
        result = pinner("check", "-", stdin=stream, cwd=work)
        assert result.returncode == 0, result.stdout + result.stderr
    assert main(["check", "-q", "."]) == 0
    assert main(["verify", "-q", "."]) == 0, capsys.readouterr()
    assert main(["pin", "-q", "."]) == 0  # nothing left to do

    # The lock written from the repository covers what the overlays render: the unpinned
    # overlays, rendered and piped through pin offline, come out as the pinned tree renders.
    for overlay in OVERLAYS:
        stream = kustomize(overlay, original)
        result = pinner(
            "pin",
            "--offline",
            "--keep-tag",
            "--digests",
            str(tmp_path / "pins.lock"),
            "-",
            stdin=stream,
            cwd=original,
        )
        assert result.returncode == 0, result.stderr
        images = rendered_images(result.stdout)
        assert images[0] == expected[overlay][0]
        assert all("@sha256:" in image for image in images), images


def test_verify_sees_an_entry_drift_and_update_moves_its_digest(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    registry_anonymous: RegistryServer,
    pusher_anonymous: Pusher,
    unique_repo: str,
    pushed: dict[str, str],
) -> None:
    require_binary("kubectl")
    host = registry_anonymous.host
    write_tree(tmp_path, tree(host, unique_repo))
    monkeypatch.chdir(tmp_path)
    assert main(["pin", "-q", "."]) == 1
    app = f"{host}/{unique_repo}/app"
    old = pushed[f"{app}:2.0"]
    moved = pusher_anonymous.push_image(f"{unique_repo}/app", "2.0")  # the tag moves
    assert moved != old
    capsys.readouterr()

    assert main(["verify", "-q", "."]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"overlays/prod/kustomization.yaml:8:5: {app}:2.0@{old} has drifted: the tag 2.0 now "
        f"points to {moved}. Run `pinner pin --update` to move the pin."
    ]
    assert main(["pin", "-q", "--update", "."]) == 1
    assert (
        f'newTag: "2.0"\n    digest: "{moved}"\n'
        in Path("overlays/prod/kustomization.yaml").read_text()
    )
    assert rendered_images(kustomize("overlays/prod", tmp_path))[0] == f"{app}:2.0@{moved}"
    assert main(["verify", "-q", "."]) == 0


def test_ci_fails_instead_of_skipping_without_kubectl(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_bin: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    status, message = outcome(lambda: kustomize("overlays/prod", tmp_path))
    assert status == "fail"
    assert message.startswith("'kubectl' is not installed")
    monkeypatch.setenv("CI", "false")
    assert outcome(lambda: kustomize("overlays/prod", tmp_path))[0] == "skip"
    assert shutil.which("kubectl") is None

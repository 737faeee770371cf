"""No network: every registry host's name fails to resolve; the run must fail fast and say so
once per host (issue 16: a run with no network took 37 s and printed 102 errors, 62 of them the
same "cannot reach registry-1.docker.io").

Name resolution is answered in-process (``socket.getaddrinfo`` refuses every name), so no query
leaves the machine; the rest of pinner runs as it does for a user.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pinner.registry.client
from pinner.cli import main

pytestmark = pytest.mark.usefixtures("isolated")

# Host → the images on it, as written in manifests (docker.io's API host is registry-1).
IMAGES = {
    "registry-1.docker.io": ["nginx:1.27", "redis:7", "library/postgres:16", "bitnami/kafka:3"],
    "ghcr.io": ["ghcr.io/org/api:1.0", "ghcr.io/org/worker:2.1"],
    "quay.io": ["quay.io/prometheus/node-exporter:v1.8.0"],
    "registry.example.com:5000": ["registry.example.com:5000/team/app:v3"],
    "europe-docker.pkg.dev": ["europe-docker.pkg.dev/project/repo/svc:9"],
}
FILES = 30  # each file uses every image once


@pytest.fixture
def no_network(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name fails to resolve, as with no network; returns the names asked for. No proxy
    (``docker_config``): one would be asked for every host instead."""
    asked: list[str] = []
    lock = threading.Lock()

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            asked.append(host.decode() if isinstance(host, bytes) else str(host))
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays the registry client asked for, recorded (and slept, as in a run)."""
    recorded: list[float] = []
    real = pinner.registry.client.RegistryClient

    def sleep(seconds: float) -> None:
        recorded.append(seconds)
        time.sleep(seconds)

    class Recording(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["sleep"] = sleep
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pinner.registry.client, "RegistryClient", Recording)
    return recorded


def write_tree(root: Path) -> None:
    images = [image for on_host in IMAGES.values() for image in on_host]
    containers = "".join(f"  - name: c{i}\n    image: {image}\n" for i, image in enumerate(images))
    for index in range(FILES):
        folder = root / f"app{index % 5}"
        folder.mkdir(exist_ok=True)
        (folder / f"pod{index}.yaml").write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{index}\nspec:\n  containers:\n"
            + containers,
            encoding="utf-8",
        )


def test_pin_with_no_network_fails_in_under_two_seconds_with_one_error_per_host(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_network: list[str],
    sleeps: list[float],
) -> None:
    write_tree(tmp_path)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*.yaml")}

    started, cpu_started = time.monotonic(), time.process_time()
    code = main(["pin", "--no-config", "."])
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    err = capsys.readouterr().err

    assert code == 2
    # pinner's own time (all its threads): what a busy machine cannot inflate. Nothing waited
    # either: no retry backed off (three retries of one name alone sleep 3.5 s).
    assert cpu < 2.0, f"used {cpu:.2f}s of CPU"
    assert sleeps == []
    assert elapsed < 20.0, f"took {elapsed:.2f}s"
    # Each host's name was asked for once, however many images and lookups it had.
    assert sorted(no_network) == sorted(host.split(":")[0] for host in IMAGES)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(IMAGES), err
    for host, images in IMAGES.items():
        (error,) = [line for line in errors if f"on {host}:" in line or f"look up {host}" in line]
        count = len(images)
        assert error.startswith(f"error: Could not look up {count} images on {host}: ") or (
            count == 1 and error.startswith("error: Could not look up ")
        ), error
        assert f"cannot reach {host}: [Errno -3] Temporary failure in name resolution" in error
    # Every image is named, with every file:line that uses it.
    for index in range(FILES):
        assert err.count(f"pod{index}.yaml:") == sum(len(v) for v in IMAGES.values())
    (nginx,) = [line for line in err.splitlines() if "docker.io/library/nginx:1.27" in line]
    assert nginx.startswith("  docker.io/library/nginx:1.27 used at app0/pod0.yaml:8:12, ")
    assert nginx.count(".yaml:8:12") == FILES
    assert "Traceback" not in err
    assert {path: path.read_bytes() for path in tmp_path.rglob("*.yaml")} == before


def test_a_single_image_on_a_dead_host_keeps_the_one_image_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_network: list[str],
) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - {name: a, image: quay.io/org/app:1}\n",
        encoding="utf-8",
    )
    assert main(["pin", "--no-config", "pod.yaml"]) == 2
    err = capsys.readouterr().err
    assert (
        "error: Could not look up quay.io/org/app:1: cannot reach quay.io: [Errno -3] Temporary "
        "failure in name resolution. Check the network connection, the proxy settings and the "
        "registry host name.\n  used at pod.yaml:6:"
    ) in err
    assert no_network == ["quay.io"]


def test_verify_with_no_network_says_it_once_per_host(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_network: list[str],
    sleeps: list[float],
) -> None:
    digest = "sha256:" + "a" * 64
    images = [f"{image}@{digest}" for on_host in IMAGES.values() for image in on_host]
    containers = "".join(f"  - name: c{i}\n    image: {image}\n" for i, image in enumerate(images))
    for index in range(3):
        (tmp_path / f"pod{index}.yaml").write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{index}\nspec:\n  containers:\n"
            + containers,
            encoding="utf-8",
        )
    assert main(["verify", "--no-config", "."]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(IMAGES), err
    assert "error: Could not look up 4 images on registry-1.docker.io: cannot reach " in err
    assert sorted(no_network) == sorted(host.split(":")[0] for host in IMAGES)
    assert sleeps == []

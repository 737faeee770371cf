"""pinner.registry.connect: the network backend pinner puts under httpx, and when it does not.

If a new httpx stopped using the pool that ``guarded_transport`` puts in place, the host rule
and the deadlines would silently stop applying: the first test fails then. Behind an HTTP proxy,
httpx's own transport is kept, so the proxy settings still work."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import httpx
import pytest

from pinner.cli import main
from pinner.registry import deadline
from pinner.registry.connect import guarded_transport
from pinner.registry.hosts import PUBLIC, BlockedDestinationError
from tests.support.faultproxy import Drip, FaultServer, Reply, Request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def test_the_guarded_pool_is_the_one_httpx_uses() -> None:
    with FaultServer(lambda request: Reply(200)) as server:
        transport = guarded_transport(httpx.Limits(max_connections=2), frozenset({PUBLIC}))
        with (
            httpx.Client(transport=transport) as client,
            pytest.raises(BlockedDestinationError, match="a loopback address"),
        ):
            client.get(f"http://{server.host}/")
        assert server.requests == []


def test_the_deadline_bounds_a_drip_below_httpx() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    with FaultServer(lambda request: Drip(answer, 0.1)) as server:
        transport = guarded_transport(httpx.Limits(max_connections=2), None)
        started = time.monotonic()
        with (
            httpx.Client(transport=transport, timeout=30) as client,
            deadline.within(0.5, "a test"),
            pytest.raises(httpx.ReadTimeout),
        ):
            client.get(f"http://{server.host}/")
    assert time.monotonic() - started < 3


def test_an_http_proxy_from_the_environment_is_still_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def proxy(request: Request) -> Reply:
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST}
        return Reply(200, headers, MANIFEST)

    (tmp_path / "docker").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for name in ("HTTPS_PROXY", "ALL_PROXY", "https_proxy", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FaultServer(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://{server.host}")
        code = main(
            [
                "digest",
                "--no-config",
                "--insecure-registry",
                "registry.example:5000",
                "registry.example:5000/team/app:v1",
            ]
        )
        seen = [request.path for request in server.requests]
    assert (code, capsys.readouterr().out) == (0, f"{DIGEST}\n")
    assert seen == ["http://registry.example:5000/v2/team/app/manifests/v1"]

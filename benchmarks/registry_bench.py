"""The registry side of the benchmarks: seeded images, a delaying proxy, skopeo as a baseline.

The registry is the real one the tests use (Debian's ``docker-registry`` on 127.0.0.1, started
by ``tests/support/registry_server.py``). Images are pushed through the distribution API: each
repository gets one layer and one config blob, and each tag its own manifest (an annotation
makes every digest different), so seeding 1,600 tags takes one PUT per tag.
"""

from __future__ import annotations

import gzip
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.support.registry_server import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    Pusher,
    RegistryServer,
    sha256_digest,
)

TAGS_PER_REPOSITORY = 20
PROXY = Path(__file__).resolve().parent / "proxy.py"


def seed_images(server: RegistryServer, count: int) -> dict[str, str]:
    """Push ``count`` tags; returns {"host/repo:tag": digest}, in push order."""
    pushed: dict[str, str] = {}
    with Pusher(server, timeout=30.0) as pusher:
        for index in range(count):
            repository = f"bench/app{index // TAGS_PER_REPOSITORY:03d}"
            if index % TAGS_PER_REPOSITORY == 0:
                layer = gzip.compress(f"layer of {repository}\n".encode(), mtime=0)
                config = json.dumps(
                    {
                        "architecture": "amd64",
                        "os": "linux",
                        "config": {},
                        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer)]},
                    }
                ).encode()
                pusher.push_blob(repository, layer)
                pusher.push_blob(repository, config)
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": _descriptor(OCI_CONFIG, config),
                    "layers": [_descriptor(OCI_LAYER, layer)],
                    "annotations": {"org.example.build": str(index)},
                }
            ).encode()
            tag = f"1.{index}"
            digest = pusher.push_manifest(repository, tag, manifest, OCI_MANIFEST)
            pushed[f"{server.host}/{repository}:{tag}"] = digest
    return pushed


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}


def count_manifest_requests(server: RegistryServer, since: int) -> tuple[int, int]:
    """(HEAD, GET) requests for manifests since the log mark ``since``."""
    return (
        server.count_requests("HEAD", "/manifests/", since=since),
        server.count_requests("GET", "/manifests/", since=since),
    )


@contextmanager
def delaying_proxy(server: RegistryServer, delay_ms: float) -> Iterator[str]:
    """A proxy in front of ``server`` that delays each request; yields its host:port."""
    process = subprocess.Popen(
        [sys.executable, str(PROXY), str(server.port), str(delay_ms)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def skopeo_seconds_per_image(references: Sequence[str], expected: dict[str, str]) -> float:
    """Median wall time of one ``skopeo inspect`` process per reference, digests checked."""
    times = []
    for reference in references:
        started = time.perf_counter()
        result = subprocess.run(
            [
                "skopeo",
                "inspect",
                "--tls-verify=false",
                "--no-creds",
                "--format",
                "{{.Digest}}",
                f"docker://{reference}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        times.append(time.perf_counter() - started)
        if result.stdout.strip() != expected[reference]:
            raise AssertionError(f"skopeo says {result.stdout.strip()} for {reference}")
    return statistics.median(times)


def sample(items: Sequence[str], size: int) -> list[str]:
    """``size`` items spread evenly over ``items``."""
    if size >= len(items):
        return list(items)
    step = len(items) / size
    return [items[int(index * step)] for index in range(size)]

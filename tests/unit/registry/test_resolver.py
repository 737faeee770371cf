from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from pinner.errors import ConfigError
from pinner.reference import Reference, parse_reference
from pinner.registry.client import RegistryClient
from pinner.registry.errors import ImageAuthError, ImageLookupError, ImageNotFoundError
from pinner.registry.resolver import resolve_all, unique_references
from pinner.settings import Settings

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DIGEST = "sha256:" + "1" * 64
PINNED = "sha256:" + "2" * 64


class FakeSource:
    """Answers from a table, records calls, and measures how many run at once."""

    def __init__(self, settings: Settings | None = None, delay: float = 0.0) -> None:
        self.settings = settings or Settings()
        self.delay = delay
        self.calls: list[tuple[str, str | None]] = []
        self.failing: dict[str, Exception] = {}
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self.peak_total = 0
        self.peak_per_registry: Counter[str] = Counter()

    def resolve(self, ref: Reference, platform: str | None = None) -> str:
        with self._lock:
            self.calls.append((str(ref), platform))
            self._running[ref.registry] += 1
            self.peak_total = max(self.peak_total, sum(self._running.values()))
            self.peak_per_registry[ref.registry] = max(
                self.peak_per_registry[ref.registry], self._running[ref.registry]
            )
        try:
            time.sleep(self.delay)
            failure = self.failing.get(str(ref))
            if failure is not None:
                raise failure
            return DIGEST
        finally:
            with self._lock:
                self._running[ref.registry] -= 1


def refs(*texts: str) -> list[Reference]:
    return [parse_reference(text) for text in texts]


def test_dedup_by_registry_repository_tag() -> None:
    source = FakeSource()
    result = resolve_all(
        refs(
            "nginx",
            "docker.io/nginx",
            "docker.io/library/nginx:latest",
            "index.docker.io/library/nginx",
            "nginx:1.25",
            "nginx:1.25",
            "ghcr.io/o/app:1",
            f"ghcr.io/o/app:1@{PINNED}",
            f"ghcr.io/o/other@{PINNED}",
        ),
        source,
    )
    assert sorted(call for call, _ in source.calls) == ["ghcr.io/o/app:1", "nginx", "nginx:1.25"]
    assert result.digests == {
        ("docker.io", "library/nginx", "latest"): DIGEST,
        ("docker.io", "library/nginx", "1.25"): DIGEST,
        ("ghcr.io", "o/app", "1"): DIGEST,
    }
    assert result.failures == {}


def test_unique_references_keeps_the_first_spelling_in_order() -> None:
    unique = unique_references(refs("docker.io/library/nginx", "nginx", "alpine", f"a@{PINNED}"))
    assert [str(ref) for ref in unique.values()] == ["docker.io/library/nginx", "alpine"]


def test_all_failures_are_collected() -> None:
    source = FakeSource()
    not_found = ImageNotFoundError("no such tag", image="ghcr.io/o/a:1", status=404)
    denied = ImageAuthError("refused", image="ghcr.io/o/b:1", status=401, code="UNAUTHORIZED")
    source.failing = {"ghcr.io/o/a:1": not_found, "ghcr.io/o/b:1": denied}
    result = resolve_all(refs("ghcr.io/o/a:1", "quay.io/x/y:2", "ghcr.io/o/b:1"), source)
    assert list(result.failures) == [("ghcr.io", "o/a", "1"), ("ghcr.io", "o/b", "1")]
    assert result.failures[("ghcr.io", "o/a", "1")] is not_found
    assert result.failures[("ghcr.io", "o/b", "1")] is denied
    assert result.digests == {("quay.io", "x/y", "2"): DIGEST}


def test_bugs_are_not_collected() -> None:
    source = FakeSource()
    source.failing = {"ghcr.io/o/a:1": ValueError("a bug")}
    with pytest.raises(ValueError, match="a bug"):
        resolve_all(refs("ghcr.io/o/a:1", "ghcr.io/o/b:1"), source)


def test_concurrency_is_bounded_overall_and_per_registry() -> None:
    source = FakeSource(Settings(concurrency=4, per_registry=2), delay=0.02)
    texts = [f"{registry}/o/app:{tag}" for registry in ("a.io", "b.io", "c.io") for tag in range(6)]
    result = resolve_all(refs(*texts), source)
    assert len(result.digests) == 18
    assert 2 <= source.peak_total <= 4
    assert max(source.peak_per_registry.values()) <= 2


def test_platform_is_passed_and_checked_first() -> None:
    source = FakeSource(Settings(platform="linux/arm64"))
    resolve_all(refs("ghcr.io/o/a:1"), source)
    resolve_all(refs("ghcr.io/o/a:1"), source, platform="linux/amd64")
    assert [platform for _, platform in source.calls] == ["linux/arm64", "linux/amd64"]
    with pytest.raises(ConfigError):
        resolve_all(refs("ghcr.io/o/b:1"), source, platform="linux")
    assert len(source.calls) == 2


def test_nothing_to_resolve() -> None:
    source = FakeSource()
    assert resolve_all(refs(f"nginx@{PINNED}"), source) == ({}, {})
    assert source.calls == []


def test_against_a_registry_one_head_per_distinct_tag(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    host = f"{httpserver.host}:{httpserver.port}"
    for path in ("/v2/app/manifests/v1", "/v2/app/manifests/v2", "/v2/tool/manifests/latest"):
        httpserver.expect_request(path, method="HEAD").respond_with_data(
            "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
        )
    httpserver.expect_request("/v2/missing/manifests/v1").respond_with_data("", status=404)
    httpserver.expect_request("/v2/private/manifests/v1").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'}
    )
    texts = [f"{host}/app:v1"] * 5 + [f"{host}/app:v2"] * 3 + [f"{host}/tool"] * 2
    texts += [f"{host}/tool:latest", f"{host}/missing:v1", f"{host}/private:v1"]
    with RegistryClient(Settings(retries=0)) as client:
        result = resolve_all(refs(*texts), client)
    heads = Counter(request.path for request, _ in httpserver.log)
    assert all(count == 1 for count in heads.values()), heads
    assert len(heads) == 5
    assert len(result.digests) == 3
    missing = result.failures[(host, "missing", "v1")]
    private = result.failures[(host, "private", "v1")]
    assert isinstance(missing, ImageNotFoundError)
    assert isinstance(private, ImageAuthError)
    for error, status in ((missing, 404), (private, 401)):
        assert isinstance(error, ImageLookupError)
        assert error.status == status
        assert error.image.startswith(f"{host}/")
        assert error.hint


def test_progress_counts_distinct_lookups_in_the_calling_thread() -> None:
    source = FakeSource()
    source.failing = {"ghcr.io/o/b:1": ImageNotFoundError("gone", status=404)}
    calls: list[tuple[int, int, str]] = []
    resolve_all(
        refs("ghcr.io/o/a:1", "ghcr.io/o/a:1", "ghcr.io/o/b:1", "quay.io/x:1"),
        source,
        progress=lambda done, total: calls.append((done, total, threading.current_thread().name)),
    )
    main = threading.current_thread().name
    assert calls == [(0, 3, main), (1, 3, main), (2, 3, main), (3, 3, main)]
    calls.clear()
    resolve_all([], source, progress=lambda done, total: calls.append((done, total, "")))
    assert calls == [(0, 0, "")]

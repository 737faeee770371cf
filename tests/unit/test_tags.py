"""``pinner tags IMAGE@DIGEST`` against the real Debian ``docker-registry``.

distribution 2.8 ignores ``n`` and ``last`` and always sends the whole tag list, so the paging
tests put a small proxy in front of it. The proxy forwards every request to the real registry
and answers ``tags/list`` from the registry's own list, cut into pages with a ``Link`` header
the way distribution 3, Harbor and ECR do (or, in ``google`` mode, in one page with gcr.io's
``manifest`` map). The digests each tag points to are still the real registry's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.registry_server import MANIFEST_ACCEPT, Pusher, RegistryServer

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("isolated", "docker_config")]

PAGE = 3  # the proxy's page size: small, so a dozen tags take several pages


class TagListProxy:
    """Forwards to ``upstream``; serves ``tags/list`` in pages of ``page`` (or Google-style)."""

    def __init__(self, upstream: RegistryServer, *, page: int = PAGE, google: bool = False):
        self.upstream = upstream
        self.page = page
        self.google = google
        self.requests: list[tuple[str, str]] = []  # (method, path?query) as received
        self._client = httpx.Client(base_url=upstream.url, trust_env=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.handle(self, "GET")

            def do_HEAD(self) -> None:
                proxy.handle(self, "HEAD")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.requests.append((method, handler.path))
        url = urlsplit(handler.path)
        if method == "GET" and url.path.endswith("/tags/list"):
            status, headers, body = self._tag_page(url.path, parse_qs(url.query))
        else:
            forwarded = {
                name: value
                for name, value in handler.headers.items()
                if name.lower() in ("accept", "authorization")
            }
            reply = self._client.request(method, handler.path, headers=forwarded)
            status, body = reply.status_code, reply.content
            headers = {
                name: reply.headers[name]
                for name in ("content-type", "docker-content-digest", "content-length")
                if name in reply.headers
            }
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(body)

    def _tag_page(
        self, path: str, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes]:
        everything = self._client.get(path).json()
        tags = sorted(everything.get("tags") or [])
        document: dict[str, Any] = {"name": everything["name"]}
        headers = {"content-type": "application/json"}
        if self.google:
            document["tags"] = tags
            document["manifest"] = self._manifest_map(path.removesuffix("/tags/list"), tags)
        else:
            last = query.get("last", [""])[0]
            wanted = min(int(query.get("n", [str(self.page)])[0]), self.page)
            rest = [tag for tag in tags if tag > last]
            document["tags"] = rest[:wanted]
            if len(rest) > wanted:
                after = document["tags"][-1]
                headers["link"] = f'<{path}?n={wanted}&last={after}>; rel="next"'
        body = json.dumps(document).encode()
        headers["content-length"] = str(len(body))
        return 200, headers, body

    def _manifest_map(self, base: str, tags: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for tag in tags:
            reply = self._client.head(
                f"{base}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT}
            )
            entry = found.setdefault(
                reply.headers["docker-content-digest"],
                {"mediaType": reply.headers["content-type"], "tag": [], "imageSizeBytes": "1"},
            )
            entry["tag"].append(tag)
        return found


@pytest.fixture
def proxy(registry_anonymous: RegistryServer) -> Iterator[TagListProxy]:
    server = TagListProxy(registry_anonymous)
    yield server
    server.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    code, out, err = run_cli(capsys, *args)
    return code, out, err.splitlines()


def push_tags(pusher: Pusher, repo: str, seed: str, tags: list[str]) -> str:
    """Push one image under every tag in ``tags``; returns its digest."""
    digests = {pusher.push_image(repo, tag, seed=seed) for tag in tags}
    assert len(digests) == 1
    return digests.pop()


# --- exactly the tags that point to the digest ------------------------------------------------


def test_lists_exactly_the_tags_pointing_to_the_digest(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    server = pusher_anonymous.server
    release = push_tags(pusher_anonymous, unique_repo, "release", ["v1.2.3", "latest", "1.2"])
    push_tags(pusher_anonymous, unique_repo, "older", ["v1.2.2", "1.1"])
    image = f"{server.host}/{unique_repo}"
    mark = server.log_mark()

    code, stdout, errors = run(capsys, "tags", f"{image}@{release}")

    assert (code, stdout, errors) == (0, "1.2\nlatest\nv1.2.3\n", [])
    manifests = f"/{unique_repo}/manifests/"
    assert server.count_requests("GET", f"/{unique_repo}/tags/list", since=mark) == 1
    assert server.count_requests("HEAD", manifests, since=mark) == 5  # one per tag
    # A tag written next to the digest is ignored: the digest is the question.
    assert run(capsys, "tags", f"{image}:1.1@{release}")[:2] == (0, "1.2\nlatest\nv1.2.3\n")


def test_over_a_paginated_tag_list(
    capsys: pytest.CaptureFixture[str],
    pusher_anonymous: Pusher,
    proxy: TagListProxy,
    unique_repo: str,
) -> None:
    wanted = ["a0", "b3", "c6", "d9", "e10"]
    others = ["a1", "a2", "b4", "b5", "c7", "c8", "f11"]
    digest = push_tags(pusher_anonymous, unique_repo, "wanted", wanted)
    push_tags(pusher_anonymous, unique_repo, "other", others)
    server = pusher_anonymous.server
    mark = server.log_mark()

    code, stdout, errors = run(capsys, "tags", f"{proxy.host}/{unique_repo}@{digest}")

    assert (code, errors) == (0, [])
    assert stdout == "".join(f"{tag}\n" for tag in sorted(wanted))
    pages = [path for method, path in proxy.requests if "/tags/list" in path]
    # 12 tags in pages of 3: the client followed every Link, from the first page to the last.
    assert len(pages) == 4
    assert pages[0].startswith(f"/v2/{unique_repo}/tags/list?n=")
    assert [parse_qs(urlsplit(p).query).get("last") for p in pages] == [
        None,
        ["a2"],
        ["b5"],
        ["c8"],
    ]
    for tag in wanted + others:  # every tag was asked about once, none twice
        assert server.count_requests("HEAD", f"/{unique_repo}/manifests/{tag}", since=mark) == 1


def test_google_manifest_map_answers_without_a_head_per_tag(
    capsys: pytest.CaptureFixture[str],
    registry_anonymous: RegistryServer,
    pusher_anonymous: Pusher,
    unique_repo: str,
) -> None:
    digest = push_tags(pusher_anonymous, unique_repo, "wanted", ["prod", "v2"])
    push_tags(pusher_anonymous, unique_repo, "other", ["v1"])
    proxy = TagListProxy(registry_anonymous, google=True)
    try:
        code, stdout, errors = run(capsys, "tags", f"{proxy.host}/{unique_repo}@{digest}")
    finally:
        proxy.close()

    assert (code, stdout, errors) == (0, "prod\nv2\n", [])
    assert [method for method, _ in proxy.requests] == ["GET"]  # the list, and nothing else


# --- nothing found, and errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pushed", "message"),
    [
        pytest.param(
            True,
            "error: no tag of {repository} points to {digest} (1 tag checked). It may be one "
            "platform's manifest of a multi-arch index, or the tags that named it have moved on.",
            id="an-untagged-digest",
        ),
        pytest.param(
            False,
            "error: {repository} has no manifest {digest}: it was deleted or never pushed there. "
            "Check the digest and the repository.",
            id="a-digest-the-registry-does-not-have",
        ),
    ],
)
def test_a_digest_no_tag_points_to_exits_1(
    capsys: pytest.CaptureFixture[str],
    pusher_anonymous: Pusher,
    unique_repo: str,
    pushed: bool,
    message: str,
) -> None:
    """``pushed``: the digest is of an image pushed without a tag; else the registry has none."""
    push_tags(pusher_anonymous, unique_repo, "tagged", ["v1"])
    digest = pusher_anonymous.push_image(unique_repo, None) if pushed else "sha256:" + "0" * 64
    repository = f"{pusher_anonymous.server.host}/{unique_repo}"

    code, stdout, errors = run(capsys, "tags", f"{repository}@{digest}")

    assert (code, stdout) == (1, "")
    assert errors == [message.format(repository=repository, digest=digest)]


def test_refused_credentials_exit_2(
    capsys: pytest.CaptureFixture[str], pusher_htpasswd: Pusher, unique_repo: str
) -> None:
    digest = push_tags(pusher_htpasswd, unique_repo, "x", ["v1"])
    repository = f"{pusher_htpasswd.server.host}/{unique_repo}"

    code, stdout, errors = run(capsys, "tags", f"{repository}@{digest}")

    assert (code, stdout) == (2, "")
    assert len(errors) == 1
    assert errors[0].startswith(f"error: Could not look up {repository}: ")
    assert "HTTP 401" in errors[0]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (
            "ghcr.io/o/app:1.0",
            "error: ghcr.io/o/app:1.0 has no digest; pinner tags names a digest, e.g. "
            "`pinner tags ghcr.io/o/app@sha256:<digest>`. For a tag's digest, run "
            "`pinner digest ghcr.io/o/app:1.0`.",
        ),
        (
            "ghcr.io/O/app@sha256:" + "a" * 64,
            "error: 'ghcr.io/O/app@sha256:" + "a" * 64 + "' is not an image reference: "
            "repository names must be lowercase. Write IMAGE@sha256:<digest>.",
        ),
    ],
)
def test_usage_errors_exit_2_without_asking(
    capsys: pytest.CaptureFixture[str], argument: str, message: str
) -> None:
    assert run(capsys, "tags", argument) == (2, "", [message])

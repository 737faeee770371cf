"""Registry faults, each through the command line: exit 2, a message naming the image and the
cause, and the manifest byte for byte as it was.

The misbehaving registry is tests/faultproxy.py (it can hang, cut a body short, stream without
end, or stop listening), the real docker-registry stopped mid-run, or nothing at all (a closed
port, a name that cannot resolve). Retries really happen, but their sleeps are recorded instead
of slept (``sleeps``), and ``--timeout`` keeps the hanging server short.

The library-level protocol tests (retries, caps, challenges) are in test_registry_client.py;
these prove what a user sees.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pinner.registry.client
from pinner.cli import main
from pinner.registry.transport import Transport
from tests.support.faultproxy import (
    Action,
    Chunked,
    Close,
    FaultServer,
    Hang,
    Reply,
    Request,
    Truncated,
    free_port,
)

pytestmark = pytest.mark.usefixtures("isolated", "docker_config")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
NESTED_JSON = b"[" * 50_000  # under the 64 KiB token cap, far over the recursion limit
LONG_NUMBER_JSON = b'{"schemaVersion": ' + b"2" * 5000 + b"}"
TIMEOUT = "0.3"
RETRIES = 3  # Settings.retries: what the command line uses
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web  # the front end
spec:
  template:
    spec:
      containers:
      - name: app
        image: {image}
      - name: sidecar
        image: "{sidecar}"
"""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays the client asked for, recorded instead of slept."""
    recorded: list[float] = []
    real = pinner.registry.client.RegistryClient

    class Recording(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["sleep"] = recorded.append
            super().__init__(*args, **kwargs)

    # pinner.cli.resolve imports the client when it runs, so the patch reaches the command.
    monkeypatch.setattr(pinner.registry.client, "RegistryClient", Recording)
    return recorded


class Pinned:
    """A manifest that uses ``image`` (and a sidecar image already pinned), and its bytes."""

    def __init__(self, image: str, sidecar: str = f"busybox@{'sha256:' + 'b' * 64}") -> None:
        self.image = image
        self.path = Path("deploy.yaml")
        self.path.write_text(DEPLOYMENT.format(image=image, sidecar=sidecar), encoding="utf-8")
        self.before = self.path.read_bytes()

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        code = main(["pin", "--no-config", "--timeout", TIMEOUT, *args, str(self.path)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return code, captured.err

    def assert_failed(self, code: int, err: str, *causes: str) -> None:
        """Exit 2; the error names the image, each cause and the place; the file is as it was."""
        assert code == 2, err
        assert self.path.read_bytes() == self.before
        assert f"error: Could not look up {self.image}: " in err, err
        for cause in causes:
            assert cause in err, err
        assert "used at deploy.yaml:10:16" in err, err


def ok_head(request: Request) -> Action:
    return Reply(200, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST})


def no_digest_then(get: Action) -> Callable[[Request], Action]:
    """HEAD gives no digest, so the client must GET the manifest and hash it."""
    return lambda request: (
        Reply(200, {"Content-Type": OCI_MANIFEST}) if request.method == "HEAD" else get
    )


def bearer(token: Callable[[Request], Action], manifest: Callable[[Request], Action] | None = None):
    """A registry that wants a Bearer token from its own /token endpoint."""

    def respond(request: Request) -> Action:
        if request.path.startswith("/token"):
            return token(request)
        if manifest is not None and "authorization" in request.headers:
            return manifest(request)
        realm = f"http://{request.headers['host']}/token"
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="registry"'})

    return respond


def token_json(body: dict[str, Any]) -> Callable[[Request], Action]:
    return lambda request: Reply(
        200, {"Content-Type": "application/json"}, json.dumps(body).encode()
    )


def expired_token_refused(request: Request) -> Action:
    challenge = (
        f'Bearer realm="http://{request.headers["host"]}/token",service="registry",'
        'error="invalid_token",error_description="token expired"'
    )
    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}'
    return Reply(401, {"WWW-Authenticate": challenge, "Content-Type": "application/json"}, body)


JSON = {"Content-Type": "application/json"}
# id → (how the server answers, what the error must say, how many requests it takes)
SCENARIOS: dict[str, tuple[Callable[[Request], Action], tuple[str, ...], int]] = {
    "500": (lambda r: Reply(500), ("the registry had a server error (HTTP 500)",), 1 + RETRIES),
    "502": (lambda r: Reply(502), ("the registry had a server error (HTTP 502)",), 1 + RETRIES),
    "503": (lambda r: Reply(503), ("the registry had a server error (HTTP 503)",), 1 + RETRIES),
    "html-502-from-a-proxy": (
        lambda r: Reply(502, {"Content-Type": "text/html"}, HTML),
        ("the registry had a server error (HTTP 502). Try again later.",),
        1 + RETRIES,
    ),
    "html-page-instead-of-a-manifest": (
        lambda r: Reply(200, {"Content-Type": "text/html; charset=utf-8"}, HTML),
        ("the registry answered with text/html, not an image manifest or index",),
        1,
    ),
    "unrequested-media-type": (
        lambda r: Reply(
            200,
            {
                "Content-Type": "application/vnd.docker.plugin.v1+json",
                "Docker-Content-Digest": DIGEST,
            },
        ),
        ("answered with application/vnd.docker.plugin.v1+json, not an image manifest or index",),
        1,
    ),
    "schema1-media-type": (
        lambda r: Reply(
            200,
            {
                "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "Docker-Content-Digest": DIGEST,
            },
        ),
        ("only as a Docker schema 1 manifest, which is deprecated and not supported",),
        1,
    ),
    "digest-header-does-not-match-the-body": (
        no_digest_then(
            Reply(
                200,
                {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": "sha256:" + "0" * 64},
                MANIFEST,
            )
        ),
        ("the Docker-Content-Digest header does not match the manifest",),
        2,
    ),
    "truncated-body": (
        no_digest_then(
            Truncated(MANIFEST[:20], declared=len(MANIFEST), headers={"Content-Type": OCI_MANIFEST})
        ),
        ("broke off (peer closed connection without sending complete message body",),
        1 + 1 + RETRIES,
    ),
    "truncated-json-with-its-length": (
        no_digest_then(Reply(200, {"Content-Type": OCI_MANIFEST}, MANIFEST[:-7])),
        ("the registry sent a body that is not a JSON object",),
        2,
    ),
    "oversized-body-declared": (
        no_digest_then(Reply(200, {"Content-Type": OCI_MANIFEST}, b" " * (4 * 1024 * 1024 + 1))),
        ("sent a response larger than 4194304 bytes; refusing to read it",),
        2,
    ),
    "oversized-body-streamed": (
        no_digest_then(
            Chunked((b" " * 65536 for _ in range(1000)), headers={"Content-Type": OCI_MANIFEST})
        ),
        ("sent a response larger than 4194304 bytes; refusing to read it",),
        2,
    ),
    "deeply-nested-json-manifest": (
        no_digest_then(Reply(200, JSON, NESTED_JSON)),
        ("the registry sent a body that is not a JSON object",),
        2,
    ),
    "deeply-nested-json-error-body": (
        lambda r: Reply(500, JSON, b'{"errors":' + NESTED_JSON),
        ("the registry had a server error (HTTP 500)",),
        1 + RETRIES,
    ),
    # More digits than int() converts: json.loads raises a plain ValueError, not a decode error.
    "json-number-too-long-manifest": (
        no_digest_then(Reply(200, JSON, LONG_NUMBER_JSON)),
        ("the registry sent a body that is not a JSON object",),
        2,
    ),
    "json-number-too-long-error-body": (
        lambda r: Reply(500, JSON, b'{"errors": [{"code": "X", "n": ' + b"9" * 5000 + b"}]}"),
        ("the registry had a server error (HTTP 500)",),
        1 + RETRIES,
    ),
    "closed-without-an-answer": (
        lambda r: Close(),
        ("broke off (Server disconnected without sending a response)",),
        1 + RETRIES,
    ),
    "token-endpoint-garbage": (
        bearer(lambda r: Reply(200, {"Content-Type": "text/html"}, HTML)),
        ("the token service answered with something that is not JSON",),
        2,
    ),
    "token-endpoint-deeply-nested-json": (
        bearer(lambda r: Reply(200, JSON, NESTED_JSON)),
        ("the token service answered with something that is not JSON",),
        2,
    ),
    "token-endpoint-without-a-token": (
        bearer(token_json({"expires_in": 300})),
        ("the token service answered without a token",),
        2,
    ),
    "token-endpoint-401": (
        bearer(lambda r: Reply(401, JSON, b'{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}')),
        ("the token service 127.0.0.1:", "refused anonymous access (HTTP 401, UNAUTHORIZED)"),
        2,
    ),
    "token-refused-as-expired": (
        bearer(token_json({"token": "stale", "expires_in": 300}), expired_token_refused),
        # A HEAD answer has no body, so no registry error code.
        ("the registry 127.0.0.1:", "refused anonymous access (HTTP 401)."),
        # challenge, token, refused: a token refused as soon as it is issued is not fetched again
        3,
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_registry_fault(
    scenario: str, capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    respond, causes, requests = SCENARIOS[scenario]
    with FaultServer(respond) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    manifest.assert_failed(code, err, *causes)
    assert "<html>" not in err.lower() and "[[[[" not in err
    assert len(server.requests) == requests, [(r.method, r.path) for r in server.requests]


def test_connection_refused(capsys: pytest.CaptureFixture[str], sleeps: list[float]) -> None:
    manifest = Pinned(f"127.0.0.1:{free_port()}/test/app:v1")
    code, err = manifest.run(capsys)
    manifest.assert_failed(code, err, "cannot reach 127.0.0.1:", "Connection refused")
    assert len(sleeps) == RETRIES


def test_dns_failure_never_leaves_the_machine(
    capsys: pytest.CaptureFixture[str], sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `.invalid` never resolves (RFC 6761); answering here also keeps the query off the network.
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    manifest = Pinned("nonexistent.invalid/test/app:v1")
    code, err = manifest.run(capsys)
    manifest.assert_failed(
        code, err, "cannot reach nonexistent.invalid: [Errno -2] Name or service not known"
    )
    # A name that does not resolve is asked once: a retry would get the same answer.
    assert looked_up == ["nonexistent.invalid"]
    assert sleeps == []


def test_a_server_that_never_answers_times_out(
    capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    started = time.monotonic()
    with FaultServer(lambda request: Hang()) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    elapsed = time.monotonic() - started
    manifest.assert_failed(code, err, f"{server.host} did not answer within 0.3s (timed out)")
    assert "--timeout SECONDS" in err
    assert len(server.requests) == 1 + RETRIES
    assert elapsed < (1 + RETRIES) * float(TIMEOUT) + 5


def test_the_server_dies_between_two_requests(
    capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    # The first answer is a challenge pointing at the server's own token endpoint; then it dies.
    with FaultServer(bearer(token_json({"token": "t"})), die_after=1) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    manifest.assert_failed(code, err, f"cannot reach {server.host}", "Connection refused")
    assert [request.path for request in server.requests] == ["/v2/test/app/manifests/v1"]


def test_the_real_registry_stopped_mid_run(
    capsys: pytest.CaptureFixture[str],
    sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
    registry_anonymous_private: Any,
) -> None:
    """Two images in one file: the first resolves, then the registry process is stopped."""
    from tests.support.registry_server import Pusher

    server = registry_anonymous_private
    with Pusher(server) as pusher:
        pusher.push_image("test/first", "v1")
        pusher.push_image("test/second", "v1")
    real_send = Transport.send
    answered: list[int] = []

    def send_then_stop(self: Transport, *args: Any, **kwargs: Any) -> Any:
        reply = real_send(self, *args, **kwargs)
        answered.append(reply.status)
        if len(answered) == 1:
            server.process.terminate()
            server.process.wait(timeout=10)
        return reply

    monkeypatch.setattr(Transport, "send", send_then_stop)
    manifest = Pinned(f"{server.host}/test/first:v1", sidecar=f"{server.host}/test/second:v1")
    code, err = manifest.run(capsys, "--concurrency", "1")
    # The first image's digest was found, but a file is pinned completely or not at all.
    assert code == 2, err
    assert manifest.path.read_bytes() == manifest.before
    assert answered == [200]
    assert f"error: Could not look up {server.host}/test/second:v1: cannot reach" in err, err
    assert "Connection refused" in err and "used at deploy.yaml:12:16" in err
    assert "test/first" not in err


@pytest.fixture
def registry_anonymous_private() -> Iterator[Any]:
    """A registry of this test's own, since the test stops it."""
    from tests.support.registry_server import RegistryServer, require_binary

    require_binary("docker-registry")
    with RegistryServer("anonymous") as server:
        yield server


def rate_limited(retry_after: str | None) -> Callable[[Request], Action]:
    headers = {"Content-Type": "application/json"} | (
        {"Retry-After": retry_after} if retry_after is not None else {}
    )
    body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
    return lambda request: Reply(429, headers, body)


def test_429_without_retry_after_backs_off_then_fails(
    capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    with FaultServer(rate_limited(None)) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    manifest.assert_failed(
        code,
        err,
        "the registry is rate limiting requests (HTTP 429).",  # a HEAD answer has no body
        "Wait, or log in for a higher limit.",
    )
    assert len(server.requests) == 1 + RETRIES
    # Exponential backoff with up to 10% jitter: 0.5 s, 1 s, 2 s.
    assert [round(delay, 3) for delay in sleeps] == pytest.approx([0.5, 1.0, 2.0], rel=0.1)
    assert all(delay >= base for delay, base in zip(sleeps, [0.5, 1.0, 2.0], strict=True))


@pytest.mark.parametrize(("retry_after", "delays"), [("7", [7.0] * RETRIES), ("3600", [])])
def test_429_with_retry_after_waits_as_told_within_a_bound(
    capsys: pytest.CaptureFixture[str], sleeps: list[float], retry_after: str, delays: list[float]
) -> None:
    """Retry-After is honoured up to 30 s; a longer wait is not waited for: it fails at once."""
    with FaultServer(rate_limited(retry_after)) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    manifest.assert_failed(code, err, "the registry is rate limiting requests", "(HTTP 429")
    assert sleeps == delays
    assert len(server.requests) == 1 + len(delays)


def test_429_then_an_answer_pins_the_file(
    capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    answers = iter([rate_limited("1"), rate_limited(None)])

    def respond(request: Request) -> Action:
        return next(answers, ok_head)(request)

    with FaultServer(respond) as server:
        manifest = Pinned(f"{server.host}/test/app:v1")
        code, err = manifest.run(capsys)
    assert code == 1, err
    assert manifest.path.read_text() == manifest.before.decode().replace(
        "test/app:v1", f"test/app@{DIGEST}"
    )
    assert len(sleeps) == 2 and sleeps[0] == 1.0


def test_a_token_that_expires_mid_run_is_replaced_once(
    capsys: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    """Two tags of one repository share a token; the registry expires it after one use."""
    issued: list[str] = []
    used: list[str] = []

    def token(request: Request) -> Action:
        issued.append(f"token-{len(issued) + 1}")
        return token_json({"token": issued[-1], "expires_in": 300})(request)

    def manifest(request: Request) -> Action:
        value = request.headers["authorization"].removeprefix("Bearer ")
        if value in used:
            return expired_token_refused(request)
        used.append(value)
        return ok_head(request)

    with FaultServer(bearer(token, manifest)) as server:
        pinned = Pinned(f"{server.host}/test/app:v1", sidecar=f"{server.host}/test/app:v2")
        code, err = pinned.run(capsys, "--concurrency", "1")
    assert code == 1, err
    assert pinned.path.read_text().count(f"test/app@{DIGEST}") == 2
    assert issued == used == ["token-1", "token-2"]

"""Credentials through the whole command line: where they go, where they never go, and that they
never show.

- Secrets (passwords, ``auth`` strings, identity and registry tokens, helper and gcloud secrets,
  issued bearer tokens) never appear on stdout, stderr or in any log record, at DEBUG, in every
  output format, whether the lookups fail or succeed.
- Credentials go only to the registry host they belong to and its token realm: never to a host
  a redirect points at, never over an https→http downgrade, never in a token POST redirected to
  another host, never over plain http to a non-loopback host.
- Plain http is used only for loopback or ``--insecure-registry`` hosts.
- Credential helpers named in config.json are validated before anything runs; helpers and gcloud
  run with a fixed argv, without a shell, and with a timeout whose error says what happened.

Library-level tests of the same rules: test_registry_client.py (redirects, realms, plain http,
``test_secrets_never_appear_in_errors_or_logs``) and test_auth.py (helper names, reprs).
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import pinner.registry.client
import pinner.registry.credentials
from tests.support.cli import run_cli
from tests.support.fake_programs import install
from tests.support.faultproxy import Action, FaultServer, Reply, Request

pytestmark = pytest.mark.usefixtures("isolated", "docker_config")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DIGEST = "sha256:" + "d" * 64
PASSWORD = "pa55-Alice-secret"
AUTH_FIELD = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
IDENTITY_TOKEN = "identity-refresh-secret"
REGISTRY_TOKEN = "registry-token-secret"
HELPER_SECRET = "helper-secret-value"
GCLOUD_TOKEN = "ya29.gcloud-secret-token"
ISSUED_TOKEN = "issued-bearer-secret"
SUCCESS_PASSWORD = "pa55-Bob-secret"
SECRETS = [
    PASSWORD,
    AUTH_FIELD,
    IDENTITY_TOKEN,
    REGISTRY_TOKEN,
    HELPER_SECRET,
    GCLOUD_TOKEN,
    ISSUED_TOKEN,
    SUCCESS_PASSWORD,
    base64.b64encode(f"bob:{SUCCESS_PASSWORD}".encode()).decode(),
    base64.b64encode(f"helper-user:{HELPER_SECRET}".encode()).decode(),
    base64.b64encode(f"oauth2accesstoken:{GCLOUD_TOKEN}".encode()).decode(),
]
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n{containers}"


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pinner.registry.client.RegistryClient

    class Fast(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["sleep"] = lambda seconds: None
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pinner.registry.client, "RegistryClient", Fast)


def write_config(config: dict[str, Any]) -> None:
    Path("docker", "config.json").write_text(json.dumps(config), encoding="utf-8")


def write_pod(*images: str) -> Path:
    containers = "".join(f"  - name: c{i}\n    image: {image}\n" for i, image in enumerate(images))
    path = Path("pod.yaml")
    path.write_text(POD.format(containers=containers), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "pin", "--no-config", *args)


def basic_registry(password: str, digest_ok: bool) -> Callable[[Request], Action]:
    """Basic auth: accepts ``password`` (if ``digest_ok``), refuses everything else."""

    def respond(request: Request) -> Action:
        authorization = request.headers.get("authorization", "")
        if digest_ok and password in base64.b64decode(authorization[6:] or b"").decode():
            return Reply(200, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST})
        return Reply(401, {"WWW-Authenticate": 'Basic realm="registry"'})

    return respond


def bearer_registry(status: int) -> Callable[[Request], Action]:
    """Bearer auth with a token endpoint on the same server; a request with a token gets
    ``status``."""

    def respond(request: Request) -> Action:
        if request.path.startswith("/token"):
            body = json.dumps({"token": ISSUED_TOKEN, "access_token": ISSUED_TOKEN}).encode()
            return Reply(200, {"Content-Type": "application/json"}, body)
        challenge = {
            "WWW-Authenticate": f'Bearer realm="http://{request.headers["host"]}/token",service="r"'
        }
        if "authorization" not in request.headers:
            return Reply(401, challenge)
        body = json.dumps({"errors": [{"code": "DENIED", "message": "denied"}]}).encode()
        return Reply(status, challenge if status == 401 else {}, body)

    return respond


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_secrets_never_show_in_output_or_logs(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    fake_bin: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_sleep: None,
    output_format: str,
) -> None:
    """Every kind of credential, refused or accepted, with every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)  # pinner has no verbosity flag; its loggers are the knob
    install(fake_bin, "docker-credential-fake")
    install(fake_bin, "gcloud")
    monkeypatch.setenv("FAKE_GCLOUD_TOKEN", GCLOUD_TOKEN)
    monkeypatch.setenv("FAKE_HELPER_USER", "helper-user")
    monkeypatch.setenv("FAKE_HELPER_SECRET", HELPER_SECRET)
    servers = [
        FaultServer(basic_registry(PASSWORD, digest_ok=False)),  # auth field, refused
        FaultServer(bearer_registry(403)),  # identity token → OAuth2 POST, then denied
        FaultServer(bearer_registry(401)),  # registry token, refused
        FaultServer(basic_registry(HELPER_SECRET, digest_ok=False)),  # helper, refused
        FaultServer(basic_registry(GCLOUD_TOKEN, digest_ok=False)),  # gcloud, refused
        FaultServer(basic_registry(SUCCESS_PASSWORD, digest_ok=True)),  # accepted
    ]
    with servers[0], servers[1], servers[2], servers[3], servers[4], servers[5]:
        hosts = [server.host for server in servers]
        monkeypatch.setenv("FAKE_HELPER_SERVER", hosts[3])
        write_config(
            {
                "auths": {
                    hosts[0]: {"auth": AUTH_FIELD},
                    hosts[1]: {"identitytoken": IDENTITY_TOKEN},
                    hosts[2]: {"registrytoken": REGISTRY_TOKEN},
                    hosts[5]: {"username": "bob", "password": SUCCESS_PASSWORD},
                },
                "credHelpers": {hosts[3]: "fake"},
            }
        )
        path = write_pod(*(f"{host}/team/app:v1" for host in hosts))
        code, out, err = run(
            capsys, "--format", output_format, "--gcloud-host", hosts[4], str(path)
        )
    assert code == 2
    assert err.count("Could not look up") == 5 if output_format == "text" else True
    # Each credential did reach its own registry (or token service): the test is not vacuous.
    received = [
        [request.headers.get("authorization", "") for request in server.requests]
        for server in servers
    ]
    assert f"Basic {AUTH_FIELD}" in received[0]
    assert any(
        request.body and IDENTITY_TOKEN.encode() in request.body for request in servers[1].requests
    )
    assert f"Bearer {REGISTRY_TOKEN}" in received[2]
    assert any(
        HELPER_SECRET in base64.b64decode(value[6:]).decode() for value in received[3] if value
    )
    assert any(
        GCLOUD_TOKEN in base64.b64decode(value[6:]).decode() for value in received[4] if value
    )
    assert caplog.records
    shown = "\n".join([out, err, caplog.text, *(str(r.args) for r in caplog.records)])
    for secret in SECRETS:
        assert secret not in shown, secret


def credential_keys(host: str, **entry: str) -> None:
    write_config({"auths": {host: entry}})


def test_credentials_go_to_the_registry_and_its_realm_only(
    capsys: pytest.CaptureFixture[str], no_sleep: None
) -> None:
    """Registry on 127.0.0.1, its realm on localhost, a redirect to a third server."""
    with (
        FaultServer(
            lambda r: Reply(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"token": ISSUED_TOKEN}).encode(),
            )
        ) as realm,
        FaultServer(
            lambda r: Reply(200, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST})
        ) as elsewhere,
        FaultServer(lambda r: Reply(404)) as other_registry,
    ):
        realm_url = f"http://localhost:{realm.port}/token"
        target = f"http://{elsewhere.host}/blobs/manifest"

        def registry_respond(request: Request) -> Action:
            if request.headers.get("authorization") == f"Bearer {ISSUED_TOKEN}":
                return Reply(307, {"Location": target})
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm_url}",service="r"'})

        with FaultServer(registry_respond) as registry:
            credential_keys(registry.host, username="alice", password=PASSWORD)
            path = write_pod(f"{registry.host}/team/app:v1", f"{other_registry.host}/team/b:v1")
            code, _, err = run(capsys, str(path))
    assert code == 2 and "team/b:v1" in err  # the second registry has no such image
    basic = f"Basic {AUTH_FIELD}"
    assert [r.headers.get("authorization") for r in realm.requests] == [basic]
    assert [r.headers.get("authorization") for r in registry.requests] == [
        None,
        f"Bearer {ISSUED_TOKEN}",
    ]
    assert [r.headers.get("authorization") for r in elsewhere.requests] == [None]
    assert all("authorization" not in r.headers for r in other_registry.requests)


def mock_registry(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response]
) -> list[httpx.Request]:
    """Route the command's registry client through ``handler``: no request leaves the process."""
    seen: list[httpx.Request] = []
    real = pinner.registry.client.RegistryClient

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    class Mocked(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["transport"] = httpx.MockTransport(record)
            kwargs["sleep"] = lambda seconds: None
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pinner.registry.client, "RegistryClient", Mocked)
    return seen


def basic_challenge(request: httpx.Request) -> httpx.Response:
    """A registry's answer to a request without credentials: which ones it wants."""
    return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})


def test_an_https_to_http_downgrade_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            return basic_challenge(request)
        return httpx.Response(302, headers={"Location": "http://registry.example/v2/x"})

    seen = mock_registry(monkeypatch, handler)
    credential_keys("registry.example", auth=AUTH_FIELD)
    path = write_pod("registry.example/team/app:v1")
    before = path.read_bytes()
    code, _, err = run(capsys, str(path))
    assert code == 2 and path.read_bytes() == before
    assert (
        "registry.example/team/app:v1: registry.example redirected from https to plain http" in err
    )
    assert [str(r.url.scheme) for r in seen] == ["https", "https"]


def test_a_token_post_is_never_redirected_to_another_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 307 keeps a POST's body: the refresh token must not follow it to another host."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(307, headers={"Location": "https://evil.example/collect"})
        if request.url.host == "evil.example":
            return httpx.Response(200, json={"token": "stolen"})
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": 'Bearer realm="https://auth.example/token",service="r"'},
        )

    seen = mock_registry(monkeypatch, handler)
    credential_keys("registry.example", identitytoken=IDENTITY_TOKEN)
    path = write_pod("registry.example/team/app:v1")
    code, _, err = run(capsys, str(path))
    assert code == 2
    assert "auth.example redirected a token request that carries credentials to evil.example" in err
    assert [r.url.host for r in seen] == ["registry.example", "auth.example"]
    assert all(
        IDENTITY_TOKEN.encode() not in r.content for r in seen if r.url.host != "auth.example"
    )


@pytest.mark.parametrize(
    ("flags", "scheme"), [([], "https"), (["--insecure-registry", "registry.example:5000"], "http")]
)
def test_plain_http_only_for_insecure_registries(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    scheme: str,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST}
        )

    seen = mock_registry(monkeypatch, handler)
    path = write_pod("registry.example:5000/team/app:v1")
    code, _, err = run(capsys, *flags, str(path))
    assert code == 1, err
    assert [str(r.url) for r in seen] == [
        f"{scheme}://registry.example:5000/v2/team/app/manifests/v1"
    ]


def test_no_credentials_over_plain_http_even_to_an_insecure_registry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = mock_registry(monkeypatch, basic_challenge)
    credential_keys("registry.example:5000", auth=AUTH_FIELD)
    path = write_pod("registry.example:5000/team/app:v1")
    code, _, err = run(capsys, "--insecure-registry", "registry.example:5000", str(path))
    assert code == 2
    assert "refusing to send the credentials for registry.example:5000 over plain http" in err
    assert len(seen) == 1 and "authorization" not in seen[0].headers


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, Any]]]:
    """Every program the keychains run: argv and keyword arguments."""
    calls: list[tuple[list[str], dict[str, Any]]] = []
    real = pinner.registry.credentials.run_program

    def spy(argv: list[str], **kwargs: Any) -> Any:
        calls.append((list(argv), kwargs))
        return real(argv, **kwargs)

    monkeypatch.setattr(pinner.registry.credentials, "run_program", spy)
    return calls


@pytest.mark.parametrize(
    "name", ["../../bin/sh", "/bin/sh", "fake; touch pwned", "$(touch pwned)", "-fake", ""]
)
def test_helper_names_are_checked_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spawned: list[tuple[list[str], dict[str, Any]]],
    name: str,
) -> None:
    seen = mock_registry(monkeypatch, basic_challenge)
    write_config({"credHelpers": {"registry.example": name}} if name else {"credsStore": "x y"})
    path = write_pod("registry.example/team/app:v1")
    code, _, err = run(capsys, str(path))
    assert code == 2
    shown = name or "x y"
    assert f"the credential helper name {shown!r} in the docker config is not valid" in err
    assert spawned == [] and not Path("pwned").exists()
    assert all("authorization" not in r.headers for r in seen)


SLOW = f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n"  # PATH holds only the fakes


def install_slow(monkeypatch: pytest.MonkeyPatch, fake_bin: Path, name: str) -> Path:
    """A program ``name`` on PATH that hangs, and half a second for any program pinner runs."""
    program = fake_bin / name
    program.write_text(SLOW)
    program.chmod(0o755)
    monkeypatch.setattr(pinner.registry.credentials, "SUBPROCESS_TIMEOUT", 0.5)
    return program


def test_a_slow_credential_helper_times_out_clearly(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_bin: Path,
    spawned: list[tuple[list[str], dict[str, Any]]],
) -> None:
    helper = install_slow(monkeypatch, fake_bin, "docker-credential-slow")
    mock_registry(monkeypatch, basic_challenge)
    write_config({"credsStore": "slow"})
    path = write_pod("registry.example/team/app:v1")
    started = time.monotonic()
    code, _, err = run(capsys, str(path))
    assert time.monotonic() - started < 10
    assert code == 2
    assert (
        "Could not look up registry.example/team/app:v1: the registry registry.example refused "
        "anonymous access (HTTP 401). No credentials were sent: docker-credential-slow did not "
        "finish within 0.5 seconds. Check that docker-credential-slow works when run by hand."
    ) in err
    ((argv, kwargs),) = spawned
    assert argv == [str(helper), "get"]
    assert kwargs["stdin"] == b"registry.example" and kwargs["timeout"] == 0.5


def test_a_slow_gcloud_times_out_clearly(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_bin: Path,
    spawned: list[tuple[list[str], dict[str, Any]]],
) -> None:
    gcloud = install_slow(monkeypatch, fake_bin, "gcloud")
    mock_registry(monkeypatch, basic_challenge)
    path = write_pod("europe-docker.pkg.dev/project/repo/app:v1")
    code, _, err = run(capsys, str(path))
    assert code == 2
    assert "gcloud did not finish within 0.5 seconds" in err
    ((argv, kwargs),) = spawned
    assert argv == [str(gcloud), "auth", "print-access-token", "--quiet"]
    assert kwargs["timeout"] == 0.5


def test_a_docker_config_nested_too_deeply_is_an_error_not_a_crash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock_registry(monkeypatch, basic_challenge)
    Path("docker", "config.json").write_text('{"auths": ' + "[" * 50_000, encoding="utf-8")
    code, _, err = run(capsys, str(write_pod("registry.example/team/app:v1")))
    assert code == 2
    assert "Could not look up registry.example/team/app:v1: the docker config " in err
    assert "config.json cannot be read (RecursionError). Fix or remove the docker config." in err

"""Cloud logins and podman's auth file against the real registry, basic-auth and token-auth.

The registry is Debian's docker-registry on 127.0.0.1, served over https under the cloud's
name (``123456789012.dkr.ecr.eu-west-1.amazonaws.com``, ``pinnertest.azurecr.io``,
``ghcr.io``) with a throw-away CA that pinner trusts through ``SSL_CERT_FILE``; only this
process resolves those names, to 127.0.0.1 (tests/support/tls.py). In token mode the token
service is on the same name, as ACR's is. The fake ``aws`` and ``az`` (tests/support/fakes) are
the only programs on PATH and print the registry's password, so the registry accepting the
request proves pinner sent what the CLI gave it, to the right place, as the right user.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pinner.registry.cloudlogins import ACR_USERNAME, ECR_USERNAME
from tests.support.cli import run_cli
from tests.support.fake_programs import install_logged
from tests.support.registry_server import AuthMode, Pusher, RegistryServer, require_binary
from tests.support.samples import write_pod
from tests.support.tls import resolve_to_loopback

pytestmark = pytest.mark.realregistry

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ACR = "pinnertest.azurecr.io"
GHCR = "ghcr.io"
SECRET = "cloud-Pa55word-e2e"
USERS = {ECR: ECR_USERNAME, ACR: ACR_USERNAME, GHCR: "octocat"}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[tuple[str, AuthMode], RegistryServer]]:
    """One registry per (cloud name, auth mode), each knowing only that cloud's user."""
    require_binary("docker-registry")
    require_binary("htpasswd")
    started: dict[tuple[str, AuthMode], RegistryServer] = {}
    try:
        for host, user in USERS.items():
            for auth in ("htpasswd", "token"):
                server = RegistryServer(auth, username=user, password=SECRET, tls_names=(host,))
                started[(host, auth)] = server.start()
        yield started
    finally:
        for server in started.values():
            server.close()


@pytest.fixture(autouse=True)
def machine(
    work_folder: Path, docker_config: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Own folder, empty logins, no proxy, the cloud names on 127.0.0.1, only the fake aws
    and az on PATH. Returns the folder above the work folder, where the fakes' logs go."""
    for name in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GITHUB_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    resolve_to_loopback(monkeypatch, USERS)
    for fake in ("aws", "az"):
        install_logged(monkeypatch, fake_bin, fake, SECRET)
    return fake_bin.parent


@pytest.fixture(params=["htpasswd", "token"])
def auth(request: pytest.FixtureRequest) -> AuthMode:
    """Each test runs against the basic-auth registry and against the token-auth one."""
    mode: AuthMode = request.param
    return mode


Serve = Callable[[str], tuple[RegistryServer, str]]


@pytest.fixture
def serve(
    servers: dict[tuple[str, AuthMode], RegistryServer],
    auth: AuthMode,
    monkeypatch: pytest.MonkeyPatch,
) -> Serve:
    """``serve(host)``: the server for ``host`` in the test's auth mode, trusted by pinner, and
    its name with the port."""

    def serve(host: str) -> tuple[RegistryServer, str]:
        server = servers[(host, auth)]
        assert server.certificate is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate.ca_path))
        return server, f"{host}:{server.port}"

    return serve


def push(server: RegistryServer, repo: str) -> str:
    with Pusher(server) as pusher:
        return pusher.push_image(repo, "1.0")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run_cli(capsys, *args)
    assert SECRET not in out + err
    return code, err


def calls(machine: Path, program: str) -> list[str]:
    log = machine / f"{program}.log"
    return log.read_text().splitlines() if log.exists() else []


# Each cloud's registry, the CLI pinner asks for its login, and the one call expected of it.
CLOUD_CLIS = [
    pytest.param(ECR, "aws", "ecr get-login-password --region eu-west-1", id="ecr-aws-password"),
    pytest.param(
        ACR, "az", "acr login --name pinnertest --expose-token --output json", id="acr-az-token"
    ),
]


@pytest.mark.parametrize(("host", "program", "call"), CLOUD_CLIS)
def test_cloud_registries_pin_with_their_cli_asked_once(
    serve: Serve,
    machine: Path,
    capsys: pytest.CaptureFixture[str],
    host: str,
    program: str,
    call: str,
    auth: AuthMode,
) -> None:
    server, name = serve(host)
    first, second = push(server, f"team/a-{auth}"), push(server, f"team/b-{auth}")
    path = write_pod("pod.yaml", f"{name}/team/a-{auth}:1.0", f"{name}/team/b-{auth}:1.0")
    code, err = run(capsys, "pin", str(path))
    assert code == 1, err
    text = path.read_text()
    assert f"team/a-{auth}@{first}" in text and f"team/b-{auth}@{second}" in text
    assert calls(machine, program) == [call]
    if auth == "token":
        assert server.token_requests and all(r.status == 200 for r in server.token_requests)


def test_ghcr_pins_with_github_token_inside_actions(
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    auth: AuthMode,
) -> None:
    server, name = serve(GHCR)
    digest = push(server, f"octocat/app-{auth}")
    path = write_pod("pod.yaml", f"{name}/octocat/app-{auth}:1.0")
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    code, err = run(capsys, "pin", str(path))
    assert code == 2, "GITHUB_TOKEN is used only inside GitHub Actions"
    assert "refused anonymous access" in err
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, err = run(capsys, "pin", str(path))
    assert code == 1, err
    assert f"app-{auth}@{digest}" in path.read_text()


def test_without_a_cloud_login_the_refusal_says_what_to_run(
    serve: Serve,
    machine: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    auth: AuthMode,
) -> None:
    server, name = serve(ECR)
    push(server, f"team/refused-{auth}")
    path = write_pod(
        "pod.yaml", f"{name}/team/refused-{auth}:1.0", f"{name}/team/refused-{auth}:2.0"
    )
    before = path.read_bytes()
    monkeypatch.setenv("FAKE_AWS_MODE", "nocreds")
    code, err = run(capsys, "pin", str(path))
    assert code == 2
    assert (
        "refused anonymous access (HTTP 401). No credentials were sent: `aws ecr "
        "get-login-password --region eu-west-1` failed with exit status 253. Log in with the AWS "
        "CLI (`aws configure` or `aws sso login`)"
    ) in err
    assert path.read_bytes() == before
    assert calls(machine, "aws") == ["ecr get-login-password --region eu-west-1"]


def test_podman_login_pins_and_a_refused_one_says_podman_login(
    serve: Serve,
    machine: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    auth: AuthMode,
) -> None:
    # ACR's name only to reach a registry with a user; podman's file is read for any host.
    server, name = serve(ACR)
    (machine / "bin" / "az").unlink()
    digest = push(server, f"team/podman-{auth}")
    auth_file = machine / "run" / "containers" / "auth.json"
    auth_file.parent.mkdir(parents=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(machine / "run"))

    def podman_login(password: str) -> None:
        pair = base64.b64encode(f"{ACR_USERNAME}:{password}".encode()).decode()
        auth_file.write_text(json.dumps({"auths": {name: {"auth": pair}}}))

    path = write_pod("pod.yaml", f"{name}/team/podman-{auth}:1.0")
    podman_login("wrong-password")
    code, err = run(capsys, "pin", str(path))
    assert code == 2
    assert f"refused the credentials from the containers auth file {auth_file}" in err
    assert f"Run `podman login {name}` again with an account that can read" in err
    podman_login(SECRET)
    code, err = run(capsys, "pin", str(path))
    assert code == 1, err
    assert f"podman-{auth}@{digest}" in path.read_text()
    assert not os.path.exists(machine / "az.log")

"""Issue 3 end to end: the pinner command line against the real Debian `docker-registry`.

Every test pushes its own images through the distribution API (tests/registry_server.py), so the
expected digests are the sha256 of bytes the test uploaded, never something pinner computed.
Pinned references are then pulled by skopeo, an independent client, which must report the same
digest. Credentials come the way users keep them: a temporary `DOCKER_CONFIG/config.json`, a
fake `docker-credential-*` helper, and a fake `gcloud` (tests/fakes) on PATH.

With CI=true these tests fail instead of skipping when `docker-registry` is missing (the
fixtures call `require_binary`); the last test proves that.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_cli, without_summaries
from tests.support.paths import FAKES
from tests.support.paths import REPO as ROOT
from tests.support.processes import run_module
from tests.support.registry_fixtures import _serve
from tests.support.registry_server import (
    MediaFlavor,
    Pusher,
    RegistryServer,
    require_binary,
    skopeo_inspect_digest,
)
from tests.support.samples import IMAGE_COLUMN, image_line, pod, write_pod

pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("work_folder", "docker_config")]

WRONG_PASSWORD = "not-the-Pa55word"
GCLOUD_TOKEN = "ya29.e2e-fake-access-token"
MakePusher = Callable[[RegistryServer], Pusher]


# --- helpers ----------------------------------------------------------------------------------


def docker_config(data: dict[str, object]) -> Path:
    path = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def docker_login(server: RegistryServer, password: str | None = None) -> Path:
    """What `docker login` writes: an `auths` entry with base64 `user:password`."""
    assert server.username is not None and server.password is not None
    pair = f"{server.username}:{password or server.password}".encode()
    return docker_config({"auths": {server.host: {"auth": base64.b64encode(pair).decode()}}})


def login_if_needed(server: RegistryServer) -> None:
    if server.credentials is not None:
        docker_login(server)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines other than the timed summary line."""
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err, "pinner pin: ")


def pin_refused(
    capsys: pytest.CaptureFixture[str], image: str, *flags: str
) -> tuple[str, list[str]]:
    """``pinner pin FLAGS pod.yaml`` of a Pod of ``image``, which pinner must refuse: exit 2,
    the file as it was. Returns stdout and the error lines."""
    manifest = write_pod("pod.yaml", image)
    before = manifest.read_bytes()
    code, out, errors = run(capsys, "pin", *flags, "pod.yaml")
    assert code == 2
    assert manifest.read_bytes() == before
    return out, errors


def run_pinner(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m pinner ARGS` in the current folder and environment."""
    return run_module("pinner", *args, env={**os.environ, "PYTHONPATH": str(ROOT)})


def prepend_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


def token_service(server: RegistryServer) -> str:
    """The token realm's host:port, as messages name it."""
    assert server.token_server is not None
    return f"127.0.0.1:{server.token_server.port}"


def assert_pulls(server: RegistryServer, pinned: str, digest: str) -> None:
    """skopeo pulls the pinned reference (`<host>/<repo>@<digest>`) and reports `digest`."""
    prefix = f"{server.host}/"
    assert pinned.startswith(prefix), pinned
    assert skopeo_inspect_digest(server, pinned.removeprefix(prefix)) == digest


# --- pinning what was pushed ------------------------------------------------------------------


@pytest.mark.skopeo
@pytest.mark.parametrize("media_type", ["oci", "docker"])
@pytest.mark.parametrize("mode", ["anonymous", "htpasswd", "token"])
def test_pin_single_platform_image(
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    make_pusher: MakePusher,
    unique_repo: str,
    skopeo: str,
    mode: str,
    media_type: MediaFlavor,
) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    digest = make_pusher(server).push_image(unique_repo, "1.0", media_type=media_type)
    login_if_needed(server)
    tokens_before = len(server.token_requests)
    image = f"{server.host}/{unique_repo}"
    manifest = write_pod("pod.yaml", f"{image}:1.0")

    code, out, errors = run(capsys, "pin", "pod.yaml")

    assert (code, errors) == (1, [])
    assert manifest.read_text() == pod(f"{image}@{digest}")
    assert out == f"pod.yaml:7:14: {image}:1.0 -> {image}@{digest}\n"
    if mode == "token":
        # The config.json credentials went to the token realm as Basic; the registry took the JWT.
        granted = [r for r in server.token_requests[tokens_before:] if r.status == 200]
        assert [(r.authorization, r.params["scope"]) for r in granted] == [
            (True, [f"repository:{unique_repo}:pull"])
        ]
    assert_pulls(server, f"{image}@{digest}", digest)
    # A second run has nothing left to do.
    assert run(capsys, "pin", "pod.yaml")[0] == 0


@pytest.mark.skopeo
@pytest.mark.parametrize(
    ("media_type", "attestation"), [("oci", True), ("docker", False), ("docker", True)]
)
def test_pin_index_by_default_and_a_child_with_platform(
    capsys: pytest.CaptureFixture[str],
    registry_token: RegistryServer,
    pusher_token: Pusher,
    unique_repo: str,
    skopeo: str,
    media_type: MediaFlavor,
    attestation: bool,
) -> None:
    index, children = pusher_token.push_index(
        unique_repo, "multi", media_type=media_type, attestation=attestation
    )
    docker_login(registry_token)
    image = f"{registry_token.host}/{unique_repo}"
    default = write_pod("default.yaml", f"{image}:multi")
    arm64 = write_pod("arm64.yaml", f"{image}:multi")
    arm64_v8 = write_pod("arm64-v8.yaml", f"{image}:multi")
    amd64 = write_pod("amd64.yaml", f"{image}:multi")

    assert run(capsys, "pin", "default.yaml")[:2] == (
        1,
        f"default.yaml:7:14: {image}:multi -> {image}@{index}\n",
    )
    assert run(capsys, "pin", "--platform", "linux/arm64", "arm64.yaml")[0] == 1
    assert run(capsys, "pin", "--platform", "linux/arm64/v8", "arm64-v8.yaml")[0] == 1
    assert run(capsys, "pin", "--platform", "linux/amd64", "amd64.yaml")[0] == 1

    arm64_digest = children["linux/arm64/v8"]
    assert default.read_text() == pod(f"{image}@{index}")
    assert arm64.read_text() == pod(f"{image}@{arm64_digest}")
    assert arm64_v8.read_text() == pod(f"{image}@{arm64_digest}")
    assert amd64.read_text() == pod(f"{image}@{children['linux/amd64']}")
    assert len({index, *children.values()}) == 4  # the test can tell them apart
    assert_pulls(registry_token, f"{image}@{index}", index)
    assert_pulls(registry_token, f"{image}@{arm64_digest}", arm64_digest)


def test_pin_missing_platform_lists_the_available_ones(
    capsys: pytest.CaptureFixture[str],
    pusher_anonymous: Pusher,
    unique_repo: str,
) -> None:
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8")]
    pusher_anonymous.push_index(unique_repo, "multi", platforms, attestation=True)
    image = f"{pusher_anonymous.server.host}/{unique_repo}:multi"

    out, errors = pin_refused(capsys, image, "--platform", "linux/s390x")

    assert out == ""
    assert errors == [
        f"error: Could not look up {image}: the image index has no manifest for linux/s390x; "
        "it has: linux/amd64, linux/arm64. Choose one of the listed platforms, or drop the "
        "platform to pin the index.",
        f"  used at pod.yaml:7:{IMAGE_COLUMN}",
    ]


# --- pinner digest ----------------------------------------------------------------------------


def test_digest_command_prints_only_the_digest(
    capsys: pytest.CaptureFixture[str],
    registry_token: RegistryServer,
    pusher_token: Pusher,
    unique_repo: str,
) -> None:
    single = pusher_token.push_image(unique_repo, "single", media_type="docker")
    index, children = pusher_token.push_index(unique_repo, "multi", attestation=True)
    docker_login(registry_token)
    image = f"{registry_token.host}/{unique_repo}"

    cases = [
        ([f"{image}:multi"], index),
        ([f"{image}:multi", "--platform", "linux/arm64"], children["linux/arm64/v8"]),
        ([f"{image}:multi", "--platform", "linux/arm/v7"], children["linux/arm/v7"]),
        ([f"{image}:single"], single),
        ([f"{image}:single", "--platform", "linux/amd64"], single),
        # A digest is checked with the registry and printed as given.
        ([f"{image}@{single}"], single),
        ([f"{image}@{index}", "--platform", "linux/arm/v7"], children["linux/arm/v7"]),
    ]
    # Once as a real process, for the exact bytes on stdout and nothing on stderr.
    result = run_pinner("digest", f"{image}:multi")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{index}\n", "")
    for args, expected in cases:
        code, out, errors = run(capsys, "digest", *args)
        assert (code, out, errors) == (0, f"{expected}\n", []), args


def test_digest_command_unknown_tag(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    pusher_anonymous.push_image(unique_repo, "1.0")
    host = pusher_anonymous.server.host
    code, out, errors = run(capsys, "digest", f"{host}/{unique_repo}:2.0")
    assert (code, out) == (2, "")
    assert errors == [
        f"error: Could not look up {host}/{unique_repo}:2.0: {host} has no such repository, tag "
        "or digest (HTTP 404). Check that the repository and tag exist and are spelled right."
    ]
    absent = "sha256:" + "0" * 64
    code, out, errors = run(capsys, "digest", f"{host}/{unique_repo}@{absent}")
    assert (code, out) == (2, "")
    assert errors[0].startswith(f"error: Could not look up {host}/{unique_repo}@{absent}: ")


# --- where credentials come from --------------------------------------------------------------


@pytest.mark.parametrize(("mode", "field"), [("htpasswd", "credHelpers"), ("token", "credsStore")])
def test_credentials_from_a_credential_helper(
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make_pusher: MakePusher,
    unique_repo: str,
    tmp_path: Path,
    mode: str,
    field: str,
) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    assert server.credentials is not None
    digest = make_pusher(server).push_image(unique_repo, "1.0")
    helper_log = tmp_path / "helper.log"
    prepend_path(monkeypatch, FAKES)
    monkeypatch.setenv("FAKE_HELPER_SERVER", server.host)
    monkeypatch.setenv("FAKE_HELPER_USER", server.credentials[0])
    monkeypatch.setenv("FAKE_HELPER_SECRET", server.credentials[1])
    monkeypatch.setenv("FAKE_HELPER_LOG", str(helper_log))
    helper = {server.host: "fake"} if field == "credHelpers" else "fake"
    docker_config({field: helper})
    image = f"{server.host}/{unique_repo}"
    manifest = write_pod("pod.yaml", f"{image}:1.0", f"{image}:1.0")

    code, _, errors = run(capsys, "pin", "pod.yaml")

    assert (code, errors) == (1, [])
    assert manifest.read_text() == pod(f"{image}@{digest}", f"{image}@{digest}")
    # Asked once, with the registry's host (the key docker uses) on stdin.
    assert helper_log.read_text() == f"get {server.host}\n"


def test_gcloud_host_sends_the_access_token_as_oauth2accesstoken(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    require_binary("docker-registry")
    gcloud_log = tmp_path / "gcloud.log"
    prepend_path(monkeypatch, FAKES)  # before the real gcloud, if there is one
    monkeypatch.setenv("FAKE_GCLOUD_TOKEN", GCLOUD_TOKEN)
    monkeypatch.setenv("FAKE_GCLOUD_LOG", str(gcloud_log))
    with (
        RegistryServer("token", username="oauth2accesstoken", password=GCLOUD_TOKEN) as server,
        Pusher(server) as pusher,
    ):
        first = pusher.push_image("gcp/one", "1.0")
        second, _ = pusher.push_index("gcp/two", "2.0")
        one, two = f"{server.host}/gcp/one", f"{server.host}/gcp/two"
        write_pod("pod.yaml", f"{one}:1.0", f"{two}:2.0")
        before = Path("pod.yaml").read_bytes()
        mark = len(server.token_requests)

        # Without --gcloud-host the host is not Google's: gcloud is not asked, access is refused.
        code, _, errors = run(capsys, "pin", "pod.yaml")
        assert code == 2
        assert errors[0] == (
            f"error: Could not look up {one}:1.0: the token service "
            f"{token_service(server)} refused "
            f"anonymous access (HTTP 401). Run `docker login {server.host}` with an account that "
            "can read the repository. If you are logged in, check that the repository exists."
        )
        assert not gcloud_log.exists()
        assert Path("pod.yaml").read_bytes() == before

        code, out, errors = run(capsys, "pin", "--gcloud-host", server.host, "pod.yaml")
        assert (code, errors) == (1, [])
        assert Path("pod.yaml").read_text() == pod(f"{one}@{first}", f"{two}@{second}")
        # One gcloud run for two repositories; the token went to the realm as Basic credentials.
        assert gcloud_log.read_text() == "auth print-access-token --quiet\n"
        granted = [r for r in server.token_requests[mark:] if r.status == 200]
        assert granted and all(r.authorization for r in granted)
        assert GCLOUD_TOKEN not in out + "".join(errors)


def test_gcloud_without_an_account_says_gcloud_auth_login(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    registry_token: RegistryServer,
    pusher_token: Pusher,
    unique_repo: str,
) -> None:
    pusher_token.push_image(unique_repo, "1.0")
    prepend_path(monkeypatch, FAKES)
    monkeypatch.setenv("FAKE_GCLOUD_MODE", "noaccount")
    image = f"{registry_token.host}/{unique_repo}:1.0"

    _, errors = pin_refused(capsys, image, "--gcloud-host", registry_token.host)

    assert errors == [
        f"error: Could not look up {image}: the token service {token_service(registry_token)} "
        "refused anonymous access (HTTP 401). No credentials were sent: gcloud has no active "
        "account. Run "
        "`gcloud auth login` (install the Google Cloud CLI first if needed). If you are logged "
        "in, check that the repository exists.",
        f"  used at pod.yaml:7:{IMAGE_COLUMN}",
    ]


# --- failures through the command line --------------------------------------------------------


def test_unknown_tag_leaves_its_files_alone_and_writes_the_others(
    capsys: pytest.CaptureFixture[str],
    registry_htpasswd: RegistryServer,
    pusher_htpasswd: Pusher,
    unique_repo: str,
) -> None:
    digest = pusher_htpasswd.push_image(unique_repo, "1.0")
    docker_login(registry_htpasswd)
    image = f"{registry_htpasswd.host}/{unique_repo}"
    mixed = write_pod("a-mixed.yaml", f"{image}:1.0", f"{image}:nope")
    only_bad = write_pod("b-bad.yaml", f"{image}:nope")
    good = write_pod("c-good.yaml", f"{image}:1.0")
    mixed_before, bad_before = mixed.read_bytes(), only_bad.read_bytes()

    code, out, errors = run(capsys, "pin", "a-mixed.yaml", "b-bad.yaml", "c-good.yaml")

    assert code == 2
    assert errors == [
        f"error: Could not look up {image}:nope: {registry_htpasswd.host} has no such "
        "repository, tag or digest (HTTP 404). Check that the repository and tag exist and are "
        "spelled right.",
        f"  used at a-mixed.yaml:{image_line(1)}:{IMAGE_COLUMN}, "
        f"b-bad.yaml:{image_line(0)}:{IMAGE_COLUMN}",
    ]
    assert mixed.read_bytes() == mixed_before
    assert only_bad.read_bytes() == bad_before
    assert good.read_text() == pod(f"{image}@{digest}")
    assert f"c-good.yaml:7:14: {image}:1.0 -> {image}@{digest}" in out
    # 404 means "not found": no GET fallback for it (Docker Hub counts GETs as pulls).
    server = registry_htpasswd
    assert server.count_requests("GET", f"/{unique_repo}/manifests/") == 0


@pytest.mark.parametrize("mode", ["htpasswd", "token"])
def test_wrong_password_is_refused_and_never_printed(
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    make_pusher: MakePusher,
    unique_repo: str,
    mode: str,
) -> None:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    make_pusher(server).push_image(unique_repo, "1.0")
    config = docker_login(server, password=WRONG_PASSWORD)
    image = f"{server.host}/{unique_repo}:1.0"
    refuser = (
        f"the registry {server.host}"
        if mode == "htpasswd"
        else f"the token service {token_service(server)}"
    )
    message = (
        f"Could not look up {image}: {refuser} refused the credentials from the docker config "
        f"{config} (HTTP 401). Run `docker login {server.host}` again with an account that can "
        "read the repository. If you are logged in, check that the repository exists."
    )
    caplog.set_level(logging.DEBUG)

    out, errors = pin_refused(capsys, image)
    digest_run = run_pinner("digest", image)

    assert errors == [f"error: {message}", f"  used at pod.yaml:7:{IMAGE_COLUMN}"]
    assert (digest_run.returncode, digest_run.stdout) == (2, "")
    assert digest_run.stderr == f"error: {message}\n"
    assert caplog.records  # the debug log was on, and is checked too
    encoded = base64.b64encode(f"{server.username}:{WRONG_PASSWORD}".encode()).decode()
    everything = "\n".join([out, *errors, caplog.text, digest_run.stdout, digest_run.stderr])
    assert WRONG_PASSWORD not in everything
    assert encoded not in everything


# --- one lookup per tag -----------------------------------------------------------------------


def test_many_files_using_one_tag_cost_one_head(
    capsys: pytest.CaptureFixture[str],
    registry_token: RegistryServer,
    pusher_token: Pusher,
    unique_repo: str,
) -> None:
    one = pusher_token.push_image(unique_repo, "one")
    two, _ = pusher_token.push_index(unique_repo, "two")
    docker_login(registry_token)
    image = f"{registry_token.host}/{unique_repo}"
    names = [f"pod-{n}.yaml" for n in range(6)]
    for name in names:
        write_pod(name, f"{image}:one", f"{image}:two", f"{image}:one")
    mark = registry_token.log_mark()

    code, _, errors = run(capsys, "pin", *names)

    assert (code, errors) == (1, [])
    for name in names:
        assert Path(name).read_text() == pod(f"{image}@{one}", f"{image}@{two}", f"{image}@{one}")
    manifests = f"/{unique_repo}/manifests/"
    # In token mode a request first gets a 401; the 200s are the lookups that went through.
    assert registry_token.count_requests("HEAD", f"{manifests}one", since=mark, status=200) == 1
    assert registry_token.count_requests("HEAD", f"{manifests}two", since=mark, status=200) == 1
    assert registry_token.count_requests("HEAD", manifests, since=mark) <= 4
    assert registry_token.count_requests("GET", manifests, since=mark) == 0


# --- mirrors ----------------------------------------------------------------------------------


@pytest.mark.skopeo
def test_docker_hub_names_resolve_through_a_mirror(
    capsys: pytest.CaptureFixture[str],
    registry_anonymous: RegistryServer,
    pusher_anonymous: Pusher,
    skopeo: str,
) -> None:
    index, _ = pusher_anonymous.push_index("library/nginx", "1.27", attestation=True)
    mirror = registry_anonymous.host
    manifest = write_pod("pod.yaml", "nginx:1.27", "docker.io/library/nginx:1.27")
    mark = registry_anonymous.log_mark()

    code, out, errors = run(capsys, "pin", "--mirror", f"docker.io={mirror}", "pod.yaml")

    assert (code, errors) == (1, [])
    # The names stay as they were written; only the tags became the digest from the mirror.
    assert manifest.read_text() == pod(f"nginx@{index}", f"docker.io/library/nginx@{index}")
    assert f"pod.yaml:7:14: nginx:1.27 -> nginx@{index}" in out
    assert registry_anonymous.count_requests("HEAD", "/library/nginx/manifests/1.27", since=mark)
    assert skopeo_inspect_digest(registry_anonymous, f"library/nginx@{index}") == index
    result = run_pinner("digest", "--mirror", f"docker.io={mirror}", "nginx:1.27")
    assert (result.returncode, result.stdout) == (0, f"{index}\n")


# --- CI must not silently skip ----------------------------------------------------------------


def outcome(action: Callable[[], object]) -> tuple[str, str]:
    """("fail" | "skip" | "ran", message): a skip must not escape and skip the test itself."""
    try:
        action()
    except pytest.fail.Exception as failure:
        return "fail", failure.msg
    except pytest.skip.Exception as skip:
        return "skip", skip.msg
    return "ran", ""


def test_ci_fails_instead_of_skipping_without_docker_registry(
    monkeypatch: pytest.MonkeyPatch, fake_bin: Path
) -> None:
    missing = (
        "'docker-registry' is not installed (Debian package 'docker-registry'); run the tests "
        "with `bash tests/run` as the README says, which installs it"
    )
    monkeypatch.setenv("CI", "true")
    # What the registry_* fixtures run, and what a test starting its own registry runs.
    assert outcome(lambda: next(_serve("anonymous"))) == ("fail", missing)
    assert outcome(lambda: RegistryServer("token").start()) == ("fail", missing)
    monkeypatch.setenv("CI", "false")
    assert outcome(lambda: next(_serve("htpasswd"))) == ("skip", missing)

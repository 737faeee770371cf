"""The real-registry harness itself: auth modes, push client, access log and skopeo helpers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import registry_server
from tests.support.registry_server import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    Pusher,
    RegistryServer,
    RegistryStartError,
    decode_jwt_claims,
    require_binary,
    sha256_digest,
    skopeo_copy,
    skopeo_inspect_digest,
)

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = pytest.mark.realregistry

MODES = ["anonymous", "htpasswd", "token"]
MakePusher = Callable[[RegistryServer], Pusher]


def _server(request: pytest.FixtureRequest, mode: str) -> RegistryServer:
    server: RegistryServer = request.getfixturevalue(f"registry_{mode}")
    return server


# trust_env=False: everything is on 127.0.0.1, so an HTTP_PROXY in the environment must not apply.
def _get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, trust_env=False, **kwargs)


def _head(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.head(url, trust_env=False, **kwargs)


def _post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, trust_env=False, **kwargs)


# -- auth modes


def test_anonymous_registry_answers_ping(registry_anonymous: RegistryServer) -> None:
    response = _get(f"{registry_anonymous.url}/v2/")
    assert response.status_code == 200
    assert registry_anonymous.url == f"http://{registry_anonymous.host}"
    assert registry_anonymous.host.startswith("127.0.0.1:")


def test_htpasswd_registry_challenges_with_basic(registry_htpasswd: RegistryServer) -> None:
    anonymous = _get(f"{registry_htpasswd.url}/v2/")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="basic-realm"'
    assert registry_htpasswd.credentials is not None
    assert _get(f"{registry_htpasswd.url}/v2/", auth=registry_htpasswd.credentials).is_success
    wrong = _get(f"{registry_htpasswd.url}/v2/", auth=(registry_htpasswd.username or "", "no"))
    assert wrong.status_code == 401


def test_token_registry_challenges_with_bearer(registry_token: RegistryServer) -> None:
    token_server = registry_token.token_server
    assert token_server is not None
    response = _get(f"{registry_token.url}/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{token_server.realm}",service="{token_server.service}"'
    )
    assert token_server.realm == f"http://127.0.0.1:{token_server.port}/token"


def test_token_server_requires_basic_credentials(registry_token: RegistryServer) -> None:
    token_server = registry_token.token_server
    assert token_server is not None and registry_token.credentials is not None
    before = len(registry_token.token_requests)
    params = {"service": token_server.service, "scope": "repository:a/b:pull"}
    assert _get(token_server.realm, params=params).status_code == 401
    assert _get(token_server.realm, params=params, auth=("pinner", "wrong")).status_code == 401
    good = _get(token_server.realm, params=params, auth=registry_token.credentials)
    assert good.status_code == 200
    seen = registry_token.token_requests[before:]
    assert [(r.authorization, r.status) for r in seen] == [(False, 401), (True, 401), (True, 200)]
    assert seen[-1].path == "/token"
    assert seen[-1].params == {"service": [token_server.service], "scope": ["repository:a/b:pull"]}
    body = good.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300 and "issued_at" in body


def test_token_claims_follow_requested_scopes(registry_token: RegistryServer) -> None:
    token_server = registry_token.token_server
    assert token_server is not None and registry_token.credentials is not None
    params = [
        ("service", token_server.service),
        ("scope", "repository:127.0.0.1:5000/x/y:pull,push"),  # the name holds a ':'
        ("scope", "repository:other:pull"),
    ]
    body = _get(token_server.realm, params=params, auth=registry_token.credentials).json()
    claims = decode_jwt_claims(body["token"])
    assert claims["iss"] == token_server.issuer
    assert claims["aud"] == token_server.service
    assert claims["sub"] == registry_token.username
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    assert claims["access"] == [
        {"type": "repository", "name": "127.0.0.1:5000/x/y", "actions": ["pull", "push"]},
        {"type": "repository", "name": "other", "actions": ["pull"]},
    ]
    header = json.loads(base64.urlsafe_b64decode(body["token"].split(".")[0] + "=="))
    assert header["alg"] == "ES256" and len(header["x5c"]) == 1
    # The registry accepts the JWT: the signature, x5c chain and claims all check out.
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert _get(f"{registry_token.url}/v2/", headers=bearer).status_code == 200


def test_token_server_refuses_post_so_clients_fall_back_to_get(
    registry_token: RegistryServer,
) -> None:
    token_server = registry_token.token_server
    assert token_server is not None
    response = _post(token_server.realm, data={"grant_type": "password"})
    assert response.status_code == 404
    assert registry_token.token_requests[-1].method == "POST"


# -- pushing


@pytest.mark.parametrize("media_type", ["oci", "docker"])
@pytest.mark.parametrize("mode", MODES)
def test_push_image_digest_matches_head(
    request: pytest.FixtureRequest,
    make_pusher: MakePusher,
    unique_repo: str,
    mode: str,
    media_type: registry_server.MediaFlavor,
) -> None:
    pusher = make_pusher(_server(request, mode))
    digest = pusher.push_image(unique_repo, "v1", media_type=media_type, arch="arm64", seed=7)
    head = pusher.head(unique_repo, "v1")
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == digest
    expected_type = OCI_MANIFEST if media_type == "oci" else DOCKER_MANIFEST
    assert head.headers["Content-Type"] == expected_type
    body = pusher.manifest_bytes(unique_repo, digest)
    assert sha256_digest(body) == digest
    assert pusher.tag_exists(unique_repo, "v1")
    assert not pusher.tag_exists(unique_repo, "v2")


def test_push_image_seed_decides_the_digest(pusher_anonymous: Pusher, unique_repo: str) -> None:
    first = pusher_anonymous.push_image(unique_repo, "a", seed="s")
    assert pusher_anonymous.push_image(unique_repo, "b", seed="s") == first
    assert pusher_anonymous.push_image(unique_repo, "c", seed="t") != first
    assert pusher_anonymous.push_image(unique_repo, "d") != pusher_anonymous.push_image(
        unique_repo, "e"
    )


@pytest.mark.parametrize(
    ("media_type", "index_type"), [("oci", OCI_INDEX), ("docker", DOCKER_LIST)]
)
def test_push_index_with_attestations(
    pusher_htpasswd: Pusher,
    unique_repo: str,
    media_type: registry_server.MediaFlavor,
    index_type: str,
) -> None:
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8")]
    digest, children = pusher_htpasswd.push_index(
        unique_repo, "multi", platforms, media_type=media_type, attestation=True
    )
    assert set(children) == {"linux/amd64", "linux/arm64/v8"}
    assert pusher_htpasswd.head_digest(unique_repo, "multi") == digest
    index = json.loads(pusher_htpasswd.manifest_bytes(unique_repo, "multi"))
    assert index["mediaType"] == index_type
    images, attestations = index["manifests"][:2], index["manifests"][2:]
    assert [m["digest"] for m in images] == list(children.values())
    assert images[1]["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    for child, attestation in zip(children.values(), attestations, strict=True):
        assert pusher_htpasswd.head_digest(unique_repo, child) == child
        assert attestation["platform"] == {"architecture": "unknown", "os": "unknown"}
        assert attestation["annotations"] == {
            "vnd.docker.reference.digest": child,
            "vnd.docker.reference.type": "attestation-manifest",
        }


def test_push_by_digest_only_leaves_no_tag(pusher_anonymous: Pusher, unique_repo: str) -> None:
    digest = pusher_anonymous.push_image(unique_repo, None)
    assert pusher_anonymous.head_digest(unique_repo, digest) == digest
    tags = _get(f"{pusher_anonymous.server.url}/v2/{unique_repo}/tags/list").json()
    assert not tags.get("tags")


@pytest.mark.parametrize("mode", MODES)
def test_delete_by_digest_then_404(
    request: pytest.FixtureRequest, make_pusher: MakePusher, unique_repo: str, mode: str
) -> None:
    pusher = make_pusher(_server(request, mode))
    digest = pusher.push_image(unique_repo, "gone")
    pusher.delete_manifest(unique_repo, digest)
    assert not pusher.tag_exists(unique_repo, "gone")
    assert pusher.head(unique_repo, digest).status_code == 404
    # The Pusher keeps working on the repository after the DELETE token.
    assert pusher.push_image(unique_repo, "back", seed=1)


# -- access log


def test_count_requests_counts_heads(pusher_anonymous: Pusher, unique_repo: str) -> None:
    server = pusher_anonymous.server
    digest = pusher_anonymous.push_image(unique_repo, "v1")
    mark = server.log_mark()
    for _ in range(3):
        _head(f"{server.url}/v2/{unique_repo}/manifests/v1", headers={"Accept": MANIFEST_ACCEPT})
    _head(f"{server.url}/v2/{unique_repo}/manifests/nope")
    assert server.count_requests("HEAD", f"/{unique_repo}/manifests/", since=mark) == 4
    assert server.count_requests("head", f"/{unique_repo}/manifests/v1", since=mark) == 3
    assert server.count_requests("HEAD", f"/{unique_repo}/", since=mark, status=404) == 1
    assert server.count_requests("GET", f"/{unique_repo}/", since=mark) == 0
    assert server.count_requests("PUT", f"/{unique_repo}/manifests/v1") == 1
    assert digest


def test_count_requests_in_token_mode_sees_the_401_round_trip(
    registry_token: RegistryServer, pusher_token: Pusher, unique_repo: str
) -> None:
    pusher_token.push_image(unique_repo, "v1")
    mark = registry_token.log_mark()
    with Pusher(registry_token) as fresh:  # no cached token yet
        assert fresh.head(unique_repo, "v1").status_code == 200
    path = f"/{unique_repo}/manifests/v1"
    assert registry_token.count_requests("HEAD", path, since=mark) == 2
    assert registry_token.count_requests("HEAD", path, since=mark, status=200) == 1


# -- skopeo, the independent client


@pytest.mark.skopeo
@pytest.mark.parametrize("mode", MODES)
def test_skopeo_inspect_digest(
    request: pytest.FixtureRequest,
    make_pusher: MakePusher,
    unique_repo: str,
    skopeo: str,
    mode: str,
) -> None:
    server = _server(request, mode)
    pusher = make_pusher(server)
    image = pusher.push_image(unique_repo, "single", media_type="docker")
    index, children = pusher.push_index(unique_repo, "multi", attestation=True)
    assert skopeo_inspect_digest(server, f"{unique_repo}:single") == image
    assert skopeo_inspect_digest(server, f"{unique_repo}:multi") == index
    child = children["linux/arm64/v8"]
    assert skopeo_inspect_digest(server, f"{unique_repo}@{child}") == child
    if mode == "token":
        # skopeo fetched its own tokens from the http realm, with our Basic credentials.
        assert any(r.authorization and r.status == 200 for r in server.token_requests)


@pytest.mark.skopeo
def test_skopeo_inspect_index_without_host_platform(
    pusher_anonymous: Pusher, unique_repo: str, skopeo: str
) -> None:
    # Plain `skopeo inspect` fails here ("no image found in image index for architecture amd64");
    # the helper passes --override-os/--override-arch from the index.
    platforms = [("linux", "s390x", None), ("linux", "arm64", "v8")]
    index, _ = pusher_anonymous.push_index(unique_repo, "foreign", platforms)
    assert skopeo_inspect_digest(pusher_anonymous.server, f"{unique_repo}:foreign") == index


@pytest.mark.skopeo
def test_skopeo_copy_pulls_everything(
    pusher_htpasswd: Pusher, unique_repo: str, skopeo: str, tmp_path: Path
) -> None:
    index, _ = pusher_htpasswd.push_index(unique_repo, "multi", attestation=True)
    skopeo_copy(
        pusher_htpasswd.server, f"{unique_repo}@{index}", tmp_path / "out", all_platforms=True
    )
    assert sha256_digest((tmp_path / "out" / "manifest.json").read_bytes()) == index


# -- lifecycle and helpers


def test_close_stops_the_registry_and_cleans_up() -> None:
    require_binary("docker-registry")
    server = RegistryServer("token").start()
    process, workdir, url = server.process, server.workdir, server.url
    assert process is not None and process.poll() is None
    assert server in registry_server._LIVE
    server.close()
    assert process.poll() is not None
    assert not workdir.exists()
    assert server not in registry_server._LIVE
    with pytest.raises(httpx.TransportError):
        _get(f"{url}/v2/", timeout=1.0)


def test_start_failure_reports_registry_stderr() -> None:
    require_binary("docker-registry")

    class Broken(RegistryServer):
        def _config(self, auth_block: dict[str, Any] | None) -> dict[str, Any]:
            config = super()._config(auth_block)
            config["storage"] = {"nosuchdriver": {}}
            return config

    with pytest.raises(RegistryStartError, match="nosuchdriver"):
        Broken().start()


def test_require_binary_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="bash tests/run"):
        require_binary("pinner-no-such-binary")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="bash tests/run"):
        require_binary("pinner-no-such-binary")

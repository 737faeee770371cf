"""Protocol tests: pytest-httpserver plays the registry and its token service on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pinner.errors import AuthError, RegistryError
from pinner.reference import Reference, parse_reference
from pinner.registry.client import ACCEPT, MANIFEST_LIMIT, RegistryClient
from pinner.registry.credentials import BasicCredential, Credential, IdentityToken, RegistryToken
from pinner.registry.errors import ImageAuthError, ImageLookupError, ImageNotFoundError
from pinner.registry.keychains import default_keychain
from pinner.registry.urls import base_url, check_url, plain_http_allowed
from pinner.settings import Settings
from tests.support.paths import FAKES

pytestmark = pytest.mark.usefixtures("docker_config")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}
).encode()
PASSWORD = "hunter2-very-secret"
GCLOUD_TOKEN = "ya29.gcloud-secret"
MANIFEST_PATH = "/v2/test/app/manifests/v1"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


DIGEST = digest_of(MANIFEST)
OTHER_DIGEST = "sha256:" + "0" * 64


class Keys:
    """A keychain with fixed answers, counting lookups."""

    def __init__(self, credentials: dict[str, Credential] | None = None) -> None:
        self.credentials = credentials or {}
        self.lookups: list[str] = []

    def resolve(self, registry: str) -> Credential | None:
        self.lookups.append(registry)
        return self.credentials.get(registry)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def host_of(server: HTTPServer) -> str:
    return f"{server.host}:{server.port}"


def ref_on(server: HTTPServer, rest: str = "test/app:v1") -> Reference:
    return parse_reference(f"{host_of(server)}/{rest}")


@pytest.fixture
def make_client(sleeps: Sleeps, clock: Clock) -> Iterator[object]:
    clients: list[RegistryClient] = []

    def make(keychain: object = None, **settings: object) -> RegistryClient:
        settings.setdefault("retries", 2)
        client = RegistryClient(
            Settings(**settings),  # type: ignore[arg-type]
            keychain if keychain is not None else Keys(),  # type: ignore[arg-type]
            sleep=sleeps,
            clock=clock,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    """A second server on 127.0.0.1: another host than the first one's ``localhost``."""
    server = HTTPServer(host="127.0.0.1")
    server.start()
    yield server
    server.clear()
    server.stop()


def serve_head(server: HTTPServer, *, digest: str | None = DIGEST, status: int = 200) -> None:
    headers = {"Content-Type": OCI_MANIFEST}
    if digest is not None:
        headers["Docker-Content-Digest"] = digest
    server.expect_request(MANIFEST_PATH, method="HEAD").respond_with_data(
        "", status=status, headers=headers
    )


def serve_get(server: HTTPServer, body: bytes = MANIFEST, **headers: str) -> None:
    server.expect_request(MANIFEST_PATH, method="GET").respond_with_data(
        body, headers={"Content-Type": OCI_MANIFEST, **headers}
    )


def requests(server: HTTPServer, path: str | None = None) -> list[Request]:
    return [request for request, _ in server.log if path is None or request.path == path]


def authorizations(server: HTTPServer, path: str | None = None) -> list[str | None]:
    """The Authorization header of each request to ``path`` (to any path by default)."""
    return [request.headers.get("Authorization") for request in requests(server, path)]


def bearer_challenge(server: HTTPServer, realm: str | None = None) -> str:
    realm = realm or f"http://{host_of(server)}/token"
    return f'Bearer realm="{realm}",service="test-registry",scope="repository:test/app:pull"'


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def serve_manifest_behind(server: HTTPServer, token: str) -> None:
    """The manifest answers a request bearing ``token``; any other meets the bearer challenge."""
    server.expect_request(
        MANIFEST_PATH, headers={"Authorization": f"Bearer {token}"}
    ).respond_with_data("", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST})
    server.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": bearer_challenge(server)}
    )


def serve_bearer_registry(server: HTTPServer, tokens: list[str], expires_in: int | None = None):
    """The manifest needs ``Bearer <one of tokens>``; /token hands them out in turn."""
    handed: list[str] = []

    def token(request: Request) -> Response:
        value = tokens[min(len(handed), len(tokens) - 1)]
        handed.append(value)
        body: dict[str, object] = {"token": value}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return Response(json.dumps(body), content_type="application/json")

    def manifest(request: Request) -> Response:
        if request.headers.get("Authorization") in {f"Bearer {t}" for t in handed[-1:]}:
            return Response(
                "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
            )
        return Response(
            json.dumps(
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            ),
            status=401,
            headers={"WWW-Authenticate": bearer_challenge(server)},
        )

    server.expect_request("/token").respond_with_handler(token)
    server.expect_request(MANIFEST_PATH.rsplit("/", 1)[0] + "/v1").respond_with_handler(manifest)
    for tag in ("v2", "v3", "v4"):
        server.expect_request(f"/v2/test/app/manifests/{tag}").respond_with_handler(manifest)
    return handed


# HEAD and GET


def test_head_digest(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver)
    assert make_client().resolve(ref_on(httpserver)) == DIGEST
    (head,) = requests(httpserver)
    assert head.method == "HEAD"
    assert head.headers.getlist("Accept") == [ACCEPT]
    for media_type in (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, "manifest.list.v2+json"):
        assert media_type in head.headers["Accept"]
    assert head.headers["Accept-Encoding"] == "identity"
    assert "Authorization" not in head.headers


def test_head_without_digest_falls_back_to_get(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest=None)
    serve_get(httpserver)
    assert make_client().resolve(ref_on(httpserver)) == DIGEST
    assert [r.method for r in requests(httpserver)] == ["HEAD", "GET"]


def test_head_with_invalid_digest_falls_back_to_get(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest="sha256:NOTHEX")
    serve_get(httpserver)
    assert make_client().resolve(ref_on(httpserver)) == DIGEST


@pytest.mark.parametrize("status", [405, 400, 501])
def test_head_not_allowed_falls_back_to_get(
    httpserver: HTTPServer, make_client, status: int
) -> None:
    serve_head(httpserver, digest=None, status=status)
    serve_get(httpserver, **{"Docker-Content-Digest": DIGEST})
    assert make_client().resolve(ref_on(httpserver)) == DIGEST
    assert [r.method for r in requests(httpserver)] == ["HEAD", "GET"]


def test_get_digest_is_of_the_exact_bytes(httpserver: HTTPServer, make_client) -> None:
    body = b'{"schemaVersion":2,   "mediaType":"%s","config":{},"layers":[]}\n' % (
        OCI_MANIFEST.encode()
    )
    serve_head(httpserver, status=405)
    serve_get(httpserver, body)
    assert make_client().resolve(ref_on(httpserver)) == digest_of(body)


def test_get_digest_mismatch_is_an_error(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest=None)
    serve_get(httpserver, **{"Docker-Content-Digest": OTHER_DIGEST})
    with pytest.raises(ImageLookupError, match="does not match") as caught:
        make_client().resolve(ref_on(httpserver))
    assert caught.value.image == f"{host_of(httpserver)}/test/app:v1"


def test_404_is_not_found_without_get(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest=None, status=404)
    serve_get(httpserver)
    with pytest.raises(ImageNotFoundError) as caught:
        make_client().resolve(ref_on(httpserver))
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value)
    assert "tag exist" in caught.value.hint
    assert [r.method for r in requests(httpserver)] == ["HEAD"]


def test_get_404_carries_the_registry_error_code(httpserver: HTTPServer, make_client) -> None:
    body = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
    httpserver.expect_request(MANIFEST_PATH).respond_with_json(body, status=404)
    with pytest.raises(ImageNotFoundError) as caught:
        make_client().fetch_manifest(ref_on(httpserver), "v1")
    assert (caught.value.status, caught.value.code) == (404, "MANIFEST_UNKNOWN")
    assert "(HTTP 404, MANIFEST_UNKNOWN)" in str(caught.value)


def test_403_gets_the_error_code_with_one_get(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest=None, status=403)
    httpserver.expect_request(MANIFEST_PATH, method="GET").respond_with_json(
        {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]},
        status=403,
    )
    with pytest.raises(ImageAuthError) as caught:
        make_client().resolve(ref_on(httpserver))
    error = caught.value
    assert (error.status, error.code) == (403, "DENIED")
    assert f"docker login {host_of(httpserver)}" in error.hint
    assert isinstance(error, AuthError)
    assert [r.method for r in requests(httpserver)] == ["HEAD", "GET"]


def test_429_is_retried_with_retry_after_then_fails(
    httpserver: HTTPServer, make_client, sleeps: Sleeps
) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "7"}
    )
    with pytest.raises(ImageLookupError) as caught:
        make_client(retries=3).resolve(ref_on(httpserver))
    assert caught.value.status == 429
    assert "rate limiting" in str(caught.value)
    assert sleeps == [7.0, 7.0, 7.0]
    assert len(requests(httpserver)) == 4


def test_429_then_success(httpserver: HTTPServer, make_client, sleeps: Sleeps) -> None:
    httpserver.expect_oneshot_request(MANIFEST_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    serve_head(httpserver)
    assert make_client().resolve(ref_on(httpserver)) == DIGEST
    assert sleeps == [0.0]


def test_retry_after_beyond_the_cap_is_not_waited_for(
    httpserver: HTTPServer, make_client, sleeps: Sleeps
) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=429, headers={"Retry-After": "21600"}
    )
    with pytest.raises(ImageLookupError):
        make_client().resolve(ref_on(httpserver))
    assert sleeps == []
    assert len(requests(httpserver)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried_with_backoff_then_fail(
    httpserver: HTTPServer, make_client, sleeps: Sleeps, status: int
) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data("", status=status)
    with pytest.raises(ImageLookupError) as caught:
        make_client(retries=3).resolve(ref_on(httpserver))
    assert caught.value.status == status
    assert len(requests(httpserver)) == 4
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 0.55 and 1.0 <= sleeps[1] <= 1.1 and 2.0 <= sleeps[2] <= 2.2


def test_connection_errors_are_retried_then_fail(make_client, sleeps: Sleeps) -> None:
    with pytest.raises(ImageLookupError, match=re.escape("cannot reach 127.0.0.1:9")) as caught:
        make_client().resolve(parse_reference("127.0.0.1:9/test/app:v1"))
    assert caught.value.status is None
    assert "network" in caught.value.hint
    assert len(sleeps) == 2


def test_schema1_is_refused(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "",
        headers={
            "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "Docker-Content-Digest": DIGEST,
        },
    )
    with pytest.raises(ImageLookupError, match="schema 1"):
        make_client().resolve(ref_on(httpserver))


def test_schema1_without_content_type_is_refused(httpserver: HTTPServer, make_client) -> None:
    serve_head(httpserver, digest=None, status=405)
    httpserver.expect_request(MANIFEST_PATH, method="GET").respond_with_data(
        json.dumps({"schemaVersion": 1, "name": "test/app", "tag": "v1", "fsLayers": []}),
        content_type="application/json",
    )
    with pytest.raises(ImageLookupError, match="schema 1"):
        make_client().resolve(ref_on(httpserver))


def test_unexpected_media_type_is_refused(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "<html>login</html>", content_type="text/html"
    )
    with pytest.raises(ImageLookupError, match="text/html"):
        make_client().resolve(ref_on(httpserver))


def test_content_type_must_agree_with_the_body(httpserver: HTTPServer, make_client) -> None:
    serve_get(httpserver, MANIFEST, **{"Content-Type": DOCKER_MANIFEST})
    with pytest.raises(ImageLookupError, match="Content-Type"):
        make_client().fetch_manifest(ref_on(httpserver), "v1")


def test_manifest_size_is_capped(httpserver: HTTPServer, make_client) -> None:
    serve_get(httpserver, b" " * (MANIFEST_LIMIT + 1))
    with pytest.raises(ImageLookupError, match="larger than"):
        make_client().fetch_manifest(ref_on(httpserver), "v1")


def test_digest_pinned_reference_is_verified(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(f"/v2/test/app/manifests/{DIGEST}").respond_with_data(
        "", headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST}
    )
    httpserver.expect_request(f"/v2/test/app/manifests/{OTHER_DIGEST}").respond_with_data(
        "", headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST}
    )
    client = make_client()
    assert client.resolve(ref_on(httpserver, f"test/app@{DIGEST}")) == DIGEST
    with pytest.raises(ImageLookupError, match="another digest"):
        client.resolve(ref_on(httpserver, f"test/app:v1@{OTHER_DIGEST}"))


def test_fetch_manifest_by_digest_checks_the_body(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(f"/v2/test/app/manifests/{OTHER_DIGEST}").respond_with_data(
        MANIFEST, content_type=OCI_MANIFEST
    )
    httpserver.expect_request(f"/v2/test/app/manifests/{DIGEST}").respond_with_data(
        MANIFEST, content_type=OCI_MANIFEST
    )
    client = make_client()
    assert client.fetch_manifest(ref_on(httpserver), DIGEST) == (OCI_MANIFEST, MANIFEST, DIGEST)
    with pytest.raises(ImageLookupError, match="requested digest"):
        client.fetch_manifest(ref_on(httpserver), OTHER_DIGEST)


def test_manifest_exists(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(f"/v2/test/app/manifests/{DIGEST}", method="HEAD").respond_with_data(
        "", headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": DIGEST}
    )
    httpserver.expect_request(f"/v2/test/app/manifests/{OTHER_DIGEST}").respond_with_data(
        "", status=404
    )
    client = make_client()
    assert client.manifest_exists(ref_on(httpserver), DIGEST) is True
    assert client.manifest_exists(ref_on(httpserver), OTHER_DIGEST) is False


def test_platform_picks_the_child_of_an_index(httpserver: HTTPServer, make_client) -> None:
    arm = "sha256:" + "a" * 64
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:" + "b" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": arm,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
            ],
        }
    ).encode()
    httpserver.expect_request(MANIFEST_PATH, method="GET").respond_with_data(
        index, content_type=OCI_INDEX
    )
    client = make_client()
    assert client.resolve(ref_on(httpserver), platform="linux/arm64") == arm
    assert make_client(platform="linux/aarch64").resolve(ref_on(httpserver)) == arm
    with pytest.raises(ImageLookupError, match="linux/amd64, linux/arm64"):
        client.resolve(ref_on(httpserver), platform="linux/s390x")


def test_platform_on_a_single_manifest_returns_its_digest(
    httpserver: HTTPServer, make_client
) -> None:
    serve_get(httpserver)
    assert make_client().resolve(ref_on(httpserver), platform="linux/amd64") == DIGEST


# challenges and tokens


def test_bearer_anonymous(httpserver: HTTPServer, make_client) -> None:
    serve_bearer_registry(httpserver, ["anon-token"])
    keys = Keys()
    assert make_client(keys).resolve(ref_on(httpserver)) == DIGEST
    (token_request,) = requests(httpserver, "/token")
    assert parse_qs(token_request.query_string.decode()) == {
        "scope": ["repository:test/app:pull"],
        "service": ["test-registry"],
    }
    assert "Authorization" not in token_request.headers
    assert (
        "Accept" not in token_request.headers or "manifest" not in token_request.headers["Accept"]
    )
    last = requests(httpserver, MANIFEST_PATH)[-1]
    assert last.headers["Authorization"] == "Bearer anon-token"
    assert keys.lookups == [host_of(httpserver)]


def test_bearer_with_basic_credentials_to_the_realm(httpserver: HTTPServer, make_client) -> None:
    serve_bearer_registry(httpserver, ["user-token"])
    keys = Keys({host_of(httpserver): BasicCredential("me", PASSWORD)})
    assert make_client(keys).resolve(ref_on(httpserver)) == DIGEST
    (token_request,) = requests(httpserver, "/token")
    assert token_request.headers["Authorization"] == basic("me", PASSWORD)
    for request in requests(httpserver, MANIFEST_PATH):
        assert request.headers.get("Authorization") in (None, "Bearer user-token")


def test_access_token_without_token_field(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/token").respond_with_json({"access_token": "oauth-style"})
    serve_manifest_behind(httpserver, "oauth-style")
    assert make_client().resolve(ref_on(httpserver)) == DIGEST


def test_basic_challenge_sends_credentials_directly(httpserver: HTTPServer, make_client) -> None:
    auth = basic("me", PASSWORD)
    httpserver.expect_request(MANIFEST_PATH, headers={"Authorization": auth}).respond_with_data(
        "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
    )
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="basic-realm"'}
    )
    client = make_client(Keys({host_of(httpserver): BasicCredential("me", PASSWORD)}))
    assert client.resolve(ref_on(httpserver)) == DIGEST
    assert client.resolve(ref_on(httpserver)) == DIGEST
    # Once the scheme is known, credentials go with the first request.
    assert authorizations(httpserver) == [None, auth, auth]


def test_basic_challenge_without_credentials_fails_with_hint(
    httpserver: HTTPServer, make_client
) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="basic-realm"'}
    )
    with pytest.raises(ImageAuthError) as caught:
        make_client().resolve(ref_on(httpserver))
    error = caught.value
    assert error.status == 401
    assert "anonymous access" in error.cause
    assert f"`docker login {host_of(httpserver)}`" in error.hint
    assert len(requests(httpserver)) == 1


def test_token_service_refusing_anonymous(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/token").respond_with_json(
        {
            "errors": [
                {
                    "code": "UNAUTHORIZED",
                    "message": "access to the requested resource is not authorized",
                }
            ]
        },
        status=401,
    )
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": bearer_challenge(httpserver)}
    )
    with pytest.raises(ImageAuthError) as caught:
        make_client().resolve(ref_on(httpserver))
    error = caught.value
    assert (error.status, error.code) == (401, "UNAUTHORIZED")
    assert "token service" in error.cause
    assert "docker login" in error.hint


def test_one_token_for_many_resolves(httpserver: HTTPServer, make_client) -> None:
    handed = serve_bearer_registry(httpserver, ["t1", "t2"], expires_in=300)
    client = make_client()
    for tag in ("v1", "v2", "v3", "v4", "v1"):
        assert client.resolve(ref_on(httpserver, f"test/app:{tag}")) == DIGEST
    assert handed == ["t1"]
    # The first lookup met the challenge; the others sent the cached token straight away.
    assert len(requests(httpserver)) == 1 + 1 + 1 + 4


def test_new_token_after_expiry(httpserver: HTTPServer, make_client, clock: Clock) -> None:
    handed = serve_bearer_registry(httpserver, ["t1", "t2"], expires_in=300)
    client = make_client()
    client.resolve(ref_on(httpserver))
    clock.now += 200
    client.resolve(ref_on(httpserver))
    assert handed == ["t1"]
    clock.now += 100
    client.resolve(ref_on(httpserver))
    assert handed == ["t1", "t2"]


def test_expires_in_defaults_to_60(httpserver: HTTPServer, make_client, clock: Clock) -> None:
    handed = serve_bearer_registry(httpserver, ["t1", "t2"])
    client = make_client()
    client.resolve(ref_on(httpserver))
    clock.now += 45
    client.resolve(ref_on(httpserver))
    clock.now += 15
    client.resolve(ref_on(httpserver))
    assert handed == ["t1", "t2"]


def test_refresh_once_on_a_new_401(httpserver: HTTPServer, make_client) -> None:
    valid = ["t1"]
    handed: list[str] = []

    def token(request: Request) -> Response:
        handed.append(valid[0])
        return Response(json.dumps({"token": valid[0], "expires_in": 3600}))

    def manifest(request: Request) -> Response:
        if request.headers.get("Authorization") == f"Bearer {valid[0]}":
            return Response(
                "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
            )
        return Response("", status=401, headers={"WWW-Authenticate": bearer_challenge(httpserver)})

    httpserver.expect_request("/token").respond_with_handler(token)
    httpserver.expect_request(MANIFEST_PATH).respond_with_handler(manifest)
    client = make_client()
    assert client.resolve(ref_on(httpserver)) == DIGEST
    valid[0] = "t2"  # say the registry restarted with a new signing key
    assert client.resolve(ref_on(httpserver)) == DIGEST
    assert handed == ["t1", "t2"]
    sent = authorizations(httpserver, MANIFEST_PATH)
    assert sent == [None, "Bearer t1", "Bearer t1", "Bearer t2"]


def test_refresh_is_tried_once_only(httpserver: HTTPServer, make_client) -> None:
    tokens = iter(["t1", "t2", "t3", "t4"])
    httpserver.expect_request("/token").respond_with_handler(
        lambda request: Response(json.dumps({"token": next(tokens)}))
    )
    httpserver.expect_oneshot_request(
        MANIFEST_PATH, headers={"Authorization": "Bearer t1"}
    ).respond_with_data("", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST})
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "",
        status=401,
        headers={"WWW-Authenticate": bearer_challenge(httpserver) + ',error="invalid_token"'},
    )
    client = make_client()
    assert client.resolve(ref_on(httpserver)) == DIGEST
    # t1 is now refused: one new token (t2), refused too, and the lookup fails.
    with pytest.raises(ImageAuthError) as caught:
        client.resolve(ref_on(httpserver))
    assert caught.value.status == 401
    assert len(requests(httpserver, "/token")) == 2
    sent = authorizations(httpserver, MANIFEST_PATH)
    assert sent == [None, "Bearer t1", "Bearer t1", "Bearer t2"]


def test_identity_token_uses_the_oauth2_post(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "from-refresh", "expires_in": 600}
    )
    serve_manifest_behind(httpserver, "from-refresh")
    keys = Keys({host_of(httpserver): IdentityToken("<token>", PASSWORD)})
    assert make_client(keys).resolve(ref_on(httpserver)) == DIGEST
    (post,) = requests(httpserver, "/token")
    form = parse_qs(post.get_data(as_text=True))
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [PASSWORD]
    assert form["service"] == ["test-registry"]
    assert form["scope"] == ["repository:test/app:pull"]
    assert form["client_id"] == ["pinner"]
    assert "Authorization" not in post.headers


def test_identity_token_falls_back_to_get_on_404(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/token", method="POST").respond_with_data("", status=404)
    httpserver.expect_request("/token", method="GET").respond_with_json({"token": "via-get"})
    serve_manifest_behind(httpserver, "via-get")
    keys = Keys({host_of(httpserver): IdentityToken("<token>", PASSWORD)})
    assert make_client(keys).resolve(ref_on(httpserver)) == DIGEST
    get = requests(httpserver, "/token")[-1]
    assert get.method == "GET"
    assert get.headers["Authorization"] == basic("<token>", PASSWORD)


def test_registry_token_is_sent_as_bearer(httpserver: HTTPServer, make_client) -> None:
    serve_manifest_behind(httpserver, "direct-token")
    keys = Keys({host_of(httpserver): RegistryToken("direct-token")})
    assert make_client(keys).resolve(ref_on(httpserver)) == DIGEST
    assert requests(httpserver, "/token") == []


def test_token_body_size_is_capped(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/token").respond_with_data(b" " * (64 * 1024 + 1))
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": bearer_challenge(httpserver)}
    )
    with pytest.raises(ImageLookupError, match="larger than 65536 bytes"):
        make_client().resolve(ref_on(httpserver))


# credential sources end to end


@pytest.fixture
def fake_bin(fake_bin: Path) -> Path:
    """The shared PATH of fakes (tests/conftest.py), with every fake linked in."""
    for fake in FAKES.iterdir():
        (fake_bin / fake.name).symlink_to(fake)
    return fake_bin


def realm_authorization(server: HTTPServer) -> list[str | None]:
    return authorizations(server, "/token")


def realm_authorization_of_a_lookup(server: HTTPServer) -> list[str | None]:
    """Resolve an image on a bearer registry with the machine's logins (no keychain given):
    what the token realm was sent."""
    serve_bearer_registry(server, ["t"])
    with RegistryClient(Settings(retries=0)) as client:
        assert client.resolve(ref_on(server)) == DIGEST
    return realm_authorization(server)


def test_docker_config_credentials_reach_the_realm(httpserver: HTTPServer, tmp_path: Path) -> None:
    (tmp_path / "docker" / "config.json").write_text(
        json.dumps({"auths": {host_of(httpserver): {"username": "cfg", "password": PASSWORD}}})
    )
    assert realm_authorization_of_a_lookup(httpserver) == [basic("cfg", PASSWORD)]


def test_credential_helper_reaches_the_realm(
    httpserver: HTTPServer, tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", host_of(httpserver))
    monkeypatch.setenv("FAKE_HELPER_USER", "helper")
    monkeypatch.setenv("FAKE_HELPER_SECRET", PASSWORD)
    (tmp_path / "docker" / "config.json").write_text(
        json.dumps({"credHelpers": {host_of(httpserver): "fake"}})
    )
    assert realm_authorization_of_a_lookup(httpserver) == [basic("helper", PASSWORD)]


def test_gcloud_token_reaches_the_realm_once_per_run(
    httpserver: HTTPServer, tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "gcloud.log"
    monkeypatch.setenv("FAKE_GCLOUD_LOG", str(log))
    monkeypatch.setenv("FAKE_GCLOUD_TOKEN", GCLOUD_TOKEN)
    serve_bearer_registry(httpserver, ["t"])
    httpserver.expect_request("/v2/other/app/manifests/v1").respond_with_data(
        "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
    )
    settings = Settings(retries=0, gcloud_hosts=frozenset({host_of(httpserver)}))
    with RegistryClient(settings) as client:
        for rest in ("test/app:v1", "test/app:v2", "other/app:v1", "test/app:v3"):
            assert client.resolve(ref_on(httpserver, rest)) == DIGEST
    assert set(realm_authorization(httpserver)) == {basic("oauth2accesstoken", GCLOUD_TOKEN)}
    assert log.read_text().splitlines() == ["auth print-access-token --quiet"]


def test_gcloud_without_account_still_resolves_public_images(
    httpserver: HTTPServer, tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_GCLOUD_MODE", "noaccount")
    serve_bearer_registry(httpserver, ["anonymous"])
    settings = Settings(retries=0, gcloud_hosts=frozenset({host_of(httpserver)}))
    with RegistryClient(settings) as client:
        assert client.resolve(ref_on(httpserver)) == DIGEST
    assert realm_authorization(httpserver) == [None]


def test_gcloud_without_account_explains_a_refusal(
    httpserver: HTTPServer, tmp_path: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_GCLOUD_MODE", "noaccount")
    httpserver.expect_request("/token").respond_with_json(
        {"errors": [{"code": "DENIED", "message": "Unauthenticated request."}]}, status=403
    )
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": bearer_challenge(httpserver)}
    )
    settings = Settings(retries=0, gcloud_hosts=frozenset({host_of(httpserver)}))
    with RegistryClient(settings) as client, pytest.raises(ImageAuthError) as caught:
        client.resolve(ref_on(httpserver))
    error = caught.value
    assert (error.status, error.code) == (403, "DENIED")
    assert "gcloud has no active account" in str(error)
    assert "`gcloud auth login`" in error.hint


# redirects and plain http


def test_redirect_to_another_host_drops_authorization(
    httpserver: HTTPServer, other_server: HTTPServer, make_client
) -> None:
    auth = basic("me", PASSWORD)
    target = f"http://{host_of(other_server)}/elsewhere"
    httpserver.expect_request(MANIFEST_PATH, headers={"Authorization": auth}).respond_with_data(
        "", status=307, headers={"Location": target}
    )
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'}
    )
    other_server.expect_request("/elsewhere").respond_with_data(
        "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
    )
    client = make_client(Keys({host_of(httpserver): BasicCredential("me", PASSWORD)}))
    assert client.resolve(ref_on(httpserver)) == DIGEST
    assert requests(httpserver)[-1].headers["Authorization"] == auth
    (redirected,) = requests(other_server)
    assert "Authorization" not in redirected.headers
    assert redirected.method == "HEAD"


def test_relative_redirect_on_the_same_host_keeps_authorization(
    httpserver: HTTPServer, make_client
) -> None:
    auth = basic("me", PASSWORD)
    httpserver.expect_request("/moved", headers={"Authorization": auth}).respond_with_data(
        MANIFEST, content_type=OCI_MANIFEST
    )
    httpserver.expect_request(MANIFEST_PATH, headers={"Authorization": auth}).respond_with_data(
        "", status=302, headers={"Location": "/moved"}
    )
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'}
    )
    client = make_client(Keys({host_of(httpserver): BasicCredential("me", PASSWORD)}))
    assert client.fetch_manifest(ref_on(httpserver), "v1").digest == DIGEST


def test_redirect_loops_stop(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "", status=302, headers={"Location": MANIFEST_PATH}
    )
    with pytest.raises(ImageLookupError, match="redirected more than 5 times"):
        make_client().resolve(ref_on(httpserver))
    assert len(requests(httpserver)) == 6


def mock_client(handler, sleeps: Sleeps, **settings: object) -> RegistryClient:
    return RegistryClient(
        Settings(retries=0, **settings),  # type: ignore[arg-type]
        Keys({"registry.example": BasicCredential("me", PASSWORD)}),
        transport=httpx.MockTransport(handler),
        sleep=sleeps,
    )


def test_https_to_http_downgrade_is_refused(sleeps: Sleeps) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://registry.example/v2/x"})

    client = mock_client(handler, sleeps)
    with pytest.raises(ImageLookupError, match="https to plain http"):
        client.resolve(parse_reference("registry.example/test/app:v1"))
    assert seen == ["https://registry.example/v2/test/app/manifests/v1"]


def test_urls_and_plain_http_policy() -> None:
    none: frozenset[str] = frozenset()
    assert base_url("registry.example", none) == "https://registry.example"
    assert base_url("registry.example:5000", frozenset({"registry.example:5000"})) == (
        "http://registry.example:5000"
    )
    assert base_url("10.0.0.1:5000", frozenset({"10.0.0.1"})).startswith("http://")
    for loopback in ("localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000", "localhost"):
        assert plain_http_allowed(loopback, none), loopback
    for remote in ("registry.example", "10.0.0.1:5000", "[fe80::1]:5000", "localhost.evil.com"):
        assert not plain_http_allowed(remote, none), remote
    check_url(httpx.URL("http://127.0.0.1:5000/v2/"), none)
    check_url(httpx.URL("https://registry.example/v2/"), none)
    with pytest.raises(ImageLookupError, match="refusing plain http"):
        check_url(httpx.URL("http://registry.example/v2/"), none)
    check_url(httpx.URL("http://registry.example/v2/"), frozenset({"registry.example"}))
    with pytest.raises(ImageLookupError, match="scheme"):
        check_url(httpx.URL("file:///etc/passwd"), none)


def test_plain_http_realm_is_refused_for_a_remote_registry(sleeps: Sleeps) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": 'Bearer realm="http://auth.example/token",service="s"'},
        )

    with pytest.raises(ImageLookupError, match="plain-http token realm"):
        mock_client(handler, sleeps).resolve(parse_reference("registry.example/test/app:v1"))
    assert all(url.startswith("https://registry.example/") for url in seen)


def test_credentials_never_go_over_plain_http_to_remote_hosts(sleeps: Sleeps) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    client = mock_client(handler, sleeps, insecure_registries=frozenset({"registry.example"}))
    with pytest.raises(ImageAuthError, match="over plain http"):
        client.resolve(parse_reference("registry.example/test/app:v1"))
    assert [str(r.url) for r in seen] == ["http://registry.example/v2/test/app/manifests/v1"]
    assert all("authorization" not in r.headers for r in seen)


def test_docker_hub_host_and_library_prefix(sleeps: Sleeps) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(
            200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_INDEX}
        )

    client = mock_client(handler, sleeps)
    assert client.resolve(parse_reference("nginx:1.25")) == DIGEST
    assert client.resolve(parse_reference("index.docker.io/bitnami/redis")) == DIGEST
    assert seen == [
        "https://registry-1.docker.io/v2/library/nginx/manifests/1.25",
        "https://registry-1.docker.io/v2/bitnami/redis/manifests/latest",
    ]


def test_mirror(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/v2/library/nginx/manifests/1.25").respond_with_data(
        "", headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_INDEX}
    )
    keys = Keys()
    client = make_client(keys, mirrors=(("docker.io", host_of(httpserver)),))
    assert client.resolve(parse_reference("nginx:1.25")) == DIGEST
    assert client.endpoint("docker.io").host == host_of(httpserver)


# tag lists


def test_list_tags_follows_links_and_keeps_google_manifests(
    httpserver: HTTPServer, make_client
) -> None:
    path = "/v2/test/app/tags/list"
    httpserver.expect_request(path, query_string="n=1000").respond_with_json(
        {"name": "test/app", "tags": ["a", "b"]},
        headers={"Link": f'<{path}?n=1000&last=b>; rel="next"'},
    )
    httpserver.expect_request(path, query_string="n=1000&last=b").respond_with_json(
        {
            "name": "test/app",
            "tags": ["c"],
            "manifest": {
                DIGEST: {
                    "mediaType": OCI_MANIFEST,
                    "tag": ["c"],
                    "imageSizeBytes": "1",
                    "timeCreatedMs": "0",
                }
            },
        }
    )
    tags = make_client().list_tags(ref_on(httpserver))
    assert tags.tags == ("a", "b", "c")
    assert tags.manifests[DIGEST] == (OCI_MANIFEST, ("c",))


def test_list_tags_refuses_links_to_other_hosts(httpserver: HTTPServer, make_client) -> None:
    httpserver.expect_request("/v2/test/app/tags/list").respond_with_json(
        {"tags": ["a"]}, headers={"Link": '<https://evil.example/v2/x?last=a>; rel="next"'}
    )
    with pytest.raises(ImageLookupError, match="another host"):
        make_client().list_tags(ref_on(httpserver))


# secrets


def test_secrets_never_appear_in_errors_or_logs(
    httpserver: HTTPServer, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_token = "tok-XYZ-secret"
    auth_field = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
    httpserver.expect_request("/token").respond_with_json({"token": secret_token})
    httpserver.expect_request(MANIFEST_PATH).respond_with_data(
        "",
        status=401,
        headers={"WWW-Authenticate": bearer_challenge(httpserver) + ',error="insufficient_scope"'},
    )
    errors: list[RegistryError] = []
    for credential in (
        BasicCredential("me", PASSWORD),
        IdentityToken("<token>", PASSWORD),
        RegistryToken(PASSWORD),
    ):
        client = make_client(Keys({host_of(httpserver): credential}))
        with pytest.raises(RegistryError) as caught:
            client.resolve(ref_on(httpserver))
        errors.append(caught.value)
        assert PASSWORD not in repr(credential)
    for error in errors:
        for text in (str(error), repr(error), error.args[0]):
            for secret in (PASSWORD, secret_token, auth_field):
                assert secret not in text
    assert caplog.records
    for secret in (PASSWORD, secret_token, auth_field):
        assert secret not in caplog.text


def test_private_realm_is_allowed_for_a_private_registry(sleeps: Sleeps) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.host}:{request.url.port}{request.url.path}")
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "t"})
        if request.headers.get("authorization") == "Bearer t":
            return httpx.Response(
                200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": OCI_MANIFEST}
            )
        return httpx.Response(
            401, headers={"WWW-Authenticate": 'Bearer realm="https://10.1.2.3:5001/token"'}
        )

    client = mock_client(handler, sleeps)
    assert client.resolve(parse_reference("10.1.2.3:5000/test/app:v1")) == DIGEST
    assert seen[1] == "GET 10.1.2.3:5001/token"


def test_keychain_errors_name_the_image(tmp_path: Path, make_client) -> None:
    (tmp_path / "docker" / "config.json").write_text("{not json", encoding="utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    client = RegistryClient(
        Settings(retries=0), default_keychain(), transport=httpx.MockTransport(handler)
    )
    with pytest.raises(ImageAuthError) as caught:
        client.resolve(parse_reference("registry.example/test/app:v1"))
    assert caught.value.image == "registry.example/test/app:v1"
    assert "cannot be read" in str(caught.value)
    assert caught.value.hint == "Fix or remove the docker config."

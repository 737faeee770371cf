"""A real registry for tests: Debian's `docker-registry` (distribution 2.8.2) on 127.0.0.1.

`RegistryServer` runs the registry with anonymous, htpasswd or token auth (the token server is
implemented here), `Pusher` uploads tiny images and indexes through the distribution API with
httpx, and the `skopeo_*` helpers let an independent client check what we pushed or pinned.
See REGISTRY.md §6 for the verified registry behaviour this module relies on.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import datetime
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tests.support.closing import ClosedOnExit
from tests.support.tls import ServerCertificate, issue_certificate

AuthMode = Literal["anonymous", "htpasswd", "token"]
MediaFlavor = Literal["oci", "docker"]
Platform = tuple[str, str, str | None]  # (os, architecture, variant)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"

# One Accept header with all four types: anything less makes distribution 2.8.2 answer with a
# different manifest or a 404 (REGISTRY.md §2.1, trap T1).
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

DEFAULT_PLATFORMS: tuple[Platform, ...] = (
    ("linux", "amd64", None),
    ("linux", "arm64", "v8"),
    ("linux", "arm", "v7"),
)

# Which Debian package provides each binary, for the "how to get it" message.
_PACKAGES = {
    "docker-registry": "docker-registry",
    "htpasswd": "apache2-utils",
    "skopeo": "skopeo",
    "pipx": "pipx",
}

STARTUP_TIMEOUT = 15.0
SKOPEO_TIMEOUT = 30.0


def require_binary(name: str) -> str:
    """Return the path of `name`; skip the test without it, or fail it when CI=true."""
    path = shutil.which(name)
    if path is not None:
        return path
    package = _PACKAGES.get(name, name)
    message = (
        f"{name!r} is not installed (Debian package {package!r}); run the tests with "
        "`bash tests/run` as the README says, which installs it"
    )
    # In CI a missing binary means the real-registry tests silently stopped running: fail loudly.
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def platform_string(platform: Platform) -> str:
    os_name, arch, variant = platform
    return f"{os_name}/{arch}/{variant}" if variant else f"{os_name}/{arch}"


# ---------------------------------------------------------------------------------------------
# Process hygiene: a registry must never outlive the test run.

_LIVE: set[RegistryServer] = set()
_LIBC: Any = None
if sys.platform == "linux":
    with contextlib.suppress(OSError):
        _LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec. atexit does not run if pytest is SIGKILLed, so also ask the
    # kernel to SIGTERM the registry when its parent goes away. libc is loaded in the parent
    # because loading libraries between fork and exec is unsafe with threads around.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _close_all_live() -> None:
    for server in list(_LIVE):
        server.close()


atexit.register(_close_all_live)


def _free_port() -> int:
    # The port can be taken again before the registry binds it; start() retries on conflict.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# Token server


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _self_signed_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinner test token issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def parse_scopes(values: Iterable[str]) -> list[dict[str, Any]]:
    """`repository:<name>:pull,push` values (repeated, or space-separated) → JWT `access`."""
    access: list[dict[str, Any]] = []
    for value in values:
        for scope in value.split():
            resource_type, _, rest = scope.partition(":")
            # The name may hold a `:` (a registry port), so the actions come off the right.
            name, _, actions = rest.rpartition(":")
            if not resource_type or not name:
                continue
            access.append(
                {
                    "type": resource_type,
                    "name": name,
                    "actions": [a for a in actions.split(",") if a],
                }
            )
    return access


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT, for assertions in tests."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@dataclass(frozen=True)
class TokenRequest:
    """One request the token server saw."""

    method: str
    path: str
    query: str
    params: dict[str, list[str]]
    authorization: bool  # an Authorization header was present (valid or not)
    status: int


class _TokenHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    token_server: TokenServer


class _TokenHandler(BaseHTTPRequestHandler):
    server: _TokenHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(
            self.server.token_server.handle_get(self.path, self.headers.get("Authorization"))
        )

    def do_POST(self) -> None:
        # The OAuth2 POST flow is not offered; a 404 is the signal for clients (ggcr `Refresh`)
        # to fall back to GET with Basic credentials.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        token_server = self.server.token_server
        token_server.record("POST", self.path, self.headers.get("Authorization"), 404)
        self._answer((404, {"Content-Type": "application/json"}, b'{"error":"not found"}'))

    def _answer(self, answer: tuple[int, dict[str, str], bytes]) -> None:
        status, headers, body = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; requests are recorded in TokenServer.requests


class TokenServer:
    """A minimal distribution token server: Basic credentials in, ES256 JWT (x5c header) out.

    Grants whatever scopes were asked for. Tests may change `expires_in`, `token_fields` or
    `anonymous_pull` on a live server to imitate other registries' token endpoints.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        username: str,
        password: str,
        service: str = "pinner-test-registry",
        issuer: str = "pinner-test-issuer",
        anonymous_pull: bool = False,
        certificate: ServerCertificate | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.service = service
        self.issuer = issuer
        self.anonymous_pull = anonymous_pull
        self.expires_in: int | None = 300
        self.token_fields: tuple[str, ...] = ("token", "access_token")
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._cert = _self_signed_cert(self._key)
        self.bundle_path = workdir / "token-rootcertbundle.pem"
        self.bundle_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._httpd = _TokenHTTPServer(("127.0.0.1", 0), _TokenHandler)
        self._httpd.token_server = self
        self.port = int(self._httpd.server_address[1])
        self.realm = f"http://127.0.0.1:{self.port}/token"
        if certificate is not None:
            # Served under the registry's own name, as ACR serves /oauth2/token.
            context = certificate.server_context()
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.realm = f"https://{certificate.names[0]}:{self.port}/token"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="pinner-token-server", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def record(self, method: str, target: str, authorization: str | None, status: int) -> None:
        parts = urlsplit(target)
        request = TokenRequest(
            method=method,
            path=parts.path,
            query=parts.query,
            params=parse_qs(parts.query, keep_blank_values=True),
            authorization=authorization is not None,
            status=status,
        )
        with self._lock:
            self.requests.append(request)

    def handle_get(
        self, target: str, authorization: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = self._respond(target, authorization)
        self.record("GET", target, authorization, status)
        return status, headers, body

    def _respond(self, target: str, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        json_type = {"Content-Type": "application/json"}
        parts = urlsplit(target)
        if parts.path != "/token":
            return 404, json_type, b'{"error":"not found"}'
        subject = self._authenticate(authorization)
        if subject is None:
            challenge = {**json_type, "WWW-Authenticate": 'Basic realm="pinner-token"'}
            return 401, challenge, b'{"details":"incorrect username or password"}'
        access = parse_scopes(parse_qs(parts.query).get("scope", []))
        if not subject:  # anonymous: pull only, like Docker Hub for public repositories
            access = [{**a, "actions": [x for x in a["actions"] if x == "pull"]} for a in access]
        return 200, json_type, _compact_json(self._token_body(self.issue(subject, access)))

    def _authenticate(self, authorization: str | None) -> str | None:
        """The subject ("" for anonymous), or None when the request must get a 401."""
        if authorization is None:
            return "" if self.anonymous_pull else None
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        ok = secrets.compare_digest(user, self.username) and secrets.compare_digest(
            password, self.password
        )
        return user if ok else None

    def _token_body(self, token: str) -> dict[str, Any]:
        body: dict[str, Any] = {name: token for name in self.token_fields}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        body["issued_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        return body

    def issue(self, subject: str, access: list[dict[str, Any]], *, lifetime: int = 300) -> str:
        """A JWT the registry accepts (distribution `registry/auth/token/token.go`)."""
        now = int(time.time())
        der_cert = self._cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der_cert).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + lifetime,
            "nbf": now,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(_compact_json(header))}.{_b64url(_compact_json(claims))}"
        r, s = decode_dss_signature(
            self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        # JWS ES256 wants the raw 64-byte r||s, not the DER signature cryptography returns.
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# ---------------------------------------------------------------------------------------------
# Registry server


class RegistryStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class AccessLogEntry:
    method: str
    path: str  # the request target, query included
    status: int
    line: str


# gorilla/handlers CombinedLoggingHandler (Apache combined format), written to the registry's
# stdout when `log.accesslog.disabled` is false, regardless of `log.level`.
_ACCESS_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) ')
_SYNC_PREFIX = "/pinner-log-sync/"


class RegistryServer(ClosedOnExit):
    """`docker-registry serve` on 127.0.0.1 with a temporary config and storage.

    Use as a context manager, or call start() and close(). Every request is in the access log;
    see count_requests() and log_mark().
    """

    def __init__(
        self,
        auth: AuthMode = "anonymous",
        *,
        username: str = "pinner",
        password: str = "pinner-s3cret",
        token_anonymous_pull: bool = False,
        startup_timeout: float = STARTUP_TIMEOUT,
        tls_names: tuple[str, ...] = (),
    ) -> None:
        if auth not in ("anonymous", "htpasswd", "token"):
            raise ValueError(f"unknown auth mode {auth!r}")
        self.auth: AuthMode = auth
        self.username: str | None = None if auth == "anonymous" else username
        self.password: str | None = None if auth == "anonymous" else password
        self.startup_timeout = startup_timeout
        self.token_server: TokenServer | None = None
        self.port = 0
        self._token_anonymous_pull = token_anonymous_pull
        # With names: https with a certificate for them (tests/support/tls.py).
        self.tls_names = tls_names
        self.certificate: ServerCertificate | None = None
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._files: list[BinaryIO] = []

    # -- addresses and credentials

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_names else 'http'}://{self.host}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What an httpx client needs to trust this server."""
        return True if self.certificate is None else self.certificate.client_context()

    @property
    def credentials(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    @property
    def token_requests(self) -> list[TokenRequest]:
        return [] if self.token_server is None else self.token_server.requests

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._process

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("registry not started")
        return self._workdir

    @property
    def access_log_path(self) -> Path:
        return self.workdir / "access.log"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "stderr.log"

    def stderr_text(self) -> str:
        """What the registry wrote to stderr (logrus, level warn); "" once closed."""
        try:
            return self.stderr_path.read_text(errors="replace")
        except (RuntimeError, FileNotFoundError):
            return ""

    # -- lifecycle (`with RegistryServer(...)` starts it and closes it: ClosedOnExit)

    def start(self) -> RegistryServer:
        if self._process is not None:
            raise RuntimeError("registry already started")
        binary = require_binary("docker-registry")
        _LIVE.add(self)
        try:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"pinner-registry-{self.auth}-"))
            if self.tls_names:
                self.certificate = issue_certificate(self._workdir, self.tls_names)
            auth_block = self._prepare_auth()
            for _attempt in range(5):
                if self._launch(binary, auth_block):
                    return self
            raise RegistryStartError(
                f"no free port found for docker-registry after 5 tries\n{self._describe()}"
            )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._stop_process()
        if self.token_server is not None:
            self.token_server.close()
        self._close_files()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        _LIVE.discard(self)

    def _stop_process(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _close_files(self) -> None:
        for handle in self._files:
            handle.close()
        self._files = []

    def _prepare_auth(self) -> dict[str, Any] | None:
        if self.auth == "htpasswd":
            return {"htpasswd": {"realm": "basic-realm", "path": str(self._write_htpasswd())}}
        if self.auth == "token":
            assert self.username is not None and self.password is not None
            self.token_server = TokenServer(
                self.workdir,
                username=self.username,
                password=self.password,
                anonymous_pull=self._token_anonymous_pull,
                certificate=self.certificate,
            )
            self.token_server.start()
            return {
                "token": {
                    "realm": self.token_server.realm,
                    "service": self.token_server.service,
                    "issuer": self.token_server.issuer,
                    "rootcertbundle": str(self.token_server.bundle_path),
                }
            }
        return None

    def _write_htpasswd(self) -> Path:
        assert self.username is not None and self.password is not None
        htpasswd = require_binary("htpasswd")
        # bcrypt is the only hash distribution accepts; cost 4 (the minimum) keeps each
        # authenticated request cheap, which matters for request-count benchmarks.
        result = subprocess.run(
            [htpasswd, "-B", "-C", "4", "-b", "-n", self.username, self.password],
            capture_output=True,
            check=True,
            timeout=30,
        )
        path = self.workdir / "htpasswd"
        path.write_bytes(result.stdout.strip() + b"\n")
        return path

    def _config(self, auth_block: dict[str, Any] | None) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {"level": "warn", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.workdir / "data")},
                "delete": {"enabled": True},
                # The purger is a background goroutine we never need in a short-lived registry.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.host, "secret": secrets.token_hex(16)},
        }
        if self.certificate is not None:
            config["http"]["tls"] = {
                "certificate": str(self.certificate.cert_path),
                "key": str(self.certificate.key_path),
            }
        if auth_block is not None:
            config["auth"] = auth_block
        return config

    def _launch(self, binary: str, auth_block: dict[str, Any] | None) -> bool:
        """Start on a fresh port; False if the port was taken, so the caller retries."""
        self._close_files()
        self.port = _free_port()
        config_path = self.workdir / "config.yml"
        # YAML is a superset of JSON, so no YAML library is needed to write the config.
        config_path.write_text(json.dumps(self._config(auth_block), indent=2))
        stdout = self.access_log_path.open("wb")
        stderr = self.stderr_path.open("wb")
        self._files = [stdout, stderr]
        self._process = subprocess.Popen(
            [binary, "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=_registry_env(),
            cwd=self.workdir,
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
        return self._wait_ready()

    def _wait_ready(self) -> bool:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1.0, trust_env=False, verify=self.verify) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    if "address already in use" in self.stderr_text():
                        return False
                    raise RegistryStartError(f"docker-registry exited early\n{self._describe()}")
                with contextlib.suppress(httpx.TransportError):
                    response = client.get(f"{self.url}/v2/")
                    # Only our own process logs our probe: this rules out answering for another
                    # server that grabbed the port between _free_port() and bind().
                    if response.status_code in (200, 401) and self._probe_logged():
                        return True
                time.sleep(0.05)
        self._stop_process()
        raise RegistryStartError(
            f"docker-registry did not answer GET /v2/ within {self.startup_timeout:.0f}s\n"
            f"{self._describe()}"
        )

    def _probe_logged(self) -> bool:
        for _ in range(20):
            if '"GET /v2/ ' in self.access_log_path.read_text(errors="replace"):
                return True
            time.sleep(0.01)
        return False

    def _describe(self) -> str:
        code = None if self._process is None else self._process.poll()
        return f"url={self.url} exit={code} workdir={self._workdir}\nstderr:\n{self.stderr_text()}"

    # -- access log

    def access_log(self, *, since: int = 0, sync: bool = True) -> list[AccessLogEntry]:
        """Parsed access-log entries after the first `since` (see log_mark())."""
        if sync:
            self.sync_log()
        entries = []
        for line in self.access_log_path.read_text(errors="replace").splitlines():
            match = _ACCESS_LINE.match(line)
            if match:
                entries.append(AccessLogEntry(match[1], match[2], int(match[3]), line))
        return entries[since:]

    def log_mark(self) -> int:
        """The current length of the access log: pass it as `since` to count only later requests."""
        return len(self.access_log())

    def count_requests(
        self, method: str, path_substring: str, *, since: int = 0, status: int | None = None
    ) -> int:
        """How many `method` requests whose target contains `path_substring` the registry served.

        Session-scoped registries are shared, so use a unique repository or `since=log_mark()`.
        In token mode each authenticated request first gets a 401; filter with `status=200`.
        """
        return sum(
            1
            for entry in self.access_log(since=since)
            if entry.method == method.upper()
            and path_substring in entry.path
            and (status is None or entry.status == status)
        )

    def sync_log(self, timeout: float = 5.0) -> None:
        """Wait until every request answered so far is in the access log.

        The log line is written after the handler returns, so it can trail the response. A
        marker request outside /v2/ (404, never matches a /v2/ substring) shows the log caught up.
        """
        marker = f"{_SYNC_PREFIX}{uuid.uuid4().hex}"
        httpx.get(f"{self.url}{marker}", timeout=5.0, trust_env=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.access_log_path.read_text(errors="replace"):
                return
            time.sleep(0.01)
        raise TimeoutError(f"access log of {self.url} did not show {marker}")


def _registry_env() -> dict[str, str]:
    # REGISTRY_* variables override the config file (distribution's env overrides).
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}


# ---------------------------------------------------------------------------------------------
# Push client


_PATH_REPO = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class _TokenAuth(httpx.Auth):
    """Challenge → token (Basic to the realm) → Bearer, caching one token per repository."""

    def __init__(self, username: str, password: str, verify: ssl.SSLContext | bool) -> None:
        self._credentials = (username, password)
        self._verify = verify
        self._tokens: dict[str, str] = {}
        self._actions: dict[str, list[str]] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        match = _PATH_REPO.match(request.url.path)
        repo = match[1] if match else ""
        if repo in self._tokens:
            request.headers["Authorization"] = f"Bearer {self._tokens[repo]}"
        response = yield request
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code != 401 or not challenge.lower().startswith("bearer "):
            return
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        scope = self._scope(repo, params.get("scope", ""))
        self._tokens[repo] = self._fetch(params["realm"], params.get("service", ""), scope)
        request.headers["Authorization"] = f"Bearer {self._tokens[repo]}"
        yield request

    def _scope(self, repo: str, challenged: str) -> str:
        """`repository:<repo>:pull,push`, plus what the registry asked for (delete for DELETE).

        Actions accumulate per repository so a DELETE token does not cost the next push a 401.
        """
        if not repo:
            return challenged
        actions = self._actions.setdefault(repo, ["pull", "push"])
        for access in parse_scopes([challenged]):
            if access["type"] == "repository" and access["name"] == repo:
                actions += [a for a in access["actions"] if a not in actions]
        return f"repository:{repo}:{','.join(actions)}"

    def _fetch(self, realm: str, service: str, scope: str) -> str:
        query = {"service": service, **({"scope": scope} if scope else {})}
        response = httpx.get(
            realm,
            params=query,
            auth=self._credentials,
            timeout=10.0,
            trust_env=False,
            verify=self._verify,
        )
        response.raise_for_status()
        body = response.json()
        return str(body.get("token") or body["access_token"])


def _auth_for(server: RegistryServer) -> httpx.Auth | None:
    credentials = server.credentials
    if credentials is None:
        return None
    if server.auth == "token":
        return _TokenAuth(*credentials, verify=server.verify)
    return httpx.BasicAuth(*credentials)


class RegistryError(RuntimeError):
    pass


def _expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise RegistryError(
            f"{response.request.method} {response.request.url} → {response.status_code} "
            f"(wanted {statuses}): {response.text[:500]}"
        )
    return response


def _layer(text: str) -> tuple[bytes, str]:
    """A gzipped one-file tar and its diff_id, deterministic for a given text."""
    content = text.encode()
    info = tarfile.TarInfo("pinner-test.txt")
    info.size, info.mtime, info.mode = len(content), 0, 0o644
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = buffer.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256_digest(tar_bytes)


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data), **extra}


def _platform_json(platform: Platform) -> dict[str, str]:
    os_name, arch, variant = platform
    result = {"architecture": arch, "os": os_name}
    if variant:
        result["variant"] = variant
    return result


class Pusher(ClosedOnExit):
    """Pushes tiny images and indexes to a RegistryServer with plain distribution API calls."""

    def __init__(self, server: RegistryServer, *, timeout: float = 10.0) -> None:
        self.server = server
        self._client = httpx.Client(
            base_url=server.url,
            auth=_auth_for(server),
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept-Encoding": "identity"},
            trust_env=False,  # only ever 127.0.0.1: a proxy from the environment must not apply
            verify=server.verify,
        )

    def close(self) -> None:
        self._client.close()

    # -- raw API

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        start = _expect(self._client.post(f"/v2/{repo}/blobs/uploads/"), 202)
        location = start.request.url.join(start.headers["Location"])  # may be relative
        separator = "&" if location.query else "?"
        upload = f"{location}{separator}digest={digest}"
        headers = {"Content-Type": "application/octet-stream"}
        _expect(self._client.put(upload, content=data, headers=headers), 201)
        return digest

    def push_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        """PUT exact bytes under a tag or digest; returns their digest (the registry's, checked)."""
        response = self._client.put(
            f"/v2/{repo}/manifests/{ref}", content=body, headers={"Content-Type": media_type}
        )
        _expect(response, 201)
        digest = sha256_digest(body)
        reported = response.headers.get("Docker-Content-Digest")
        if reported != digest:
            raise RegistryError(f"registry says {reported} for a manifest we hashed as {digest}")
        return digest

    def head(self, repo: str, ref: str) -> httpx.Response:
        return self._client.head(f"/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT})

    def head_digest(self, repo: str, ref: str) -> str:
        response = _expect(self.head(repo, ref), 200)
        return response.headers["Docker-Content-Digest"]

    def manifest_bytes(self, repo: str, ref: str) -> bytes:
        response = self._client.get(
            f"/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT}
        )
        return _expect(response, 200).content

    def tag_exists(self, repo: str, tag: str) -> bool:
        return _expect(self.head(repo, tag), 200, 404).status_code == 200

    def delete_manifest(self, repo: str, digest: str) -> None:
        # distribution 2.x deletes by digest only (a tag gives 400), and every tag pointing at
        # the digest goes with it (REGISTRY.md trap T12).
        _expect(self._client.delete(f"/v2/{repo}/manifests/{digest}"), 202)

    # -- images

    def push_image(
        self,
        repo: str,
        tag: str | None,
        *,
        media_type: MediaFlavor = "oci",
        arch: str = "amd64",
        os: str = "linux",  # the image config field name
        variant: str | None = None,
        seed: int | str | None = None,
    ) -> str:
        """Push a one-layer image, under `tag` or (tag=None) by digest only; returns its digest.

        The same seed, platform and media type always give the same digest; seed=None is random.
        """
        seed = uuid.uuid4().hex if seed is None else seed
        platform: Platform = (os, arch, variant)
        body, manifest_type = self._image_manifest(repo, platform, media_type, f"{seed}")
        return self.push_manifest(repo, tag or sha256_digest(body), body, manifest_type)

    def _image_manifest(
        self, repo: str, platform: Platform, media_type: MediaFlavor, seed: str
    ) -> tuple[bytes, str]:
        oci = media_type == "oci"
        layer, diff_id = _layer(
            f"pinner test layer seed={seed} platform={platform_string(platform)}\n"
        )
        config = _compact_json(
            {
                **_platform_json(platform),
                "created": "2024-01-01T00:00:00Z",
                "config": {"Labels": {"org.pinner.test.seed": seed}},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "pinner tests"}],
            }
        )
        self.push_blob(repo, layer)
        self.push_blob(repo, config)
        manifest_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": _descriptor(OCI_CONFIG if oci else DOCKER_CONFIG, config),
            "layers": [_descriptor(OCI_LAYER if oci else DOCKER_LAYER, layer)],
        }
        return _compact_json(manifest), manifest_type

    def push_index(
        self,
        repo: str,
        tag: str | None,
        platforms: Iterable[Platform] = DEFAULT_PLATFORMS,
        *,
        media_type: MediaFlavor = "oci",
        attestation: bool = False,
        seed: int | str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """Push one image per platform by digest, then the index; returns
        (index digest, {"os/arch[/variant]": child digest}).

        attestation=True adds a BuildKit-style attestation manifest (platform unknown/unknown)
        for every child; those are not in the returned mapping.
        """
        seed = uuid.uuid4().hex if seed is None else seed
        child_type = OCI_MANIFEST if media_type == "oci" else DOCKER_MANIFEST
        entries: list[dict[str, Any]] = []
        children: dict[str, str] = {}
        for platform in platforms:
            body, _ = self._image_manifest(repo, platform, media_type, f"{seed}")
            children[platform_string(platform)] = self.push_manifest(
                repo, sha256_digest(body), body, child_type
            )
            entries.append(_descriptor(child_type, body, platform=_platform_json(platform)))
        if attestation:
            entries += [self._push_attestation(repo, child) for child in children.values()]
        index_type = OCI_INDEX if media_type == "oci" else DOCKER_LIST
        body = _compact_json({"schemaVersion": 2, "mediaType": index_type, "manifests": entries})
        return self.push_manifest(repo, tag or sha256_digest(body), body, index_type), children

    def _push_attestation(self, repo: str, subject_digest: str) -> dict[str, Any]:
        """Push what BuildKit attaches for provenance/SBOM; returns the index entry for it."""
        statement = _compact_json(
            {
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://spdx.dev/Document",
                "subject": [{"name": "pinner-test", "digest": {"sha256": subject_digest[7:]}}],
                "predicate": {},
            }
        )
        config = _compact_json(
            {
                "architecture": "unknown",
                "os": "unknown",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [sha256_digest(statement)]},
            }
        )
        self.push_blob(repo, statement)
        self.push_blob(repo, config)
        manifest = _compact_json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": _descriptor(OCI_CONFIG, config),
                "layers": [
                    _descriptor(
                        IN_TOTO,
                        statement,
                        annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"},
                    )
                ],
            }
        )
        self.push_manifest(repo, sha256_digest(manifest), manifest, OCI_MANIFEST)
        return _descriptor(
            OCI_MANIFEST,
            manifest,
            annotations={
                "vnd.docker.reference.digest": subject_digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
            platform={"architecture": "unknown", "os": "unknown"},
        )


# ---------------------------------------------------------------------------------------------
# skopeo, the independent client


def skopeo_available() -> bool:
    return shutil.which("skopeo") is not None


def _skopeo_creds(server: RegistryServer) -> list[str]:
    credentials = server.credentials
    if credentials is None:
        # Never pick up a developer's auth.json/docker config for 127.0.0.1 by accident.
        return ["--no-creds"]
    return ["--creds", f"{credentials[0]}:{credentials[1]}"]


def _run_skopeo(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    command = [require_binary("skopeo"), *args]
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise RegistryError(f"skopeo timed out after {timeout}s: {command}") from error
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        raise RegistryError(f"skopeo failed ({result.returncode}): {command}\n{stderr}")
    return result


def skopeo_inspect_raw(
    server: RegistryServer, ref: str, *, timeout: float = SKOPEO_TIMEOUT
) -> bytes:
    """The exact manifest bytes skopeo gets for `<host>/<ref>` (`repo:tag` or `repo@digest`)."""
    args = ["inspect", "--raw", "--tls-verify=false", *_skopeo_creds(server)]
    return _run_skopeo([*args, f"docker://{server.host}/{ref}"], timeout).stdout


def skopeo_inspect_digest(
    server: RegistryServer, ref: str, *, timeout: float = SKOPEO_TIMEOUT
) -> str:
    """skopeo's `.Digest` for `<host>/<ref>`: for an index, the digest of the index itself.

    Plain `skopeo inspect` also reads the config of the child matching the host platform and
    fails when there is none ("no image found in manifest list for architecture …"), so the
    child's platform is passed with --override-os/--override-arch/--override-variant.
    """
    raw = skopeo_inspect_raw(server, ref, timeout=timeout)
    overrides = _platform_overrides(raw)
    args = [*overrides, "inspect", "--tls-verify=false", *_skopeo_creds(server)]
    result = _run_skopeo(
        [*args, "--format", "{{.Digest}}", f"docker://{server.host}/{ref}"], timeout
    )
    digest = result.stdout.decode().strip()
    # skopeo hashes the raw manifest it fetched (REGISTRY.md §2.3); insist on it.
    if digest != sha256_digest(raw):
        raise RegistryError(f"skopeo .Digest {digest} != sha256(--raw) {sha256_digest(raw)}")
    return digest


def _platform_overrides(raw: bytes) -> list[str]:
    manifest = json.loads(raw)
    if manifest.get("mediaType") not in (OCI_INDEX, DOCKER_LIST) and "manifests" not in manifest:
        return []
    for entry in manifest.get("manifests", []):
        platform = entry.get("platform") or {}
        if platform.get("os", "unknown") != "unknown":
            overrides = [
                "--override-os",
                platform["os"],
                "--override-arch",
                platform["architecture"],
            ]
            if platform.get("variant"):
                overrides += ["--override-variant", platform["variant"]]
            return overrides
    return []


def skopeo_copy(
    server: RegistryServer,
    ref: str,
    destination: Path,
    *,
    all_platforms: bool = False,
    timeout: float = SKOPEO_TIMEOUT,
) -> None:
    """Pull `<host>/<ref>` into a `dir:` layout: proves the reference really pulls (blobs too)."""
    args = ["--insecure-policy", "copy", "--src-tls-verify=false"]
    credentials = server.credentials
    args += ["--src-no-creds"] if credentials is None else ["--src-creds", ":".join(credentials)]
    if all_platforms:
        args.append("--all")
    _run_skopeo([*args, f"docker://{server.host}/{ref}", f"dir:{destination}"], timeout)


def make_pusher_factory() -> tuple[Callable[[RegistryServer], Pusher], Callable[[], None]]:
    """(make, close_all): Pushers made by `make` are closed by `close_all`."""
    pushers: list[Pusher] = []

    def make(server: RegistryServer) -> Pusher:
        pusher = Pusher(server)
        pushers.append(pusher)
        return pusher

    def close_all() -> None:
        for pusher in pushers:
            pusher.close()

    return make, close_all

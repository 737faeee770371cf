"""Keychains: where the credentials for a registry come from. No HTTP here.

Public API:

- Credentials (reprs redact secrets): ``BasicCredential(username, password)``,
  ``IdentityToken(username, token)`` (an OAuth2 refresh token, used in the token POST) and
  ``RegistryToken(token)`` (sent to the registry as ``Bearer`` as is). ``Credential`` is their
  union; ``None`` means anonymous.
- ``Keychain``: anything with ``resolve(registry) -> Credential | None``, where ``registry`` is a
  normalized registry name (``docker.io``, ``ghcr.io``, ``localhost:5000``).
- ``DockerConfigKeychain(path=None)``: ``$DOCKER_CONFIG/config.json``, else
  ``~/.docker/config.json``: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
- ``GcloudKeychain(extra_hosts)``: ``gcloud auth print-access-token`` for Google hosts, run at
  most once per keychain (so once per run), presented as ``oauth2accesstoken:<token>``.
- ``MultiKeychain(*keychains)``: the first keychain with a credential wins.
- ``default_keychain(gcloud_hosts)``: docker config, then gcloud, then anonymous.
- ``is_google_host(host, extra_hosts)`` and ``login_hint(registry, google)`` for messages.

A source that fails (helper missing or failing, gcloud missing or logged out) raises
``CredentialUnavailableError``; the registry client then goes on anonymously (public images
still work) and puts that error's cause and hint into the failure if the registry refuses.
Subprocesses run with a fixed argv, no shell and a timeout; their output is never logged.
"""

from __future__ import annotations

import binascii
import json
import logging
import os
import re
import shutil
import subprocess
import threading
from base64 import b64decode
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias
from urllib.parse import urlsplit

from pinner.errors import AuthError
from pinner.registry_errors import CredentialUnavailableError

log = logging.getLogger(__name__)

DOCKER_HUB = "docker.io"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# Hostnames people write for Hub in config.json besides the official key.
DOCKER_HUB_HOSTS = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
HELPER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SUBPROCESS_TIMEOUT = 20.0
# docker-credential-helpers marks identity tokens with this username.
TOKEN_USERNAME = "<token>"
GCLOUD_USERNAME = "oauth2accesstoken"


@dataclass(frozen=True, repr=False)
class BasicCredential:
    username: str
    password: str
    source: str = ""

    def __repr__(self) -> str:
        return f"BasicCredential(username={self.username!r}, password=<redacted>)"


@dataclass(frozen=True, repr=False)
class IdentityToken:
    username: str
    token: str
    source: str = ""

    def __repr__(self) -> str:
        return f"IdentityToken(username={self.username!r}, token=<redacted>)"


@dataclass(frozen=True, repr=False)
class RegistryToken:
    token: str
    source: str = ""

    def __repr__(self) -> str:
        return "RegistryToken(token=<redacted>)"


Credential: TypeAlias = "BasicCredential | IdentityToken | RegistryToken"


class Keychain(Protocol):
    def resolve(self, registry: str) -> Credential | None: ...


def is_google_host(host: str, extra_hosts: frozenset[str] = frozenset()) -> bool:
    return (
        host == "gcr.io"
        or host.endswith(".gcr.io")
        or host.endswith("-docker.pkg.dev")
        or host in extra_hosts
    )


def login_hint(registry: str, *, google: bool) -> str:
    if google:
        return "Run `gcloud auth login` with an account that can read the repository."
    if registry == DOCKER_HUB:
        return "Run `docker login` with an account that can read the repository."
    return f"Run `docker login {registry}` with an account that can read the repository."


def config_key(registry: str) -> str:
    """The key docker uses for ``registry`` in config.json and with credential helpers."""
    return DOCKER_HUB_KEY if registry == DOCKER_HUB else registry


class MultiKeychain:
    def __init__(self, *keychains: Keychain) -> None:
        self._keychains = keychains

    def resolve(self, registry: str) -> Credential | None:
        unavailable: CredentialUnavailableError | None = None
        for keychain in self._keychains:
            try:
                credential = keychain.resolve(registry)
            except CredentialUnavailableError as err:
                unavailable = unavailable or err
                continue
            if credential is not None:
                return credential
        if unavailable is not None:
            raise unavailable.with_image(unavailable.image)
        return None


def default_keychain(gcloud_hosts: frozenset[str] = frozenset()) -> MultiKeychain:
    return MultiKeychain(DockerConfigKeychain(), GcloudKeychain(gcloud_hosts))


class _Once:
    """Computes a value per key once, thread-safely; a failure is remembered and re-raised."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Credential | CredentialUnavailableError | None] = {}

    def __call__(self, key: str, compute: Callable[[], Credential | None]) -> Credential | None:
        with self._lock:
            if key not in self._values:
                try:
                    self._values[key] = compute()
                except CredentialUnavailableError as err:
                    self._values[key] = err
            value = self._values[key]
        if isinstance(value, CredentialUnavailableError):
            raise value.with_image(value.image)
        return value


class DockerConfigKeychain:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._config: Mapping[str, object] | None = None
        self._helper_results = _Once()

    @property
    def path(self) -> Path:
        if self._path is not None:
            return self._path
        directory = os.environ.get("DOCKER_CONFIG")
        base = Path(directory) if directory else Path.home() / ".docker"
        return base / "config.json"

    def resolve(self, registry: str) -> Credential | None:
        config = self._load()
        key = config_key(registry)
        helpers = config.get("credHelpers")
        helper = helpers.get(key) if isinstance(helpers, Mapping) else None
        if helper is None:
            helper = config.get("credsStore")
        if isinstance(helper, str) and helper:
            credential = self._helper_results(
                f"{helper}\0{key}", lambda: run_credential_helper(helper, key)
            )
            if credential is not None:
                return credential
        return self._from_auths(config.get("auths"), registry)

    def _load(self) -> Mapping[str, object]:
        with self._lock:
            if self._config is None:
                self._config = self._read()
            return self._config

    def _read(self) -> Mapping[str, object]:
        path = self.path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise AuthError(
                f"The docker config {path} cannot be read ({type(err).__name__}); fix or remove it."
            ) from None
        if not isinstance(data, dict):
            raise AuthError(f"The docker config {path} is not a JSON object; fix or remove it.")
        log.debug("read docker config %s", path)
        return data

    def _from_auths(self, auths: object, registry: str) -> Credential | None:
        if not isinstance(auths, Mapping):
            return None
        entry = auths.get(config_key(registry))
        if entry is None:
            wanted = DOCKER_HUB_HOSTS if registry == DOCKER_HUB else {registry}
            entry = next((v for k, v in auths.items() if _hostname(k) in wanted), None)
        if not isinstance(entry, Mapping):
            return None
        return self._parse_entry(entry, registry)

    def _parse_entry(self, entry: Mapping[str, object], registry: str) -> Credential | None:
        source = f"the docker config {self.path}"
        username, password = _text(entry, "username"), _text(entry, "password")
        encoded = _text(entry, "auth")
        if encoded:
            username, password = _decode_auth(encoded, registry, self.path)
        credential: Credential | None = None
        if _text(entry, "identitytoken"):
            token = _text(entry, "identitytoken")
            credential = IdentityToken(username or TOKEN_USERNAME, token, source)
        elif _text(entry, "registrytoken"):
            credential = RegistryToken(_text(entry, "registrytoken"), source)
        elif username:
            credential = BasicCredential(username, password, source)
        if credential is not None:
            log.debug("using %s for %s from %s", type(credential).__name__, registry, source)
        return credential


def _text(entry: Mapping[str, object], field: str) -> str:
    value = entry.get(field)
    return value if isinstance(value, str) else ""


def _hostname(key: str) -> str:
    # Old config files use URLs such as https://ghcr.io/v1/ as keys (docker's ConvertToHostname).
    return urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]


def _decode_auth(encoded: str, registry: str, path: Path) -> tuple[str, str]:
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        decoded = b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise AuthError(
            f"The 'auth' entry for {registry} in {path} is not base64 of user:password; "
            f"run `docker login {registry}` again."
        )
    return username, password.strip("\x00")


def run_credential_helper(name: str, server_url: str) -> Credential | None:
    """``docker-credential-<name> get`` with ``server_url`` on stdin; ``None`` if not found."""
    program = f"docker-credential-{name}"
    if not HELPER_NAME_RE.fullmatch(name):
        raise AuthError(
            f"The credential helper name {name!r} in the docker config is not valid; "
            "it must be a plain name such as 'desktop' or 'ecr-login'."
        )
    executable = shutil.which(program)
    if executable is None:
        raise CredentialUnavailableError(
            f"the credential helper {program} named in the docker config is not on PATH",
            hint=f"Install {program}, or remove it from the docker config.",
        )
    completed = _run([executable, "get"], server_url, program)
    if completed.returncode != 0:
        if "credentials not found" in completed.stdout + completed.stderr:
            return None
        raise CredentialUnavailableError(
            f"{program} failed for {server_url} (exit status {completed.returncode})",
            hint=f"Run `{program} get` by hand to see why, or log in again.",
        )
    try:
        reply = json.loads(completed.stdout)
        username, secret = str(reply["Username"]), str(reply["Secret"])
    except (json.JSONDecodeError, KeyError, TypeError):
        raise CredentialUnavailableError(
            f"{program} printed something that is not a credential for {server_url}",
            hint=f"Check that {program} works with `{program} get`.",
        ) from None
    if not secret:
        return None
    log.debug("using credentials for %s from %s", server_url, program)
    if username == TOKEN_USERNAME:
        return IdentityToken(username, secret, program)
    return BasicCredential(username, secret, program)


class GcloudKeychain:
    def __init__(self, extra_hosts: frozenset[str] = frozenset()) -> None:
        self._extra_hosts = extra_hosts
        self._token = _Once()

    def resolve(self, registry: str) -> Credential | None:
        if not is_google_host(registry, self._extra_hosts):
            return None
        return self._token("gcloud", _gcloud_credential)


def _gcloud_credential() -> Credential:
    hint = "Run `gcloud auth login` (install the Google Cloud CLI first if needed)."
    executable = shutil.which("gcloud")
    if executable is None:
        raise CredentialUnavailableError("gcloud is not installed (not found on PATH)", hint=hint)
    completed = _run([executable, "auth", "print-access-token", "--quiet"], "", "gcloud")
    if completed.returncode != 0:
        cause = (
            "gcloud has no active account"
            if "active account" in completed.stderr
            else f"`gcloud auth print-access-token` failed (exit status {completed.returncode})"
        )
        raise CredentialUnavailableError(cause, hint=hint)
    token = completed.stdout.strip()
    if not token or any(character.isspace() for character in token):
        raise CredentialUnavailableError("gcloud printed no access token", hint=hint)
    log.debug("using an access token from gcloud")
    return BasicCredential(GCLOUD_USERNAME, token, "gcloud")


def _run(argv: list[str], stdin: str, program: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialUnavailableError(
            f"{program} did not answer within {SUBPROCESS_TIMEOUT:g} seconds",
            hint=f"Check that {program} works when run by hand.",
        ) from None
    except OSError as err:
        raise CredentialUnavailableError(
            f"{program} could not be started ({err.strerror})",
            hint=f"Check that {program} is installed and executable.",
        ) from None

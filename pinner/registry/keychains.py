"""Keychains: where the credentials for a registry come from. No HTTP here.

Public API (credential records, ``Keychain`` and ``MultiKeychain`` live in
:mod:`pinner.registry.credentials` and are re-exported here):

- ``DockerConfigKeychain(path=None)``: ``$DOCKER_CONFIG/config.json``, else
  ``~/.docker/config.json``: ``credHelpers[key]``, then ``credsStore`` (run as
  ``docker-credential-<name> get``, server URL on stdin), then ``auths`` (``auth``,
  ``username``/``password``, ``identitytoken``, ``registrytoken``). Docker Hub's key is
  ``https://index.docker.io/v1/``; URL keys match by hostname, as docker does.
- ``run_credential_helper(name, server_url)``: one helper lookup; the name is validated first.
- ``GcloudKeychain(extra_hosts)``: ``gcloud auth print-access-token`` for Google hosts, run at
  most once per keychain (so once per run), presented as ``oauth2accesstoken:<token>``.
- ``default_keychain(gcloud_hosts)``: docker config, then gcloud, then anonymous.
- ``is_google_host(host, extra_hosts)``, ``login_hint(registry, google=...)``, ``config_key``.

A source that fails (helper missing or failing, gcloud missing or logged out) raises
``CredentialUnavailableError``; the registry client then goes on anonymously (public images
still work) and puts that error's cause and hint into the failure if the registry refuses.
"""

from __future__ import annotations

import binascii
import json
import logging
import os
import re
import shutil
import threading
from base64 import b64decode
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pinner.jsonload import load_json
from pinner.registry.credentials import (
    BasicCredential,
    Credential,
    IdentityToken,
    Keychain,
    MultiKeychain,
    Once,
    RegistryToken,
    run_program,
)
from pinner.registry.errors import CredentialUnavailableError, ImageAuthError

__all__ = [
    "BasicCredential",
    "Credential",
    "DockerConfigKeychain",
    "GcloudKeychain",
    "IdentityToken",
    "Keychain",
    "MultiKeychain",
    "RegistryToken",
    "config_key",
    "default_keychain",
    "is_google_host",
    "login_hint",
    "run_credential_helper",
]

log = logging.getLogger(__name__)

DOCKER_HUB = "docker.io"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# Hostnames people write for Hub in config.json besides the official key.
DOCKER_HUB_HOSTS = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
HELPER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# docker-credential-helpers marks identity tokens with this username.
TOKEN_USERNAME = "<token>"
GCLOUD_USERNAME = "oauth2accesstoken"


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


def default_keychain(gcloud_hosts: frozenset[str] = frozenset()) -> MultiKeychain:
    return MultiKeychain(DockerConfigKeychain(), GcloudKeychain(gcloud_hosts))


class DockerConfigKeychain:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._config: Mapping[str, object] | None = None
        self._helper_results = Once()

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
        # Not load_json: the message names the cause. ValueError: not UTF-8, not JSON, or a
        # number of more digits than int() converts; RecursionError: nested too deeply.
        except (OSError, ValueError, RecursionError) as err:
            raise ImageAuthError(
                f"the docker config {path} cannot be read ({type(err).__name__})",
                hint="Fix or remove the docker config.",
            ) from None
        if not isinstance(data, dict):
            raise ImageAuthError(
                f"the docker config {path} is not a JSON object",
                hint="Fix or remove the docker config.",
            )
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
        raise ImageAuthError(
            f"the 'auth' entry for {registry} in {path} is not base64 of user:password",
            hint=f"Run `docker login {registry}` again.",
        )
    return username, password.strip("\x00")


def run_credential_helper(name: str, server_url: str) -> Credential | None:
    """``docker-credential-<name> get`` with ``server_url`` on stdin; ``None`` if not found."""
    program = f"docker-credential-{name}"
    if not HELPER_NAME_RE.fullmatch(name):
        raise ImageAuthError(
            f"the credential helper name {name!r} in the docker config is not valid",
            hint="Use a plain helper name such as 'desktop' or 'ecr-login'.",
        )
    executable = shutil.which(program)
    if executable is None:
        raise CredentialUnavailableError(
            f"the credential helper {program} named in the docker config is not on PATH",
            hint=f"Install {program}, or remove it from the docker config.",
        )
    completed = run_program([executable, "get"], server_url, program)
    if completed.returncode != 0:
        if "credentials not found" in completed.stdout + completed.stderr:
            return None
        raise CredentialUnavailableError(
            f"{program} failed for {server_url} (exit status {completed.returncode})",
            hint=f"Run `{program} get` by hand to see why, or log in again.",
        )
    try:
        reply = load_json(completed.stdout)  # None if it is not JSON: a TypeError below
        username, secret = str(reply["Username"]), str(reply["Secret"])
    except (KeyError, TypeError):
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
        self._token = Once()

    def resolve(self, registry: str) -> Credential | None:
        if not is_google_host(registry, self._extra_hosts):
            return None
        return self._token("gcloud", _gcloud_credential)


def _gcloud_credential() -> Credential:
    hint = "Run `gcloud auth login` (install the Google Cloud CLI first if needed)."
    executable = shutil.which("gcloud")
    if executable is None:
        raise CredentialUnavailableError("gcloud is not installed (not found on PATH)", hint=hint)
    completed = run_program([executable, "auth", "print-access-token", "--quiet"], "", "gcloud")
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

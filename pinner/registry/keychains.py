"""Keychains: where the credentials for a registry come from. No HTTP here.

Public API (credential records, ``Keychain`` and ``MultiKeychain`` live in
:mod:`pinner.registry.credentials` and are re-exported here):

- ``DockerConfigKeychain(path=None)``: ``$DOCKER_CONFIG/config.json``, else
  ``~/.docker/config.json``: ``credHelpers[key]``, then ``credsStore`` (run as
  ``docker-credential-<name> get``, server URL on stdin), then ``auths`` (``auth``,
  ``username``/``password``, ``identitytoken``, ``registrytoken``). Docker Hub's key is
  ``https://index.docker.io/v1/``; URL keys match by hostname, as docker does.
- ``DockerConfigKeychain(path, containers=True)``: a podman/skopeo/buildah auth file
  (``containers-auth.json(5)``): ``credHelpers`` and ``auths`` as above, no ``credsStore``,
  Docker Hub under ``docker.io``; a file that cannot be read is skipped (and said), not fatal.
- ``containers_auth_files()``: those files in containers/image's order: ``$REGISTRY_AUTH_FILE``
  alone when set; else ``$XDG_RUNTIME_DIR/containers/auth.json`` (``/run/containers/<uid>/``
  without it), then ``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json``.
- ``run_credential_helper(name, server_url)``: one helper lookup (re-exported from
  :mod:`pinner.registry.credentials`).
- ``default_keychain(gcloud_hosts)``: the docker config, then the containers auth files, then
  the cloud logins of :mod:`pinner.registry.cloudlogins` (gcloud, AWS, Azure, GitHub Actions),
  then anonymous. The first with a credential for the registry wins.
- ``login_hint(registry, gcloud_hosts)``, ``config_key``; ``is_google_host`` is re-exported.

A source that fails (helper missing or failing, a cloud CLI missing or logged out) raises
``CredentialUnavailableError``; the registry client then goes on anonymously (public images
still work) and puts that error's cause and hint into the failure if the registry refuses.
"""

from __future__ import annotations

import binascii
import json
import logging
import os
import threading
from base64 import b64decode
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pinner.registry.cloudlogins import (
    AcrKeychain,
    EcrKeychain,
    GcloudKeychain,
    GithubActionsKeychain,
    cloud_login_hint,
    is_google_host,
)
from pinner.registry.credentials import (
    TOKEN_USERNAME,
    BasicCredential,
    Credential,
    IdentityToken,
    Keychain,
    MultiKeychain,
    Once,
    RegistryToken,
    run_credential_helper,
)
from pinner.registry.errors import (
    CredentialUnavailableError,
    ImageAuthError,
    ImageLookupError,
)

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
    "containers_auth_files",
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
CONTAINERS_AUTH = Path("containers") / "auth.json"


def login_hint(registry: str, gcloud_hosts: frozenset[str] = frozenset()) -> str:
    """What to do when ``registry`` refuses anonymous access."""
    cloud = cloud_login_hint(registry, gcloud_hosts)
    if cloud is not None:
        return cloud
    return _relogin("docker login", registry, again=False)


def _relogin(command: str, registry: str, *, again: bool) -> str:
    target = "" if registry == DOCKER_HUB else f" {registry}"
    return (
        f"Run `{command}{target}`{' again' if again else ''} with an account that can read "
        "the repository."
    )


def config_key(registry: str, *, containers: bool = False) -> str:
    """The key docker (or podman) uses for ``registry`` in its file and with helpers."""
    return DOCKER_HUB_KEY if registry == DOCKER_HUB and not containers else registry


def containers_auth_files() -> list[Path]:
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return [Path(explicit)]  # podman and skopeo then read no other auth.json
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    # containers/image's per-user file when XDG_RUNTIME_DIR is not set
    primary = (
        Path(runtime) / CONTAINERS_AUTH
        if runtime
        else Path(f"/run/containers/{os.getuid()}/auth.json")
    )
    config_home = os.environ.get("XDG_CONFIG_HOME")
    config = Path(config_home) if config_home else Path.home() / ".config"
    return [primary, config / CONTAINERS_AUTH]


def default_keychain(gcloud_hosts: frozenset[str] = frozenset()) -> MultiKeychain:
    return MultiKeychain(
        DockerConfigKeychain(),
        *(DockerConfigKeychain(path, containers=True) for path in containers_auth_files()),
        GcloudKeychain(gcloud_hosts),
        EcrKeychain(),
        AcrKeychain(),
        GithubActionsKeychain(),
    )


class DockerConfigKeychain:
    def __init__(self, path: Path | None = None, *, containers: bool = False) -> None:
        self._path = path
        self._containers = containers
        self._kind = "the containers auth file" if containers else "the docker config"
        self._login = "podman login" if containers else "docker login"
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
        key = config_key(registry, containers=self._containers)
        helpers = config.get("credHelpers")
        helper = helpers.get(key) if isinstance(helpers, Mapping) else None
        if helper is None and not self._containers:  # auth.json has no credsStore
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
            raise self._broken(
                f"{self._kind} {path} cannot be read ({type(err).__name__})"
            ) from None
        if not isinstance(data, dict):
            raise self._broken(f"{self._kind} {path} is not a JSON object")
        log.debug("read %s %s", self._kind, path)
        return data

    def _broken(self, cause: str) -> ImageLookupError:
        hint = f"Fix or remove {self._kind}."
        if self._containers:
            cause = cause.replace(" (", ": ").rstrip(")")  # it goes into parentheses itself
        # pinner did not always read podman's files: one that is broken must not fail a run
        # that worked before, so it counts as a source without credentials, and is said.
        if self._containers:
            return CredentialUnavailableError(cause, hint=hint)
        return ImageAuthError(cause, hint=hint)

    def _from_auths(self, auths: object, registry: str) -> Credential | None:
        if not isinstance(auths, Mapping):
            return None
        entry = auths.get(config_key(registry, containers=self._containers))
        if entry is None:
            wanted = DOCKER_HUB_HOSTS if registry == DOCKER_HUB else {registry}
            entry = next((v for k, v in auths.items() if _hostname(k) in wanted), None)
        if not isinstance(entry, Mapping):
            return None
        return self._parse_entry(entry, registry)

    def _parse_entry(self, entry: Mapping[str, object], registry: str) -> Credential | None:
        source = f"{self._kind} {self.path}"
        hint = _relogin(self._login, registry, again=True)
        username, password = _text(entry, "username"), _text(entry, "password")
        encoded = _text(entry, "auth")
        if encoded:
            username, password = _decode_auth(encoded, registry, self.path, self._login)
        credential: Credential | None = None
        if _text(entry, "identitytoken"):
            token = _text(entry, "identitytoken")
            credential = IdentityToken(username or TOKEN_USERNAME, token, source, hint)
        elif _text(entry, "registrytoken"):
            credential = RegistryToken(_text(entry, "registrytoken"), source, hint)
        elif username:
            credential = BasicCredential(username, password, source, hint)
        if credential is not None:
            log.debug("using %s for %s from %s", type(credential).__name__, registry, source)
        return credential


def _text(entry: Mapping[str, object], field: str) -> str:
    value = entry.get(field)
    return value if isinstance(value, str) else ""


def _hostname(key: str) -> str:
    # Old config files use URLs such as https://ghcr.io/v1/ as keys (docker's ConvertToHostname).
    return urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]


def _decode_auth(encoded: str, registry: str, path: Path, login: str) -> tuple[str, str]:
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        decoded = b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise ImageAuthError(
            f"the 'auth' entry for {registry} in {path} is not base64 of user:password",
            hint=f"Run `{login} {registry}` again.",
        )
    return username, password.strip("\x00")

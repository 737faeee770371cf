"""What a credential is, and the plumbing keychains share. No HTTP here.

A credential is a username and password, an identity token (an OAuth2 refresh token, used in
the token POST) or a registry token (sent as ``Bearer`` as it is); ``None`` means anonymous.
Their reprs redact secrets, and each says where it came from, for messages. A keychain answers
for a normalized registry name (``docker.io``, ``ghcr.io``, ``localhost:5000``); of several,
the first with a credential wins, and a source that is unavailable is skipped, its error raised
only if no other has a credential. Lookups are cached per key, failures too. Programs (helpers,
gcloud) run with a fixed argv, no shell and a timeout; their output is never logged.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from pinner.registry.errors import CredentialUnavailableError

SUBPROCESS_TIMEOUT = 20.0


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


class Once:
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


def run_program(argv: list[str], stdin: str, program: str) -> subprocess.CompletedProcess[str]:
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

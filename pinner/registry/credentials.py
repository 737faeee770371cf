"""What a credential is, and the plumbing keychains share. No HTTP here.

Public API:

- Credentials (reprs redact secrets, and each secret is remembered so that no output shows it,
  see :mod:`pinner.untrusted`; ``source`` says where they came from, for messages):
  ``BasicCredential(username, password)``, ``IdentityToken(username, token)`` (an OAuth2
  refresh token, used in the token POST) and ``RegistryToken(token)`` (sent to the registry as
  ``Bearer`` as is). ``Credential`` is their union; ``None`` means anonymous.
- ``Keychain``: anything with ``resolve(registry) -> Credential | None``, where ``registry`` is a
  normalized registry name (``docker.io``, ``ghcr.io``, ``localhost:5000``).
- ``MultiKeychain(*keychains)``: the first keychain with a credential wins; a source that is
  unavailable is skipped, and its error re-raised only if no other source has a credential.
- ``Once``: a thread-safe per-key cache of credential lookups that also remembers failures.
- ``run_program(argv, stdin, program)``: a fixed argv, no shell, a timeout; the output is
  returned to the caller and never logged.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from pinner.registry.errors import CredentialUnavailableError
from pinner.untrusted import remember_secret

SUBPROCESS_TIMEOUT = 20.0


@dataclass(frozen=True, repr=False)
class BasicCredential:
    username: str
    password: str
    source: str = ""

    def __post_init__(self) -> None:
        remember_secret(self.password)

    def __repr__(self) -> str:
        return f"BasicCredential(username={self.username!r}, password=<redacted>)"


@dataclass(frozen=True, repr=False)
class IdentityToken:
    username: str
    token: str
    source: str = ""

    def __post_init__(self) -> None:
        remember_secret(self.token)

    def __repr__(self) -> str:
        return f"IdentityToken(username={self.username!r}, token=<redacted>)"


@dataclass(frozen=True, repr=False)
class RegistryToken:
    token: str
    source: str = ""

    def __post_init__(self) -> None:
        remember_secret(self.token)

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

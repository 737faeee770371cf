"""What a credential is, and the plumbing keychains share. No HTTP here.

Public API:

- Credentials (reprs redact secrets; ``source`` says where they came from and ``hint`` what to
  do when a registry refuses them, both for messages):
  ``BasicCredential(username, password)``, ``IdentityToken(username, token)`` (an OAuth2
  refresh token, used in the token POST) and ``RegistryToken(token)`` (sent to the registry as
  ``Bearer`` as is). ``Credential`` is their union; ``None`` means anonymous.
- ``Keychain``: anything with ``resolve(registry) -> Credential | None``, where ``registry`` is a
  normalized registry name (``docker.io``, ``ghcr.io``, ``localhost:5000``).
- ``MultiKeychain(*keychains)``: the first keychain with a credential wins; a source that is
  unavailable is skipped, and its error re-raised only if no other source has a credential.
- ``Once``: a thread-safe per-key cache of credential lookups that also remembers failures.
- ``locate(program, hint=...)``: the program's absolute path on PATH (never through an empty or
  relative entry), else ``CredentialUnavailableError``.
- ``run_login_program(argv, stdin, program) -> LoginOutput(returncode, stdout, stderr)``: a
  fixed argv, no shell, at most ``SUBPROCESS_TIMEOUT`` seconds and ``OUTPUT_LIMIT`` bytes of
  output (:func:`pinner.programs.run_program`); the output is returned to the caller and never
  logged.
- ``run_credential_helper(name, server_url)``: ``docker-credential-<name> get`` with the server
  URL on stdin (the name validated first); ``None`` when the helper has nothing for it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeAlias

from pinner.jsonload import load_json
from pinner.programs import ProgramError, find_program, run_program
from pinner.registry.errors import CredentialUnavailableError, ImageAuthError

log = logging.getLogger(__name__)

HELPER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# docker-credential-helpers marks identity tokens with this username.
TOKEN_USERNAME = "<token>"
SUBPROCESS_TIMEOUT = 20.0
# A credential is a few KiB at most (an ECR token is about 2 KiB); a helper that prints more is
# broken, and reading on would only grow pinner's memory.
OUTPUT_LIMIT = 1024 * 1024


class LoginOutput(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True, repr=False)
class BasicCredential:
    username: str
    password: str
    source: str = ""
    hint: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return f"BasicCredential(username={self.username!r}, password=<redacted>)"


@dataclass(frozen=True, repr=False)
class IdentityToken:
    username: str
    token: str
    source: str = ""
    hint: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return f"IdentityToken(username={self.username!r}, token=<redacted>)"


@dataclass(frozen=True, repr=False)
class RegistryToken:
    token: str
    source: str = ""
    hint: str = field(default="", compare=False)

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


def locate(program: str, *, hint: str) -> str:
    """The absolute path of ``program`` (see :func:`pinner.programs.find_program`)."""
    executable = find_program(program)
    if executable is None:
        raise CredentialUnavailableError(f"{program} was not found on PATH", hint=hint)
    return executable


def run_login_program(argv: list[str], stdin: str, program: str) -> LoginOutput:
    """Run a credential program with the caps every one of them gets."""
    try:
        finished = run_program(
            argv,
            stdin=stdin.encode(),
            timeout=SUBPROCESS_TIMEOUT,
            output_limit=OUTPUT_LIMIT,
        )
    except ProgramError as err:
        raise CredentialUnavailableError(
            f"{program} {err.cause}", hint=f"Check that {program} works when run by hand."
        ) from None
    # Helpers print JSON or a token; a stray invalid byte must not stop the lookup.
    return LoginOutput(
        finished.returncode,
        finished.stdout.decode("utf-8", "replace"),
        finished.stderr.decode("utf-8", "replace"),
    )


def run_credential_helper(name: str, server_url: str) -> Credential | None:
    """``docker-credential-<name> get`` with ``server_url`` on stdin; ``None`` if not found."""
    program = f"docker-credential-{name}"
    if not HELPER_NAME_RE.fullmatch(name):
        raise ImageAuthError(
            f"the credential helper name {name!r} in the docker config is not valid",
            hint="Use a plain helper name such as 'desktop' or 'ecr-login'.",
        )
    executable = locate(program, hint=f"Install {program}, or remove it from the docker config.")
    completed = run_login_program([executable, "get"], server_url, program)
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

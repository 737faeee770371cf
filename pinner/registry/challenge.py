"""Auth challenges (``WWW-Authenticate``) and the bearer tokens they lead to. No I/O here.

Challenges are parsed as RFC 7235 writes them (quoted strings, since scopes hold commas, and
several challenges in one header), Bearer chosen before Basic. A token answer gives ``token``
or ``access_token``; its lifetime (``expires_in``) defaults to, and is never below, 60 seconds.
A token that cannot go in a header (``header_safe``) is refused, naming where it came from but
never the token. Tokens are cached per key until shortly before they expire, with one lock per
key so that concurrent lookups of one repository fetch one token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

from pinner.jsonload import load_json
from pinner.registry.errors import OPERATORS_HINT, ImageLookupError
from pinner.untrusted import header_safe, remember_secret

DEFAULT_EXPIRES_IN = 60
MIN_EXPIRES_IN = 60
# Refresh a little early so a token does not expire between the cache and the registry.
EXPIRY_MARGIN = 10.0

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_RE = re.compile(rf"[\s,]*({_TOKEN})")
_PARAM_RE = re.compile(rf"\s*({_TOKEN})\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^\s,\"]*)\s*")
_QUOTED_PAIR_RE = re.compile(r"\\(.)")
# token68 (e.g. "Negotiate abc==") is skipped: we do not answer such schemes.
_TOKEN68_RE = re.compile(r"\s*[A-Za-z0-9._~+/-]+=*\s*(?=,|$)")


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: Mapping[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")


def parse_challenges(header: str) -> list[Challenge]:
    challenges = []
    position = 0
    while True:
        scheme = _SCHEME_RE.match(header, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        token68 = _TOKEN68_RE.match(header, position)
        if token68 is not None and _PARAM_RE.match(header, position) is None:
            position = token68.end()
        while (param := _PARAM_RE.match(header, position)) is not None:
            name, value = param.group(1).lower(), param.group(2)
            if value.startswith('"'):
                value = _QUOTED_PAIR_RE.sub(r"\1", value[1:-1])
            params[name] = value
            position = param.end()
            # After a comma comes either another parameter or the next challenge's scheme.
            if (
                not header.startswith(",", position)
                or _PARAM_RE.match(header, position + 1) is None
            ):
                break
            position += 1
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


def pick_challenge(headers: Iterable[str]) -> Challenge | None:
    found = [challenge for header in headers for challenge in parse_challenges(header)]
    for scheme in ("bearer", "basic"):
        for challenge in found:
            if challenge.scheme == scheme:
                return challenge
    return None


@dataclass(frozen=True, repr=False)
class Token:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return f"Token(value=<redacted>, expires_at={self.expires_at!r})"


def parse_token_response(body: bytes, now: float, source: str = "the token service") -> Token:
    data = load_json(body)
    if not isinstance(data, dict):
        raise ImageLookupError(
            f"{source} answered with something that is not JSON",
            hint="Check the registry's auth configuration, or report it to its operators.",
        )
    value = data.get("token") or data.get("access_token")
    if not isinstance(value, str) or not value:
        raise ImageLookupError(
            f"{source} answered without a token",
            hint="Check the registry's auth configuration, or report it to its operators.",
        )
    remember_secret(value)
    if not header_safe(value):
        raise ImageLookupError(
            f"{source} sent a token that holds a line break, a control or a non-ASCII "
            "character, so it cannot be sent in an HTTP header",
            hint=OPERATORS_HINT,
        )
    expires_in = data.get("expires_in")
    if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool):
        expires_in = DEFAULT_EXPIRES_IN
    lifetime = max(float(expires_in), MIN_EXPIRES_IN)
    return Token(value, now + lifetime - EXPIRY_MARGIN)


class TokenCache:
    """Thread-safe tokens per key (registry host, realm, service, scope)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[Hashable, Token] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def lookup(self, key: Hashable) -> Token | None:
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and token.expires_at <= self.clock():
                del self._tokens[key]
                return None
            return token

    def store(self, key: Hashable, token: Token) -> None:
        with self._lock:
            self._tokens[key] = token

    def discard(self, key: Hashable, token: Token) -> None:
        with self._lock:
            if self._tokens.get(key) == token:
                del self._tokens[key]

    def key_lock(self, key: Hashable) -> threading.Lock:
        """Held while fetching ``key``'s token, so other threads wait and reuse it."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

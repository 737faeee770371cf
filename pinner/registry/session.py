"""A registry session: answers auth challenges and caches tokens over a :class:`Transport`.

Public API (used by :mod:`pinner.registry.client`):

- ``Endpoint(registry, host)``: ``registry`` is the name credentials are looked up under
  (``docker.io``, or a mirror's host), ``host`` the API ``host[:port]`` (``registry-1.docker.io``).
- ``RegistrySession(keychain, transport, *, gcloud_hosts, clock)``:

  - ``request(method, endpoint, path, *, scope, headers, limit) -> Reply``: sends what is known
    to work for the host (a cached token, fetched at once for a new scope; Basic credentials),
    and on a 401 answers the challenge once: a Bearer token from the realm (anonymous, Basic
    credentials, or the OAuth2 POST for identity tokens, falling back to GET on 404), or Basic.
    A token the registry refused is replaced once.
  - ``auth_failure(endpoint, status, code)``: the 401/403 error with its hint, including why
    credentials were missing (e.g. "gcloud has no active account").

Credentials go only to the registry host and its token realm (a realm must be https unless the
registry may use http; where a realm may lead is decided at connect time, on the resolved
address, by :mod:`pinner.registry.hosts`), never over plain http to a non-loopback host, and
never into messages or logs.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple

import httpx

from pinner.registry.challenge import (
    Challenge,
    Token,
    TokenCache,
    parse_token_response,
    pick_challenge,
)
from pinner.registry.credentials import (
    BasicCredential,
    Credential,
    IdentityToken,
    Keychain,
    RegistryToken,
)
from pinner.registry.errors import (
    OPERATORS_HINT,
    CredentialUnavailableError,
    ImageAuthError,
    ImageLookupError,
)
from pinner.registry.exchange import Reply
from pinner.registry.failures import registry_error
from pinner.registry.hosts import is_loopback
from pinner.registry.keychains import login_hint
from pinner.registry.transport import Transport
from pinner.registry.urls import HTTPS_HINT, base_url, plain_http_allowed, url_host
from pinner.untrusted import header_safe, remember_secret

log = logging.getLogger(__name__)

TOKEN_LIMIT = 64 * 1024
CLIENT_ID = "pinner"


class Endpoint(NamedTuple):
    registry: str
    host: str


class RegistrySession:
    def __init__(
        self,
        keychain: Keychain,
        transport: Transport,
        *,
        gcloud_hosts: frozenset[str],
        clock: Callable[[], float],
    ) -> None:
        self._keychain = keychain
        self._transport = transport
        self._insecure = transport.insecure
        self._gcloud_hosts = gcloud_hosts
        self._tokens = TokenCache(clock)
        self._lock = threading.Lock()
        self._challenges: dict[str, Challenge] = {}
        # registry → (where its credentials came from, what to do if they are refused)
        self._sources: dict[str, tuple[str, str]] = {}
        self._unavailable: dict[str, CredentialUnavailableError] = {}

    def request(
        self,
        method: str,
        endpoint: Endpoint,
        path: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        limit: int,
    ) -> Reply:
        url = httpx.URL(base_url(endpoint.host, self._insecure) + path)
        with self._lock:
            known = self._challenges.get(endpoint.host)
        sent = self._answer(known, endpoint, url, scope, rejected=None) if known else None
        host = endpoint.host
        reply = self._transport.send(method, url, _with_auth(headers, sent), limit, registry=host)
        if reply.status != 401:
            return reply
        challenge = pick_challenge(reply.headers.get_list("www-authenticate"))
        if challenge is None:
            return reply
        with self._lock:
            self._challenges[endpoint.host] = challenge
        answer = self._answer(challenge, endpoint, url, scope, rejected=sent)
        if answer is None:
            return reply
        return self._transport.send(
            method, url, _with_auth(headers, answer), limit, registry=endpoint.host
        )

    def auth_failure(
        self, endpoint: Endpoint, status: int, code: str | None, *, party: str = ""
    ) -> ImageAuthError:
        party = party or f"the registry {endpoint.host}"
        with self._lock:
            used = self._sources.get(endpoint.registry)
            unavailable = self._unavailable.get(endpoint.registry)
        source, hint = used or ("", login_hint(endpoint.registry, self._gcloud_hosts))
        who = f"the credentials from {source}" if source else "anonymous access"
        if status == 403:
            cause = f"{party} denied {who} to the repository"
        else:
            cause = f"{party} refused {who}"
        if unavailable is not None:
            # A sentence of its own: inside the cause it nested parentheses in the status's.
            hint = f"No credentials were sent: {unavailable.cause}. {unavailable.hint}"
        hint += " If you are logged in, check that the repository exists."
        return ImageAuthError(cause, status=status, code=code, hint=hint)

    def _credential(self, registry: str) -> Credential | None:
        try:
            credential = self._keychain.resolve(registry)
        except CredentialUnavailableError as err:
            log.debug("going on without credentials for %s: %s", registry, err.cause)
            with self._lock:
                self._unavailable[registry] = err
            return None
        if credential is not None:
            with self._lock:
                hint = credential.hint or login_hint(registry, self._gcloud_hosts)
                self._sources[registry] = (credential.source or "the keychain", hint)
        return credential

    def _answer(
        self,
        challenge: Challenge,
        endpoint: Endpoint,
        url: httpx.URL,
        scope: str,
        rejected: str | None,
    ) -> str | None:
        """The ``Authorization`` value to send, or ``None`` if there is nothing new to try."""
        credential = self._credential(endpoint.registry)
        if isinstance(credential, RegistryToken) or challenge.scheme == "basic":
            if credential is None:
                return None
            self._check_secret_url(url, endpoint)
            header = _credential_header(credential, endpoint.registry)
            return None if header == rejected else header
        key = (endpoint.host, challenge.realm, challenge.service, scope)
        with self._tokens.key_lock(key):
            token = self._tokens.lookup(key)
            if token is not None and f"Bearer {token.value}" == rejected:
                self._tokens.discard(key, token)
                token = None
            if token is None:
                token = self._fetch_token(challenge, endpoint, scope, credential)
                self._tokens.store(key, token)
        return f"Bearer {token.value}"

    def _fetch_token(
        self,
        challenge: Challenge,
        endpoint: Endpoint,
        scope: str,
        credential: Credential | None,
    ) -> Token:
        realm = self._check_realm(challenge.realm, endpoint)
        params = {"scope": scope, **({"service": challenge.service} if challenge.service else {})}
        get_url = realm.copy_merge_params(params)
        log.debug("fetching a token for %s from %s", scope, url_host(realm))
        headers: dict[str, str] = {}
        if credential is not None:
            self._check_secret_url(realm, endpoint)
            headers["Authorization"] = _credential_header(credential, endpoint.registry)
        reply = None
        if isinstance(credential, IdentityToken):
            form = {"grant_type": "refresh_token", "refresh_token": credential.token}
            form |= {"client_id": CLIENT_ID, **params}
            reply = self._transport.send(
                "POST", realm, {}, TOKEN_LIMIT, form=form, registry=endpoint.host
            )
        if reply is None or reply.status == 404:
            # Token servers without OAuth2 answer the POST with 404 (distribution oauth.md).
            reply = self._transport.send(
                "GET", get_url, headers, TOKEN_LIMIT, registry=endpoint.host
            )
        if reply.status == 200:
            source = f"the token service {url_host(realm)}"
            return parse_token_response(reply.body, self._tokens.clock(), source)
        code = registry_error(reply.body)[0]
        if reply.status in (401, 403):
            party = f"the token service {url_host(realm)}"
            raise self.auth_failure(endpoint, reply.status, code, party=party)
        raise ImageLookupError(
            f"the token service at {url_host(realm)} failed",
            status=reply.status,
            code=code,
            hint="Try again later; if it persists, the registry's token service is broken.",
        )

    def _check_realm(self, realm: str, endpoint: Endpoint) -> httpx.URL:
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise ImageLookupError(
                f"the registry {endpoint.host} sent a Bearer challenge without a usable realm",
                hint=OPERATORS_HINT,
            )
        if url.scheme == "http" and not plain_http_allowed(endpoint.host, self._insecure):
            raise ImageLookupError(
                f"refusing the plain-http token realm {url_host(url)} of {endpoint.host}",
                hint=HTTPS_HINT,
            )
        # Where the realm may lead (not to internal addresses from a public registry) is decided
        # when connecting, on the resolved address: pinner.registry.hosts, .connect.
        return url

    def _check_secret_url(self, url: httpx.URL, endpoint: Endpoint) -> None:
        if url.scheme == "http" and not is_loopback(url_host(url)):
            raise ImageAuthError(
                f"refusing to send the credentials for {endpoint.registry} over plain http "
                f"to {url_host(url)}",
                hint=HTTPS_HINT,
            )


def _with_auth(headers: Mapping[str, str] | None, authorization: str | None) -> dict[str, str]:
    merged = dict(headers or {})
    if authorization is not None:
        merged["Authorization"] = authorization
    return merged


def _credential_header(credential: Credential, registry: str) -> str:
    if isinstance(credential, RegistryToken):
        if not header_safe(credential.token):
            source = credential.source or "the keychain"
            raise ImageAuthError(
                f"the registry token for {registry} in {source} holds a line break, a control "
                "or a non-ASCII character, so it cannot be sent in an HTTP header",
                hint=f"Log in to {registry} again, or fix that entry.",
            )
        return f"Bearer {credential.token}"
    if isinstance(credential, BasicCredential):
        pair = f"{credential.username}:{credential.password}"
    else:
        pair = f"{credential.username}:{credential.token}"
    encoded = base64.b64encode(pair.encode()).decode("ascii")
    remember_secret(encoded)
    return f"Basic {encoded}"

"""HTTP to registries: schemes, redirects, retries and size caps. Knows nothing of auth.

Public API:

- ``plain_http_allowed(host, insecure)``, ``base_url(host, insecure)``, ``check_url(url,
  insecure)``: plain http only for loopback (``localhost``, 127.0.0.0/8, ``::1``) or hosts the
  user marked insecure; everything else is https with verified TLS (``SSL_CERT_FILE`` honoured).
- ``Transport(...).send(method, url, headers, limit, form=None) -> Reply``: follows up to 5
  redirects itself (``Authorization`` is dropped when the host changes, https→http is refused),
  retries 408/429/5xx and connection errors with exponential backoff and jitter, honouring
  ``Retry-After`` up to 30 s (a longer one is not waited for), and reads at most ``limit`` bytes,
  counted after decoding, as they are decoded (:mod:`pinner.registry.decoding`).
  A name that does not resolve is not retried; a host that cannot be resolved or connected to
  is tried once per run, and every later request to it fails at once with the same
  ``HostUnreachableError`` (:mod:`pinner.registry.reachability`).
- ``Reply(status, headers, body, url)``; ``registry_error(body) -> (code, message)``: the first
  ``errors[]`` entry (or OAuth2 ``error``) of a JSON error body; ``url_host(url)``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import NamedTuple

import httpx

from pinner.jsonload import load_json
from pinner.registry import deadline
from pinner.registry.connect import guarded_transport
from pinner.registry.decoding import read_body
from pinner.registry.errors import HostUnreachableError, ImageLookupError
from pinner.registry.hosts import is_loopback, reachable_from, split_host
from pinner.registry.reachability import Reachability, is_unresolvable
from pinner.untrusted import header_safe

log = logging.getLogger(__name__)

USER_AGENT = "pinner/0.1"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
BACKOFF_BASE = 0.5
# A deadline this close counts as reached (the read that timed out ended just before it).
DEADLINE_SLACK = 0.05
HTTPS_HINT = "Use https for this registry (plain http is only for loopback and insecure ones)."


class Reply(NamedTuple):
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL


def plain_http_allowed(host: str, insecure: frozenset[str]) -> bool:
    return is_loopback(host) or host in insecure or split_host(host)[0] in insecure


def base_url(host: str, insecure: frozenset[str]) -> str:
    return f"{'http' if plain_http_allowed(host, insecure) else 'https'}://{host}"


def url_host(url: httpx.URL) -> str:
    name = f"[{url.host}]" if ":" in url.host else url.host
    return f"{name}:{url.port}" if url.port is not None else name


def check_url(url: httpx.URL, insecure: frozenset[str]) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        raise ImageLookupError(f"refusing the URL scheme {url.scheme!r}", hint=HTTPS_HINT)
    if url.scheme == "http" and not plain_http_allowed(url_host(url), insecure):
        raise ImageLookupError(f"refusing plain http to {url_host(url)}", hint=HTTPS_HINT)


def registry_error(body: bytes) -> tuple[str | None, str | None]:
    data = load_json(body)
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code, message = errors[0].get("code"), errors[0].get("message")
        return (
            code if isinstance(code, str) else None,
            message[:200] if isinstance(message, str) else None,
        )
    oauth_error = data.get("error") if isinstance(data, dict) else None
    return (oauth_error if isinstance(oauth_error, str) else None), None


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class Transport:
    def __init__(
        self,
        *,
        insecure: frozenset[str],
        timeout: httpx.Timeout,
        retries: int,
        max_connections: int,
        sleep: Callable[[float], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.insecure = insecure
        self._reachability = Reachability()
        self._retries = retries
        self._sleep = sleep
        self._timeout = timeout
        self._limits = httpx.Limits(max_connections=max_connections)
        self._test_transport = transport
        self._lock = threading.Lock()
        # One client per set of address classes allowed (None: the registry itself), so a
        # connection opened for one rule is never reused under another.
        self._clients: dict[frozenset[str] | None, httpx.Client] = {}
        self._reachable: dict[str, frozenset[str]] = {}

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.close()

    def _client(self, url: httpx.URL, registry: str) -> httpx.Client:
        allowed: frozenset[str] | None = None
        if registry and url_host(url) != registry and self._test_transport is None:
            with self._lock:
                known = self._reachable.get(registry)
            if known is None:
                known = reachable_from(registry)
                with self._lock:
                    self._reachable[registry] = known
            allowed = known
        with self._lock:
            client = self._clients.get(allowed)
            if client is None:
                transport = self._test_transport
                # Behind a proxy, httpx's own transport (which honours HTTPS_PROXY, NO_PROXY):
                # the proxy makes the connection, so its address cannot be checked here.
                if transport is None and not _behind_proxy():
                    transport = guarded_transport(self._limits, allowed)
                client = httpx.Client(
                    timeout=self._timeout,
                    transport=transport,
                    headers={"User-Agent": USER_AGENT},
                )
                self._clients[allowed] = client
            return client

    def send(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        *,
        form: Mapping[str, str] | None = None,
        registry: str = "",
    ) -> Reply:
        host = url_host(url)
        with self._reachability.first_contact(host):
            return self._send(method, url, headers, limit, form, host, registry)

    def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        form: Mapping[str, str] | None,
        host: str,
        registry: str,
    ) -> Reply:
        """``registry``: the host the user named that this request is made for; connections to
        any other host (a realm, a redirect) follow :func:`pinner.registry.hosts.reachable_from`.
        """
        attempt = 0
        while True:
            try:
                reply = self._follow(method, url, headers, limit, form, registry)
            except httpx.TransportError as err:
                text = str(err) or type(err).__name__
                untrusted = "CERTIFICATE_VERIFY_FAILED" in text
                delay = self._backoff(attempt)
                if (
                    attempt >= self._retries
                    or untrusted
                    or isinstance(err, httpx.UnsupportedProtocol)
                    or is_unresolvable(err)  # the same answer a second later
                    or _past_deadline(delay)
                ):
                    failure = _network_failure(url, err, untrusted, self._timeout)
                    if isinstance(failure, HostUnreachableError):
                        self._reachability.failed(host, failure)
                    raise failure from None
                log.debug("%s from %s; retrying in %.1fs", type(err).__name__, url.host, delay)
            else:
                if reply.status not in RETRY_STATUSES or attempt >= self._retries:
                    return reply
                wait = retry_after(reply.headers.get("retry-after"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return reply
                delay = self._backoff(attempt) if wait is None else wait
                if _past_deadline(delay):
                    return reply
                log.debug("HTTP %d from %s; retrying in %.1fs", reply.status, url.host, delay)
            self._sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        return BACKOFF_BASE * 2.0**attempt * (1 + 0.1 * random.random())

    def _follow(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        form: Mapping[str, str] | None,
        registry: str,
    ) -> Reply:
        headers = dict(headers)
        for name, value in headers.items():
            # The callers check credentials and tokens, naming where they came from; this is
            # the backstop: a line break would be sent on, and h11 would print the value.
            if not header_safe(value):
                raise ImageLookupError(
                    f"refusing to send a {name} header that holds a line break, a control or a "
                    "non-ASCII character",
                    hint="Check the credentials configured for this registry.",
                )
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.insecure)
            client = self._client(url, registry)
            request = client.build_request(method, url, headers=headers, data=form)
            log.debug("%s %s", method, url)
            response = client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code not in REDIRECT_STATUSES or not location:
                    # A HEAD reply has no body, but httpcore keeps the connection for the next
                    # request only once the reply has been read to its end: read it (b"").
                    body = (
                        response.read() if method == "HEAD" else _read_capped(response, limit, url)
                    )
                    return Reply(response.status_code, response.headers, body, url)
                target = url.join(location)
            finally:
                response.close()
            if url.scheme == "https" and target.scheme == "http":
                raise ImageLookupError(
                    f"{url_host(url)} redirected from https to plain http; refusing",
                    hint="Report it to the registry's operators.",
                )
            if response.status_code == 303 or (method == "POST" and response.status_code < 307):
                method, form = ("HEAD" if method == "HEAD" else "GET"), None
            if _origin(target) != _origin(url):
                headers.pop("Authorization", None)
                if form is not None:  # 307/308 re-send the form: an OAuth2 refresh token
                    raise ImageLookupError(
                        f"{url_host(url)} redirected a token request that carries credentials to "
                        f"{url_host(target)}; refusing to send them to another host",
                        hint="Report it to the registry's operators.",
                    )
            url = target
        raise ImageLookupError(
            f"{url_host(url)} redirected more than {MAX_REDIRECTS} times",
            hint="Report it to the registry's operators.",
        )


def _behind_proxy() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def _past_deadline(delay: float) -> bool:
    """Whether waiting ``delay`` and trying again would end past the lookup's deadline."""
    left = deadline.remaining()
    return left is not None and left <= delay


def _origin(url: httpx.URL) -> tuple[str, int]:
    return url.host.lower(), url.port or (443 if url.scheme == "https" else 80)


def _read_capped(response: httpx.Response, limit: int, url: httpx.URL) -> bytes:
    declared = response.headers.get("content-length", "")
    too_large = ImageLookupError(
        f"{url_host(url)} sent a response larger than {limit} bytes; refusing to read it",
        hint="Report it to the registry's operators.",
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    if response.is_stream_consumed:
        # Made in memory, already read and decoded by httpx (httpx.MockTransport, in tests).
        return read_body([response.content], [], limit, lambda: too_large)
    encodings = response.headers.get_list("content-encoding", split_commas=True)
    # iter_raw, not iter_bytes: httpx's decoders inflate a whole chunk at once (a gzip bomb).
    return read_body(response.iter_raw(), encodings, limit, lambda: too_large)


def _network_failure(
    url: httpx.URL, err: httpx.TransportError, untrusted: bool, timeout: httpx.Timeout
) -> ImageLookupError:
    host = url_host(url)
    text = (str(err) or type(err).__name__).rstrip(".")
    if untrusted:
        hint = "Its TLS certificate is not trusted; set SSL_CERT_FILE to a CA bundle with its CA."
    else:
        hint = "Check the network connection, the proxy settings and the registry host name."
    if isinstance(err, httpx.TimeoutException):
        seconds = timeout.connect if isinstance(err, httpx.ConnectTimeout) else timeout.read
        limit, left = deadline.current(), deadline.remaining()
        if limit is not None and left is not None and left <= DEADLINE_SLACK:
            seconds = limit.seconds  # the lookup's time ran out, not one read's
        waited = f" within {seconds:g}s" if seconds is not None else ""
        cause = f"{host} did not answer{waited} ({text})"
        hint = "Check the registry host name, or allow more time with --timeout SECONDS."
        if isinstance(err, httpx.ConnectTimeout):
            return HostUnreachableError(cause, host=host, hint=hint)
    elif isinstance(err, httpx.ConnectError) and not untrusted:
        return HostUnreachableError(f"cannot reach {host}: {text}", host=host, hint=hint)
    elif isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        cause = f"the connection to {host} broke off ({text})"
    else:
        cause = f"cannot reach {host}: {text}"
    return ImageLookupError(cause, hint=hint)

"""HTTP to registries: schemes, redirects, retries and size caps. Knows nothing of auth.

Public API:

- ``plain_http_allowed(host, insecure)``, ``base_url(host, insecure)``, ``check_url(url,
  insecure)``: plain http only for loopback (``localhost``, 127.0.0.0/8, ``::1``) or hosts the
  user marked insecure; everything else is https with verified TLS (``SSL_CERT_FILE`` honoured).
- ``Transport(...).send(method, url, headers, limit, form=None) -> Reply``: follows up to 5
  redirects itself (``Authorization`` is dropped when the host changes, https→http is refused),
  retries 408/429/5xx and connection errors with exponential backoff and jitter, honouring
  ``Retry-After`` up to 30 s (a longer one is not waited for), and reads at most ``limit`` bytes.
  A name that does not resolve is not retried; a host that cannot be resolved or connected to
  is tried once per run, and every later request to it fails at once with the same
  ``HostUnreachableError`` (:mod:`pinner.registry.reachability`).
- ``Reply(status, headers, body, url)``; ``registry_error(body) -> (code, message)``: the first
  ``errors[]`` entry (or OAuth2 ``error``) of a JSON error body; ``url_host(url)``.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

import httpx

from pinner.jsonload import load_json
from pinner.registry.errors import HostUnreachableError, ImageLookupError
from pinner.registry.reachability import Reachability, is_unresolvable

log = logging.getLogger(__name__)

USER_AGENT = "pinner/0.1"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
BACKOFF_BASE = 0.5
HTTPS_HINT = "Use https for this registry (plain http is only for loopback and insecure ones)."


class Reply(NamedTuple):
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL


def split_host(host: str) -> tuple[str, str]:
    """``host[:port]`` → (hostname without brackets, port or "")."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.removeprefix(":")
    name, _, port = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return name, port


def is_loopback(host: str) -> bool:
    name = split_host(host)[0].lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._client.close()

    def send(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        *,
        form: Mapping[str, str] | None = None,
    ) -> Reply:
        host = url_host(url)
        with self._reachability.first_contact(host):
            return self._send(method, url, headers, limit, form, host)

    def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        limit: int,
        form: Mapping[str, str] | None,
        host: str,
    ) -> Reply:
        attempt = 0
        while True:
            try:
                reply = self._follow(method, url, headers, limit, form)
            except httpx.TransportError as err:
                text = str(err) or type(err).__name__
                untrusted = "CERTIFICATE_VERIFY_FAILED" in text
                if (
                    attempt >= self._retries
                    or untrusted
                    or isinstance(err, httpx.UnsupportedProtocol)
                    or is_unresolvable(err)  # the same answer a second later
                ):
                    failure = _network_failure(url, err, untrusted, self._client.timeout)
                    if isinstance(failure, HostUnreachableError):
                        self._reachability.failed(host, failure)
                    raise failure from None
                delay = self._backoff(attempt)
                log.debug("%s from %s; retrying in %.1fs", type(err).__name__, url.host, delay)
            else:
                if reply.status not in RETRY_STATUSES or attempt >= self._retries:
                    return reply
                wait = retry_after(reply.headers.get("retry-after"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return reply
                delay = self._backoff(attempt) if wait is None else wait
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
    ) -> Reply:
        headers = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.insecure)
            request = self._client.build_request(method, url, headers=headers, data=form)
            log.debug("%s %s", method, url)
            response = self._client.send(request, stream=True)
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
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


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

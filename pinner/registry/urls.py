"""Which URLs pinner sends requests to: https with verified TLS, plain http only for loopback
(``localhost``, 127.0.0.0/8, ``::1``) and the registries the user marked insecure.

Public API: ``plain_http_allowed(host, insecure)``, ``base_url(host, insecure)`` (a registry's
``scheme://host``), ``check_url(url, insecure)`` (refuses any other scheme, and plain http
elsewhere), ``url_host(url)`` (``host[:port]``, as messages and the host rules name it) and
``HTTPS_HINT``.
"""

from __future__ import annotations

import httpx

from pinner.registry.errors import ImageLookupError
from pinner.registry.hosts import is_loopback, split_host

HTTPS_HINT = "Use https for this registry (plain http is only for loopback and insecure ones)."


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

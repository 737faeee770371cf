"""One request and its answer: headers checked, redirects followed safely, the body read within
its cap. No retries (``pinner.registry.retries``), no connection set-up (``transport``).

Up to ``MAX_REDIRECTS`` redirects are followed here rather than by httpx, so that each hop is
checked: the URL's scheme by the plain-http rule, https→http refused, ``Authorization`` dropped
when the host changes (as go-containerregistry does), and a token request's form never sent to
another host. The body is read at most ``limit`` bytes, counted after decoding, as it is decoded
(:mod:`pinner.registry.decoding`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import NamedTuple

import httpx

from pinner.registry.decoding import read_body
from pinner.registry.errors import OPERATORS_HINT, ImageLookupError
from pinner.registry.urls import check_url, url_host
from pinner.untrusted import header_safe

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Reply(NamedTuple):
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL


def exchange(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    limit: int,
    form: Mapping[str, str] | None,
    *,
    insecure: frozenset[str],
    client_for: Callable[[httpx.URL], httpx.Client],
) -> Reply:
    """Send one request, following redirects; ``client_for`` gives the client for each URL."""
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
        check_url(url, insecure)
        client = client_for(url)
        request = client.build_request(method, url, headers=headers, data=form)
        log.debug("%s %s", method, url)
        response = client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                # A HEAD reply has no body, but httpcore keeps the connection for the next
                # request only once the reply has been read to its end: read it (b"").
                body = response.read() if method == "HEAD" else _read_capped(response, limit, url)
                return Reply(response.status_code, response.headers, body, url)
            target = url.join(location)
        finally:
            response.close()
        if url.scheme == "https" and target.scheme == "http":
            raise ImageLookupError(
                f"{url_host(url)} redirected from https to plain http; refusing",
                hint=OPERATORS_HINT,
            )
        if response.status_code == 303 or (method == "POST" and response.status_code < 307):
            method, form = ("HEAD" if method == "HEAD" else "GET"), None
        if _origin(target) != _origin(url):
            headers.pop("Authorization", None)
            if form is not None:  # 307/308 re-send the form: an OAuth2 refresh token
                raise ImageLookupError(
                    f"{url_host(url)} redirected a token request that carries credentials to "
                    f"{url_host(target)}; refusing to send them to another host",
                    hint=OPERATORS_HINT,
                )
        url = target
    raise ImageLookupError(
        f"{url_host(url)} redirected more than {MAX_REDIRECTS} times", hint=OPERATORS_HINT
    )


def _origin(url: httpx.URL) -> tuple[str, int]:
    return url.host.lower(), url.port or (443 if url.scheme == "https" else 80)


def _read_capped(response: httpx.Response, limit: int, url: httpx.URL) -> bytes:
    declared = response.headers.get("content-length", "")
    too_large = ImageLookupError(
        f"{url_host(url)} sent a response larger than {limit} bytes; refusing to read it",
        hint=OPERATORS_HINT,
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    if response.is_stream_consumed:
        # Made in memory, already read and decoded by httpx (httpx.MockTransport, in tests).
        return read_body([response.content], [], limit, lambda: too_large)
    encodings = response.headers.get_list("content-encoding", split_commas=True)
    # iter_raw, not iter_bytes: httpx's decoders inflate a whole chunk at once (a gzip bomb).
    return read_body(response.iter_raw(), encodings, limit, lambda: too_large)

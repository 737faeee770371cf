"""What went wrong, named: a registry's error answer, and a request that never got one.

Public API:

- ``registry_error(body) -> (code, message)``: the first ``errors[]`` entry (or OAuth2
  ``error``) of a JSON error body.
- ``reply_failure(host, reply)``: the ``ImageLookupError`` for a failed answer (404, 429, 5xx,
  anything unexpected) with the registry's code and message; ``mismatch(cause)``: for an answer
  whose digest does not add up.
- ``network_failure(url, err, untrusted, timeout)``: the ``ImageLookupError``
  (``HostUnreachableError`` where the host could not be reached at all) for an httpx transport
  error, with the timeout that ran out and a hint.
- ``about(image)``: a context manager that names ``image`` in the errors raised inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from pinner.jsonload import load_json
from pinner.registry import deadline
from pinner.registry.errors import HostUnreachableError, ImageLookupError, ImageNotFoundError
from pinner.registry.exchange import Reply
from pinner.registry.mediatypes import REPORT_HINT
from pinner.registry.urls import url_host

# A deadline this close counts as reached (the read that timed out ended just before it).
DEADLINE_SLACK = 0.05


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


def network_failure(
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


def reply_failure(host: str, reply: Reply) -> ImageLookupError:
    """The error for a registry's answer other than 200, 401 or 403 (those are the session's:
    it knows the credentials that were sent)."""
    code, message = registry_error(reply.body)
    said = f"; it says {message!r}" if message else ""
    status = reply.status
    if status == 404:
        return ImageNotFoundError(
            f"{host} has no such repository, tag or digest{said}",
            status=status,
            code=code,
            hint="Check that the repository and tag exist and are spelled right.",
        )
    if status == 429:
        cause, hint = (
            "the registry is rate limiting requests",
            "Wait, or log in for a higher limit.",
        )
    elif status >= 500:
        cause, hint = "the registry had a server error", "Try again later."
    else:
        cause, hint = "the registry gave an unexpected answer", REPORT_HINT
    return ImageLookupError(f"{cause}{said}", status=status, code=code, hint=hint)


def mismatch(cause: str) -> ImageLookupError:
    """A registry's answer that contradicts itself or the digest asked for."""
    return ImageLookupError(cause, hint=REPORT_HINT)


@contextmanager
def about(image: str) -> Iterator[None]:
    """Name ``image`` in errors raised below, which do not know it."""
    try:
        yield
    except ImageLookupError as err:
        if err.image:
            raise
        raise err.with_image(image) from err

"""When a request is tried again: 408/429/5xx answers and connection errors, with exponential
backoff and jitter, honouring ``Retry-After`` up to ``MAX_RETRY_AFTER`` (a longer wait is not
waited for: the answer is returned as it is).

Not retried: a name that does not resolve (the same answer a second later), an untrusted TLS
certificate, an unsupported protocol, and anything whose wait would end past the lookup's
deadline (:mod:`pinner.registry.deadline`). The last failure is named by
:func:`pinner.registry.failures.network_failure`.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable

import httpx

from pinner.registry import deadline
from pinner.registry.errors import HostUnreachableError
from pinner.registry.exchange import Reply
from pinner.registry.failures import network_failure
from pinner.registry.reachability import is_unresolvable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
BACKOFF_BASE = 0.5


def with_retries(
    attempt_once: Callable[[], Reply],
    url: httpx.URL,
    *,
    retries: int,
    sleep: Callable[[float], None],
    timeout: httpx.Timeout,
    unreachable: Callable[[HostUnreachableError], None],
) -> Reply:
    """``attempt_once()``'s reply, tried up to ``retries`` more times; ``unreachable`` is told
    when the failure that ends the tries is a host that cannot be reached."""
    attempt = 0
    while True:
        try:
            reply = attempt_once()
        except httpx.TransportError as err:
            text = str(err) or type(err).__name__
            untrusted = "CERTIFICATE_VERIFY_FAILED" in text
            delay = backoff(attempt)
            if (
                attempt >= retries
                or untrusted
                or isinstance(err, httpx.UnsupportedProtocol)
                or is_unresolvable(err)  # the same answer a second later
                or _past_deadline(delay)
            ):
                failure = network_failure(url, err, untrusted, timeout)
                if isinstance(failure, HostUnreachableError):
                    unreachable(failure)
                raise failure from None
            log.debug("%s from %s; retrying in %.1fs", type(err).__name__, url.host, delay)
        else:
            if reply.status not in RETRY_STATUSES or attempt >= retries:
                return reply
            wait = retry_after(reply.headers.get("retry-after"))
            if wait is not None and wait > MAX_RETRY_AFTER:
                return reply
            delay = backoff(attempt) if wait is None else wait
            if _past_deadline(delay):
                return reply
            log.debug("HTTP %d from %s; retrying in %.1fs", reply.status, url.host, delay)
        sleep(delay)
        attempt += 1


def backoff(attempt: int) -> float:
    return BACKOFF_BASE * 2.0**attempt * (1 + 0.1 * random.random())


def retry_after(value: str | None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _past_deadline(delay: float) -> bool:
    """Whether waiting ``delay`` and trying again would end past the lookup's deadline."""
    left = deadline.remaining()
    return left is not None and left <= delay

"""Wall-clock deadlines: how long one lookup, and one run, may take, retries and waits included.

A read timeout alone does not bound a lookup: a registry that sends a byte every half second
never trips it, and each retry starts the wait again. A deadline is set around each lookup
(``within``) in the thread that makes it; :mod:`pinner.registry.connect` bounds every connect,
read and write by what is left of it, and :mod:`pinner.registry.retries` neither retries
nor waits past it.

Public API:

- ``within(seconds, what)``: a context manager; inside it (in this thread) the deadline is
  ``seconds`` from now, or an earlier one already set. ``what`` names it for messages
  ("--timeout", "the run").
- ``remaining() -> float | None``: seconds left (``None``: no deadline).
- ``bounded(timeout, timeout_error)``: ``timeout`` cut to what is left; raises
  ``timeout_error`` when nothing is.
- ``current() -> Deadline | None``: the deadline in force, for messages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple


class Deadline(NamedTuple):
    at: float  # time.monotonic()
    seconds: float  # as given, for messages
    what: str


_local = threading.local()


def current() -> Deadline | None:
    found: Deadline | None = getattr(_local, "deadline", None)
    return found


@contextmanager
def within(seconds: float, what: str) -> Iterator[Deadline]:
    outer = current()
    mine = Deadline(time.monotonic() + seconds, seconds, what)
    chosen = outer if outer is not None and outer.at <= mine.at else mine
    _local.deadline = chosen
    try:
        yield chosen
    finally:
        _local.deadline = outer


def remaining() -> float | None:
    found = current()
    return None if found is None else found.at - time.monotonic()


def bounded(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise timeout_error("the deadline has passed")
    return left if timeout is None else min(timeout, left)

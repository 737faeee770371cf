"""Hosts that cannot be reached are tried once per run, and failed at once after that.

Without this, a run with no network asked the resolver once per image, retried each name that
does not resolve three times with backoff, and printed one error per image: 37 s and 102 errors
for a tree that uses 30 images on 5 registries.

Public API (used by :mod:`pinner.registry.transport` and :mod:`pinner.registry.retries`):

- ``Reachability()``: one per run, thread-safe. ``first_contact(host)`` is a context manager
  around a request to ``host`` (``host[:port]``): until the host has answered once, one request
  at a time goes to it, so concurrent lookups of one dead host make one attempt between them;
  after it answered, requests run in parallel with no locking. ``failed(host, error)`` records
  that ``host`` cannot be reached; every later ``first_contact(host)`` raises that error again.
- ``is_unresolvable(err)``: whether a connection error is a name that does not resolve (not
  worth a retry: the answer will be the same a second later).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pinner.registry.errors import HostUnreachableError


class Reachability:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: set[str] = set()
        self._failed: dict[str, HostUnreachableError] = {}
        self._gates: dict[str, threading.Lock] = {}

    @contextmanager
    def first_contact(self, host: str) -> Iterator[None]:
        with self._lock:
            self._raise_if_failed(host)
            if host in self._answered:
                gate = None
            else:
                gate = self._gates.setdefault(host, threading.Lock())
        if gate is None:
            yield
            return
        with gate:
            with self._lock:
                self._raise_if_failed(host)
            yield
            with self._lock:
                if host not in self._failed:
                    self._answered.add(host)

    def failed(self, host: str, error: HostUnreachableError) -> None:
        with self._lock:
            self._failed.setdefault(host, error)

    def _raise_if_failed(self, host: str) -> None:
        error = self._failed.get(host)
        if error is not None:
            raise error.with_image(error.image)


def is_unresolvable(err: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False

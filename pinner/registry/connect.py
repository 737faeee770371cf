"""Where connections are made: the host rule at connect time, and the lookup's deadline on every
read and write.

httpx lets a transport choose its network backend (httpcore's); this one wraps the standard
backend so that

- a connection to anything but the registry the user named (a token realm, a redirect target)
  is made only to addresses :func:`pinner.registry.hosts.check_destination` allows, resolved
  here and connected to as resolved;
- every connect, read and write waits at most until the lookup's deadline
  (:mod:`pinner.registry.deadline`): a registry that drips a byte every half second trips no
  read timeout, but it does reach the deadline.

Public API: ``guarded_transport(limits, allowed)``: an ``httpx.HTTPTransport`` whose connections
go only to addresses of the ``allowed`` classes (``None``: any, for the registry itself). Behind
an HTTP proxy (``HTTPS_PROXY``) the proxy makes the connections, and pinner cannot see where.
"""

from __future__ import annotations

import ssl
import typing

import httpcore
import httpx

from pinner.registry import deadline
from pinner.registry.hosts import check_destination


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, deadline.bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, deadline.bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = deadline.bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowed: frozenset[str] | None) -> None:
        self._allowed = allowed
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._allowed is None:
            addresses = [host]
        else:
            # Connect to the addresses checked, not the name: asked again, DNS may answer
            # otherwise. TLS still checks the certificate against the name (server_hostname).
            addresses = check_destination(host, port, self._allowed) or [host]
        failure: Exception | None = None
        for address in addresses:
            bounded = deadline.bounded(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._backend.connect_tcp(
                    address, port, bounded, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
                continue
            return _DeadlineStream(stream)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("pinner does not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def guarded_transport(limits: httpx.Limits, allowed: frozenset[str] | None) -> httpx.BaseTransport:
    transport = httpx.HTTPTransport(limits=limits)
    # httpx takes no network backend, so its pool is replaced by one built the same way
    # (httpx.HTTPTransport.__init__) with ours: tests/unit/registry/test_connect_guard.py
    # fails if a new httpx stops using it.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=True),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(allowed),
    )
    return transport

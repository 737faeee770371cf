"""HTTP to registries: one pooled httpx client per connection rule, and every request through
the retries (``retries``), the redirects and caps (``exchange``) and the host's reachability
(``reachability``). Knows nothing of auth.

Public API: ``Transport(...).send(method, url, headers, limit, form=None, registry="") ->
Reply``. A connection to a host other than ``registry`` (a token realm, a redirect target) goes
only to the address classes :func:`pinner.registry.hosts.reachable_from` allows it, checked at
connect time (:mod:`pinner.registry.connect`); plain http only as :mod:`pinner.registry.urls`
allows; TLS verified (``SSL_CERT_FILE`` honoured). A host that cannot be resolved or connected
to is tried once per run, and every later request to it fails at once with the same
``HostUnreachableError``.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Mapping
from functools import partial

import httpx

from pinner.registry.connect import guarded_transport
from pinner.registry.exchange import Reply, exchange
from pinner.registry.hosts import reachable_from
from pinner.registry.reachability import Reachability
from pinner.registry.retries import with_retries
from pinner.registry.urls import url_host

USER_AGENT = "pinner/0.1"


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
        """``registry``: the host the user named that this request is made for; connections to
        any other host (a realm, a redirect) follow :func:`pinner.registry.hosts.reachable_from`.
        """
        host = url_host(url)
        client_for = partial(self._client, registry=registry)
        attempt_once = partial(
            exchange,
            method,
            url,
            headers,
            limit,
            form,
            insecure=self.insecure,
            client_for=client_for,
        )
        with self._reachability.first_contact(host):
            return with_retries(
                attempt_once,
                url,
                retries=self._retries,
                sleep=self._sleep,
                timeout=self._timeout,
                unreachable=partial(self._reachability.failed, host),
            )


def _behind_proxy() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))

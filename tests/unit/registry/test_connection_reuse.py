"""Resolving many tags reuses pooled connections: one TCP connection, not one per HEAD.

A counting TCP forwarder stands between the client and the real registry and counts the
connections it accepts. (httpcore returns a connection to its pool only once a reply has been
read to its end, so a HEAD reply that is closed unread costs a new connection every time.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from pinner.reference import parse_reference
from pinner.registry.client import RegistryClient
from pinner.registry.resolver import resolve_all
from pinner.settings import Settings
from tests.support.registry_server import Pusher, RegistryServer

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = pytest.mark.realregistry


class CountingForwarder:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                self.accepted += 1
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    def close(self) -> None:
        # Wake the accept and wait for its thread before the descriptor is closed: a thread left
        # in accept() on a closed number can take the next socket given that number (another
        # test's server) and steal its connections.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@pytest.fixture
def forwarder(registry_anonymous: RegistryServer) -> Iterator[CountingForwarder]:
    proxy = CountingForwarder(registry_anonymous.port)
    yield proxy
    proxy.close()


def test_sequential_heads_share_one_connection(
    forwarder: CountingForwarder, pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digests = {f"t{i}": pusher_anonymous.push_image(unique_repo, f"t{i}", seed=i) for i in range(6)}
    refs = [parse_reference(f"{forwarder.host}/{unique_repo}:{tag}") for tag in digests]
    with RegistryClient(Settings(concurrency=1, per_registry=1)) as client:
        result = resolve_all(refs, client)
    assert {key[2]: digest for key, digest in result.digests.items()} == digests
    assert forwarder.accepted == 1


def test_concurrent_heads_reuse_at_most_one_connection_per_worker(
    forwarder: CountingForwarder, pusher_anonymous: Pusher, unique_repo: str
) -> None:
    tags = [f"t{i}" for i in range(24)]
    for index, tag in enumerate(tags):
        pusher_anonymous.push_image(unique_repo, tag, seed=index)
    refs = [parse_reference(f"{forwarder.host}/{unique_repo}:{tag}") for tag in tags]
    with RegistryClient(Settings(concurrency=4, per_registry=4)) as client:
        result = resolve_all(refs, client)
    assert len(result.digests) == len(tags) and not result.failures
    assert forwarder.accepted <= 4

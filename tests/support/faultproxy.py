"""A small misbehaving HTTP/1.1 server on 127.0.0.1, for fault tests.

pytest-httpserver answers every request well formed; the faults here are the ones it cannot play:
a server that reads the request and never answers, closes without a byte, promises a body longer
than it sends, streams an endless chunked body, drips an answer a byte at a time, sends raw bytes
as they are, or stops listening after a number of requests. tests/support/hostile_registry.py
builds a whole misbehaving registry on it.

    with FaultServer(lambda request: Hang()) as server:
        ...  # server.host is "127.0.0.1:PORT"; server.requests lists what arrived

Every answer closes its connection (``Connection: close``), so each request opens a new one and
``die_after`` makes the next request meet a closed port (connection refused).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from tests.support.closing import ClosedOnExit

REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # names lowercased
    body: bytes


@dataclass(frozen=True)
class Reply:
    """A well-formed answer with a Content-Length."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the server stops)."""


@dataclass(frozen=True)
class Close:
    """Close the connection without sending a byte."""


@dataclass(frozen=True)
class Truncated:
    """Promise ``declared`` bytes of body, send ``body`` (shorter), then close."""

    body: bytes
    declared: int
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunked:
    """A chunked body with no Content-Length: ``chunks`` are sent as they come."""

    chunks: Iterable[bytes]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Drip:
    """Send ``data`` (a whole raw answer, status line included) one byte every ``interval``
    seconds: each read gets a byte in time, so no read timeout ever trips."""

    data: bytes
    interval: float


@dataclass(frozen=True)
class Raw:
    """Send ``data`` (a whole raw answer, status line included) as it is, then close."""

    data: bytes


Action = Reply | Hang | Close | Truncated | Chunked | Drip | Raw
Respond = Callable[[Request], Action]
_Server = TypeVar("_Server", bound="FaultServer")


class FaultServer(ClosedOnExit):
    def __init__(self, respond: Respond, *, die_after: int | None = None) -> None:
        """``respond`` picks each answer; after ``die_after`` answers the server stops."""
        self.respond = respond
        self.die_after = die_after
        self.requests: list[Request] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self: _Server) -> _Server:
        """Start answering (``with FaultServer(...)`` does)."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening and drop every open connection: later connections are refused."""
        self._stopped.set()
        self._stop_listening()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            self._close(connection)

    def _stop_listening(self) -> None:
        # The accept is woken (shutdown) and its thread joined before the descriptor is closed:
        # a thread left in accept() on a closed number can take the next socket given that
        # number, another test's server, and steal its connections.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            request = _read_request(connection)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
                answered = len(self.requests)
            action = self.respond(request)
            dying = self.die_after is not None and answered >= self.die_after
            if dying:
                # Refuse new connections before the client has the answer: a quick client could
                # otherwise connect again in between (the kernel accepts into the backlog).
                self._stop_listening()
            self._act(connection, request, action)
            if dying:
                self.close()
        except OSError:
            pass  # the client went away, or close() closed the socket
        finally:
            self._close(connection)
            with self._lock:
                self._connections.discard(connection)

    def _act(self, connection: socket.socket, request: Request, action: Action) -> None:
        if isinstance(action, Hang):
            self._stopped.wait()
        elif isinstance(action, Reply):
            length = str(len(action.body))
            head = _head(action.status, {**action.headers, "Content-Length": length})
            connection.sendall(head + (b"" if request.method == "HEAD" else action.body))
        elif isinstance(action, Truncated):
            length = str(action.declared)
            connection.sendall(
                _head(action.status, {**action.headers, "Content-Length": length}) + action.body
            )
        elif isinstance(action, Chunked):
            connection.sendall(
                _head(action.status, {**action.headers, "Transfer-Encoding": "chunked"})
            )
            for chunk in action.chunks:
                if self._stopped.is_set():
                    return
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.sendall(b"0\r\n\r\n")
        elif isinstance(action, Drip):
            for position in range(len(action.data)):
                if self._stopped.wait(action.interval):
                    return
                connection.sendall(action.data[position : position + 1])
        elif isinstance(action, Raw):
            connection.sendall(action.data)
        # Close: nothing to send; the connection is closed by the caller.

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in {**headers, "Connection": "close"}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_request(connection: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


def free_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port

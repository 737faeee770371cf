"""A TCP proxy that delays every request chunk, to model a network round trip on loopback.

Run as ``python benchmarks/proxy.py UPSTREAM_PORT DELAY_MS``: it listens on 127.0.0.1 on a free
port, prints that port on one line, and forwards to 127.0.0.1:UPSTREAM_PORT until killed. Each
chunk from the client waits ``DELAY_MS`` before it is forwarded, so every HTTP request on a
kept-alive connection costs one simulated round trip. It runs in its own process so that its
threads do not compete with the measured client for the GIL.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time

CHUNK = 65536


def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    with contextlib.suppress(OSError):
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            if delay:
                time.sleep(delay)
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _serve(client: socket.socket, upstream_port: int, delay: float) -> None:
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client, 0.0), daemon=True)
    back.start()
    _pump(client, upstream, delay)
    back.join()
    client.close()
    upstream.close()


def main(argv: list[str]) -> int:
    upstream_port, delay = int(argv[0]), float(argv[1]) / 1000
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve, args=(client, upstream_port, delay), daemon=True).start()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

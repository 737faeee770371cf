"""A fake registry on 127.0.0.1 that attacks its client in one chosen way (its mode).

    with HostileRegistry("bomb") as registry:
        main(["digest", registry.image()])

Every mode serves ``/v2/`` and the manifests of one repository (``hostile/app``); the mode picks
what goes wrong:

- ``bomb``: HEAD gives no digest, so the client GETs; the GET body is ``Content-Encoding: gzip,
  gzip``, 3.4 KB that inflate to 2 GiB (``bomb_size``).
- ``drip``: every answer is sent one byte every ``interval`` seconds (headers included), so no
  read ever times out.
- ``link-loop``: the tag list's ``Link`` points back at itself; ``link-endless``: every page
  links to a new page and carries ``page_tags`` tags.
- ``token-newline`` / ``token-non-ascii``: a Bearer challenge whose token service (on the same
  server) issues a token holding a line break / non-ASCII letters (``TOKEN`` inside).
- ``realm``: a Bearer challenge naming ``target`` as the realm; ``redirect``: the manifest HEAD
  answers 307 to ``target``.
- ``sha512-head``: HEAD names a ``sha512:`` digest (of the body); GET serves the manifest.
- ``error-escapes``: HEAD is "not allowed" (405), and the GET gets a 404 whose error code and
  message hold ESC sequences, a carriage return and a forged ``::warning`` line (``FORGED``).

``requests`` lists what arrived (see :class:`tests.support.faultproxy.FaultServer`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
import zlib

from tests.support.faultproxy import Action, Drip, FaultServer, Reply, Request, _head

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}
).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
SHA512 = "sha512:" + hashlib.sha512(MANIFEST).hexdigest()
REPOSITORY = "hostile/app"
TOKEN = "tok-hostile-secret"
FORGED = "::warning file=README.md,line=1::forged by the registry"
ESCAPES = f"\x1b[2J\x1b]0;owned\x07\rnot found\n{FORGED}"
MODES = (
    "bomb",
    "drip",
    "link-loop",
    "link-endless",
    "token-newline",
    "token-non-ascii",
    "realm",
    "redirect",
    "sha512-head",
    "error-escapes",
)
BOMB_SIZE = 2 << 30
MIB = 1 << 20


@functools.cache
def gzip_bomb(size: int = BOMB_SIZE) -> bytes:
    """``size`` zero bytes gzipped twice (a few KB): built from one compressed MiB repeated,
    since compressing 2 GiB takes longer than the test."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MIB)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor starts afresh: each further MiB compresses alike.
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    ending = compressor.flush()[:-8]  # the final block, without the trailer (CRC, size)
    crc = 0
    for _ in range(size // MIB):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    inner = first + repeated * (size // MIB - 1) + ending + trailer
    outer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return outer.compress(inner) + outer.flush()


def _error(status: int, code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class HostileRegistry(FaultServer):
    def __init__(
        self,
        mode: str,
        *,
        target: str = "",
        interval: float = 0.2,
        page_tags: int = 1000,
        bomb_size: int = BOMB_SIZE,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode
        self.target = target
        self.interval = interval
        self.page_tags = page_tags
        self.bomb_size = bomb_size
        super().__init__(self._respond)

    def image(self, tag: str = "v1") -> str:
        return f"{self.host}/{REPOSITORY}:{tag}"

    def _respond(self, request: Request) -> Action:
        answer = self._answer(request)
        if self.mode == "drip" and isinstance(answer, Reply):
            body = b"" if request.method == "HEAD" else answer.body
            headers = {**answer.headers, "Content-Length": str(len(answer.body))}
            return Drip(_head(answer.status, headers) + body, self.interval)
        return answer

    def _answer(self, request: Request) -> Action:
        path = request.path.split("?", 1)[0]
        if self.mode.startswith("token-"):
            if path == "/token":
                token = f"{TOKEN}\r\nX-Injected: 1" if self.mode == "token-newline" else f"{TOKEN}é"
                return Reply(
                    200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()
                )
            if "authorization" not in request.headers:
                realm = f"http://{self.host}/token"
                return Reply(401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'})
        if self.mode == "realm" and "authorization" not in request.headers:
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{self.target}",service="x"'})
        if path.endswith("/tags/list"):
            return self._tags(request)
        if not path.startswith(f"/v2/{REPOSITORY}/manifests/"):
            return Reply(200, {"Content-Type": "application/json"}, b"{}")
        if self.mode == "redirect":
            return Reply(307, {"Location": self.target})
        if self.mode == "error-escapes":
            if request.method == "HEAD":  # a HEAD has no body: make the client GET
                return Reply(405)
            return Reply(404, {"Content-Type": "application/json"}, _error(404, ESCAPES, ESCAPES))
        headers = {"Content-Type": OCI_MANIFEST}
        if self.mode == "bomb":
            if request.method == "HEAD":
                return Reply(200, headers)
            body = gzip_bomb(self.bomb_size)
            return Reply(200, {**headers, "Content-Encoding": "gzip, gzip"}, body)
        digest = SHA512 if self.mode == "sha512-head" and request.method == "HEAD" else DIGEST
        return Reply(200, {**headers, "Docker-Content-Digest": digest}, MANIFEST)

    def _tags(self, request: Request) -> Action:
        page = int(request.path.rpartition("page=")[2] or 0) if "page=" in request.path else 0
        tags = [f"t{page}-{number}" for number in range(self.page_tags)]
        body = json.dumps({"name": REPOSITORY, "tags": tags}).encode()
        following = page if self.mode == "link-loop" else page + 1
        link = f'</v2/{REPOSITORY}/tags/list?n=1000&page={following}>; rel="next"'
        if self.mode not in ("link-loop", "link-endless"):
            return Reply(200, {"Content-Type": "application/json"}, body)
        if self.mode == "link-loop":
            link = f'<{request.path}>; rel="next"'
        return Reply(200, {"Content-Type": "application/json", "Link": link}, body)

"""Read a response body within a cap that counts the bytes as they are decoded. No httpx here.

A registry may send ``Content-Encoding: gzip`` (or ``gzip, gzip``) even when asked for
``identity``. httpx would decode it, but its decoders hand back all a chunk inflates to at once:
3.4 KB of nested gzip became 2 GiB in memory before any cap could look at it. Here every layer
inflates at most ``PIECE`` bytes per step, so the cap is checked long before memory grows.

Public API:

- ``read_body(raw_chunks, encodings, limit, too_large)``: the decoded body of a response whose
  raw bytes come in ``raw_chunks`` and whose ``Content-Encoding`` values are ``encodings`` (in
  the order they were applied); ``too_large()`` makes the error raised once either the raw or
  the decoded bytes pass ``limit``. ``identity``, ``gzip``/``x-gzip`` and ``deflate`` (zlib or
  raw) are decoded; anything else is refused with :class:`UnknownEncodingError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

from pinner.registry.errors import ImageLookupError

# The most one decoding step may produce: small, so nested layers stay small too.
PIECE = 64 * 1024
GZIP_WBITS = zlib.MAX_WBITS | 16


class UnknownEncodingError(ImageLookupError):
    """The body came in a content encoding pinner does not decode."""


class _Inflater:
    """One gzip or deflate layer that inflates at most ``PIECE`` bytes per step."""

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        # deflate is zlib-wrapped by the standard, raw by some servers: try zlib first.
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else GZIP_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                piece = self._inflater.decompress(data, PIECE)
            except zlib.error:
                if not (self._deflate and not self._started):
                    raise
                self._inflater, self._deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self._started = True
            data = self._inflater.unconsumed_tail
            if piece:
                yield piece
            # A full piece may leave output pending inside zlib even with no input left.
            if not data and len(piece) < PIECE:
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if not self._inflater.eof:  # cut short: what came is not the whole body
            raise zlib.error("the compressed stream ended early")


def _layers(encodings: Iterable[str]) -> list[_Inflater]:
    layers = []
    # Content-Encoding lists the encodings in the order applied: undo them from the last.
    for encoding in reversed([e.strip().lower() for e in encodings if e.strip()]):
        if encoding == "identity":
            continue
        if encoding in ("gzip", "x-gzip", "deflate"):
            layers.append(_Inflater("deflate" if encoding == "deflate" else "gzip"))
            continue
        raise UnknownEncodingError(
            f"the registry sent the body in the {encoding!r} content encoding, which pinner "
            "does not decode",
            hint="Report it to the registry's operators (pinner asks for gzip or no encoding).",
        )
    return layers


def _through(layers: list[_Inflater], pieces: Iterable[bytes]) -> Iterator[bytes]:
    for layer in layers:
        pieces = _fed(layer, pieces)
    return iter(pieces)


def _fed(layer: _Inflater, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from layer.feed(piece)


def _finished(layers: list[_Inflater], received: Callable[[], int]) -> Iterator[bytes]:
    if not received():  # no body at all (a 404 that names an encoding): nothing to finish
        return
    # What each layer still holds goes through the layers after it.
    for position, layer in enumerate(layers):
        yield from _through(layers[position + 1 :], layer.finish())


def read_body(
    raw_chunks: Iterable[bytes],
    encodings: Iterable[str],
    limit: int,
    too_large: Callable[[], ImageLookupError],
) -> bytes:
    layers = _layers(encodings)
    received = 0

    def counted() -> Iterator[bytes]:
        nonlocal received
        for chunk in raw_chunks:
            received += len(chunk)
            if received > limit:
                raise too_large()
            yield chunk

    body, size = [], 0
    try:
        for piece in _chain(_through(layers, counted()), _finished(layers, lambda: received)):
            size += len(piece)
            if size > limit:
                raise too_large()
            body.append(piece)
    except zlib.error:
        raise ImageLookupError(
            "the registry sent a compressed body that does not decompress",
            hint="Report it to the registry's operators (or a proxy in between).",
        ) from None
    return b"".join(body)


def _chain(*parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part

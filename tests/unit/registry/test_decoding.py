"""pinner.registry.decoding: bodies decoded in small steps, capped as they are decoded."""

from __future__ import annotations

import gzip
import zlib

import pytest

from pinner.registry.decoding import PIECE, UnknownEncodingError, read_body
from pinner.registry.errors import ImageLookupError
from tests.support.hostile_registry import gzip_bomb

BODY = b'{"schemaVersion": 2, "layers": []}' * 3000


def too_large() -> ImageLookupError:
    return ImageLookupError("too large")


def chunks(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("encodings", "encoded"),
    [
        ([], BODY),
        (["identity"], BODY),
        (["gzip"], gzip.compress(BODY)),
        (["x-gzip"], gzip.compress(BODY)),
        (["gzip", "gzip"], gzip.compress(gzip.compress(BODY))),
        (["deflate"], zlib.compress(BODY)),
        (["deflate"], zlib.compress(BODY)[2:-4]),  # raw deflate, as some servers send it
        (["GZIP", " identity "], gzip.compress(BODY)),
    ],
)
def test_bodies_decode_as_httpx_would(encodings: list[str], encoded: bytes) -> None:
    assert read_body(chunks(encoded), encodings, len(BODY), too_large) == BODY


def test_the_cap_counts_decoded_bytes() -> None:
    with pytest.raises(ImageLookupError, match="too large"):
        read_body(chunks(gzip.compress(BODY)), ["gzip"], len(BODY) - 1, too_large)


def test_the_cap_counts_raw_bytes_too() -> None:
    with pytest.raises(ImageLookupError, match="too large"):
        read_body(chunks(BODY), [], len(BODY) - 1, too_large)


def test_a_bomb_stops_at_the_cap() -> None:
    # Its memory is measured in test_hostile_registry.py; here, that decoding stops early.
    with pytest.raises(ImageLookupError, match="too large"):
        read_body(chunks(gzip_bomb(256 << 20), 64), ["gzip", "gzip"], 4 << 20, too_large)
    assert PIECE <= 64 * 1024


def test_unknown_encodings_are_refused() -> None:
    with pytest.raises(UnknownEncodingError, match="'br' content encoding"):
        read_body([b"x"], ["br"], 100, too_large)


@pytest.mark.parametrize(
    "encoded",
    [
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 20,  # not deflate data
        gzip.compress(BODY)[:-20],  # cut short
    ],
)
def test_a_corrupt_or_truncated_body_is_a_clear_error(encoded: bytes) -> None:
    with pytest.raises(ImageLookupError, match="does not decompress"):
        read_body([encoded], ["gzip"], len(BODY), too_large)


def test_an_empty_body_with_an_encoding_is_empty() -> None:
    assert read_body([], ["gzip"], 100, too_large) == b""

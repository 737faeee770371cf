"""``load_json``: JSON from outside is decoded, or is None, whatever way it is broken."""

from __future__ import annotations

import pytest

from pinner.jsonload import load_json


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[" * 100_000,  # RecursionError inside json
        b"\xff\xfe\x00",  # not text
        b'{"n": ' + b"1" * 5000 + b"}",  # ValueError: more digits than int() converts
        "{'single': 'quotes'}",
    ],
    ids=["empty", "unclosed", "deeply-nested", "not-text", "too-many-digits", "not-json"],
)
def test_what_cannot_be_decoded_is_none(data: bytes | str) -> None:
    assert load_json(data) is None


def test_json_is_decoded_from_bytes_and_text() -> None:
    assert load_json(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert load_json('"text"') == "text"

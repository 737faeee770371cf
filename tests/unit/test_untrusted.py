"""pinner.untrusted: text pinner did not write, made safe for a terminal, a CI log and each
format, with every remembered secret redacted."""

from __future__ import annotations

import json

import pytest

from pinner import untrusted

ONE_LINE = {
    "plain text": ("nginx:1.25 is not pinned", "nginx:1.25 is not pinned"),
    "tab kept": ("a\tb", "a\tb"),
    "line feed": ("a\n::warning file=x::y", "a\\n::warning file=x::y"),
    "carriage return": ("shown\rhidden", "shown\\rhidden"),
    "ESC sequence": ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
    "OSC title": ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
    "NUL and DEL": ("a\x00b\x7f", "a\\x00b\\x7f"),
    "C1 CSI": ("a\x9b2J", "a\\x9b2J"),
    "next line U+0085": ("a\x85b", "a\\x85b"),
    "line separator": ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
    "bidi override": ("abc\u202edcba", "abc\\u202edcba"),
    "non-ASCII letters kept": ("café 日本", "café 日本"),
}


@pytest.mark.parametrize("case", ONE_LINE)
def test_one_line(case: str) -> None:
    given, expected = ONE_LINE[case]
    assert untrusted.one_line(given) == expected


def test_lines_keeps_line_ends_and_crlf() -> None:
    assert untrusted.lines("a\x1b\r\nb\rc\n") == "a\\x1b\r\nb\\rc\n"


def test_message_lines_keep_only_indented_continuations() -> None:
    message = untrusted.continued("failed\n::error::forged", "used at a.yaml:1:2")
    assert untrusted.message_lines(message) == [
        "failed\\n::error::forged",
        "  used at a.yaml:1:2",
    ]
    assert untrusted.message_lines("one\n::warning::two\n  three\n") == [
        "one\\n::warning::two",
        "  three",
    ]


def test_github_escaping() -> None:
    assert untrusted.github_data("100%\r\nnext\x1b[0m") == "100%25%0D%0Anext\\x1b[0m"
    assert untrusted.github_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_json_text_escapes_what_json_leaves_raw() -> None:
    document = {"message": "a\x1b[2J\x85\u2028\u202e é"}
    text = untrusted.json_text(document)
    assert text == '{\n  "message": "a\\u001b[2J\\u0085\\u2028\\u202e é"\n}\n'
    assert json.loads(text) == document


def test_remembered_secrets_are_redacted_in_every_spelling() -> None:
    untrusted.remember_secret("s3cr3t\nline")
    untrusted.remember_secret("abc")  # too short to look for
    assert untrusted.one_line("token s3cr3t\nline here") == "token <redacted> here"
    assert untrusted.json_text(["s3cr3t\nline"]) == '[\n  "<redacted>"\n]\n'
    assert untrusted.redact("abc") == "abc"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("Bearer abc.DEF-123_=", True),
        ("a\nb", False),
        ("a\rb", False),
        ("tökén", False),
        ("", True),
    ],
)
def test_header_safe(value: str, safe: bool) -> None:
    assert untrusted.header_safe(value) is safe

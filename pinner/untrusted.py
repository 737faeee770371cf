"""Text pinner did not write itself, made safe to show: on a terminal, in a CI log, in each format.

A registry's error message, a tag, a manifest's ``metadata.name`` or a file name may hold an ESC
sequence (which repaints the terminal), a carriage return (which hides what came before), or a
line break (which starts a line of its own: in a GitHub Actions log, a line starting with ``::``
is a workflow command, so a forged ``::warning file=…`` line would be obeyed). Secrets in play
are also replaced here, whatever message they slipped into.

Public API (the CLI's ``out`` and ``err`` and :mod:`pinner.report` call these; nothing else
needs to):

- ``one_line(text)``: ``text`` with every control character, C1 control, Unicode line or
  paragraph separator and bidirectional override written as a visible escape (``\\x1b``,
  ``\\n``, ``\\u2028``); tab is kept. The result never moves the cursor or starts a line.
- ``lines(text)``: ``one_line`` for each ``\\n``-separated line of ``text``, the separators kept
  (and a ``\\r`` right before one, so CRLF text stays as it is).
- ``message_lines(text)``: one message as lines: the first, then only continuation lines that
  pinner writes (``\\n`` followed by two spaces, see ``continued``); any other line break is
  escaped, so an untrusted one cannot start a line.
- ``continued(message, detail)``: ``message`` with an indented second line (``  used at …``),
  both made one line first.
- ``github_data(text)`` / ``github_property(text)``: GitHub's workflow-command escaping (``%``,
  ``\\r``, ``\\n``; in properties also ``:`` and ``,``), then ``one_line``.
- ``json_text(document)``: ``json.dumps`` (indented, non-ASCII kept) with the characters JSON
  leaves raw but a terminal obeys (DEL, C1 controls, U+2028/U+2029, bidi overrides) escaped.
- ``header_safe(value)``: whether a value can be sent in an HTTP header as it is.
- ``remember_secret(value)``: a credential now in play; ``redact(text)`` replaces every one
  remembered (and its base64 in a Basic pair) with ``<redacted>``.
"""

from __future__ import annotations

import re
import threading

REDACTED = "<redacted>"
# C0 controls but tab, DEL, C1 controls; U+0085 and the Unicode line and paragraph separators;
# the bidirectional embeddings, overrides and isolates ("Trojan Source").
_UNSAFE_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# In JSON, C0 controls are always escaped by json.dumps: only these remain.
_JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}
# A secret shorter than this is not looked for: it would blank out ordinary words.
MIN_SECRET_LENGTH = 4
CONTINUATION = "  "

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    return _UNSAFE_RE.sub(_escape, redact(text))


def lines(text: str) -> str:
    parts = text.split("\n")
    safe = []
    for part in parts:
        ending = "\r" if part.endswith("\r") else ""
        safe.append(one_line(part.removesuffix("\r")) + ending)
    return "\n".join(safe)


def message_lines(text: str) -> list[str]:
    found: list[str] = []
    for part in text.removesuffix("\n").split("\n"):
        if found and not part.startswith(CONTINUATION):
            found[-1] += "\\n" + part
        else:
            found.append(part)
    return [one_line(line) for line in found]


def continued(message: str, detail: str) -> str:
    return f"{one_line(message)}\n{CONTINUATION}{one_line(detail)}"


def github_data(text: str) -> str:
    # GitHub's workflow-command escaping (actions/toolkit command.ts escapeData).
    return one_line(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def github_property(text: str) -> str:
    # escapeProperty: also ':' and ',', which separate the properties.
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def json_text(document: object) -> str:
    import json  # here: a commit hook's text report needs no JSON encoder

    text = json.dumps(document, indent=2, ensure_ascii=False)
    escaped = _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", redact(text))
    return escaped + "\n"


def header_safe(value: str) -> bool:
    """Whether ``value`` can go in an HTTP header as it is: visible ASCII and spaces only (a
    line break would end the header, and a non-ASCII character cannot be encoded)."""
    return value.isascii() and value.isprintable()


def remember_secret(value: str) -> None:
    """Note a credential in play (a password, a token) so no output shows it."""
    if len(value) < MIN_SECRET_LENGTH:
        return
    import json  # only once a credential is in play

    with _secrets_lock:
        _secrets.add(value)
        # A secret holding characters JSON or the escapes above rewrite would slip through in
        # that form: remember those spellings too.
        _secrets.add(json.dumps(value, ensure_ascii=False)[1:-1])
        _secrets.add(_UNSAFE_RE.sub(_escape, value))


def forget_secrets() -> None:
    """Forget every remembered secret (for tests: each run of pinner is one process)."""
    with _secrets_lock:
        _secrets.clear()


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text

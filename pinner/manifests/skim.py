"""Skip composing the documents of a stream that cannot hold an image, and stay exact.

Composing is most of the cost of reading YAML, and most of the bytes of a real repository are in
documents that hold no image: a CustomResourceDefinition's schema, ConfigMaps, RBAC. ``skim``
looks at each document's text (split on ``---``/``...`` lines) and blanks out, character for
character, every document that the finder provably gets nothing from, so that libyaml composes
only the rest while every line, column and offset stays where it was.

A document is blanked only when all of these hold for its text:

- it does not contain ``image``, nor an escape that could spell it (``\\x``, ``\\u``, ``\\U`` or
  an escaped line break), nor an anchor or alias (the composer's own errors);
- it is a block mapping whose keys at column 0 are plain words, none twice (the finder reports
  a duplicate key), with a plain ``kind`` that is not a ``List`` nor one of ``compose_kinds``
  (kinds whose pod spec the finder follows even without images: their mappings are checked);
- its ``metadata`` mapping, if any, is a block mapping of plain, distinct keys.

Before anything is blanked, libyaml's parser checks the syntax of the whole stream (``raw_parse``,
which builds no Python objects): a file with invalid YAML anywhere is composed in full, so the
error is reported as before. What is not reported any more is only what the composer itself
finds in a blanked document, which the rules above leave nothing of.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from _ruamel_yaml import CParser
from ruamel.yaml.reader import ReaderError

from pinner.manifests.yamlnodes import MarkedYAMLError, Node, check_depth, iter_documents

# A document marker: --- or ... at the start of a line, followed by a blank or the line's end.
# (Patterns that find lines start with "\n", not "^": the regex engine then searches for the
# newline quickly instead of trying every position.)
_MARKER = r"(?:---|\.\.\.)(?=[ \t\r\n]|\Z)"
_MARKER_RE = re.compile(rf"\n{_MARKER}")
_MARKER_LINE_RE = re.compile(r"(?:---|\.\.\.)[ \t]*(?:#[^\n]*)?\r?(?:\n|\Z)")
# A line that starts at column 0 with something other than a blank or a comment.
_TOP_LINE = r"[^ \t\r\n#][^\n]*"
_TOP_LINE_RE = re.compile(rf"\n({_TOP_LINE})")
_FIRST_TOP_LINE_RE = re.compile(_TOP_LINE)
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./-]*"
_KEY_RE = re.compile(rf"({_KEY})[ \t]*:(?=[ \t\r]|$)")
_KIND_RE = re.compile(
    r"kind[ \t]*:[ \t]+(?:([A-Za-z0-9]+)|\"([A-Za-z0-9]+)\"|'([A-Za-z0-9]+)')"
    r"(?:[ \t]+(?:#.*)?)?\r?$"
)
_EMPTY_VALUE_RE = re.compile(rf"{_KEY}[ \t]*:(?:[ \t]+(?:#.*)?)?\r?$")
_SEQUENCE_ENTRY_RE = re.compile(r"-(?:[ \t]|\r?$)")
_CONTENT_LINE_RE = re.compile(r"^([ \t]*)([^ \t\r\n#][^\n]*)", re.MULTILINE)
# Escapes that could spell a key in a double-quoted scalar; anchors and aliases.
_RISKY_RE = re.compile(r"\\[xuU\r\n]|(?:^|[ \t\[{,])[&*][^ \t\r\n,\[\]{}]", re.MULTILINE)
_LONE_CR_RE = re.compile(r"\r(?!\n)")
# Line breaks libyaml knows besides \n and \r\n: with them, lines are not what they seem here.
_ODD_BREAKS = ("\x85", "\u2028", "\u2029")
# Blanking is worth a syntax check of the whole stream only when it spares this much composing.
MIN_SKIPPED_SHARE = 0.2
_ASCII_BLANKS = bytes(
    byte if byte in b"\r\n" else ord(" ") for byte in range(256)
)  # translation table: everything but line breaks becomes a space


def compose_relevant(text: str, compose_kinds: Collection[str]) -> Iterator[Node]:
    """The root node of each document, one at a time; the documents ``skim`` blanks are empty
    (or missing, at the end)."""
    skimmed = skim(text, compose_kinds)
    if skimmed == "":
        return
    if skimmed is None:
        yield from iter_documents(text)
        return
    given = -1  # where the last document given starts: both texts have the same offsets
    try:
        # Blanking and cutting never deepen the nesting that skim's check_depth cleared.
        for node in iter_documents(skimmed, depth_checked=True):
            given = node.start_mark.index
            yield node
        return
    except MarkedYAMLError:
        pass  # blanking upset something libyaml checks across documents: read the rest in full
    for node in iter_documents(text):
        if node.start_mark.index > given:
            yield node


def skim(text: str, compose_kinds: Collection[str]) -> str | None:
    """``text`` with the documents that cannot matter blanked out, or None to compose it all.

    The documents after the last one that matters are cut off rather than blanked, so a stream
    of which nothing matters skims to "". None when too little would be skipped, or when the
    stream is not valid YAML (composing all of it reports the error exactly as before).
    """
    if any(brk in text for brk in _ODD_BREAKS) or ("\r" in text and _LONE_CR_RE.search(text)):
        return None
    # Each document's text, from its marker line (a stream may begin with one) to the next.
    starts = [match.start() + 1 for match in _MARKER_RE.finditer(text)]
    bounds = list(zip([0, *starts], [*starts, len(text)], strict=True))
    skipped = [(start, end) for start, end in bounds if _skippable(text, start, end, compose_kinds)]
    if sum(end - start for start, end in skipped) < MIN_SKIPPED_SHARE * len(text):
        return None
    try:
        check_depth(text)  # first: libyaml's parse time grows with the square of the depth
        CParser(text).raw_parse()
    except (MarkedYAMLError, ReaderError):  # ReaderError: a control character, say
        return None
    cut = len(text)
    while skipped and skipped[-1][1] == cut:
        cut = skipped.pop()[0]
    pieces = []
    tail = 0
    for start, end in skipped:
        keep = start + 3 if text.startswith(("---", "..."), start) else start
        pieces.append(text[tail:keep])
        pieces.append(_blank(text[keep:end]))
        tail = end
    pieces.append(text[tail:cut])
    return "".join(pieces)


def _blank(chunk: str) -> str:
    """``chunk`` with every character but line breaks replaced by a space."""
    if chunk.isascii():
        return chunk.encode("ascii").translate(_ASCII_BLANKS).decode("ascii")
    return re.sub(r"[^\r\n]+", lambda match: " " * len(match.group()), chunk)


def _skippable(text: str, start: int, end: int, compose_kinds: Collection[str]) -> bool:
    if text.find("image", start, end) != -1:
        return False
    if _has_any(text, start, end, "\\&*") and _RISKY_RE.search(text, start, end):
        return False
    body = start
    if text.startswith(("---", "..."), start):
        marker = _MARKER_LINE_RE.match(text, start, end)
        if marker is None:
            return False  # content on the marker line (--- !tag, --- {a: 1}, --- |)
        body = marker.end()
    keys: set[str] = set()
    kind = ""
    metadata_at = -1
    first = True
    for content, line_end in _top_lines(text, body, end):
        if _SEQUENCE_ENTRY_RE.match(content):
            if first:
                return True  # the root is a sequence: the finder looks only at mappings
            continue
        first = False
        key = _KEY_RE.match(content)
        if key is None or key.group(1) in keys:
            return False  # a directive, a flow collection, a quoted key, a duplicate, ...
        keys.add(key.group(1))
        if key.group(1) == "kind":
            found = _KIND_RE.match(content)
            if found is None:
                return False
            kind = next(group for group in found.groups() if group)
        elif key.group(1) == "metadata":
            if not _EMPTY_VALUE_RE.match(content):
                return False
            metadata_at = line_end
    if first and _CONTENT_LINE_RE.search(text, body, end):
        return False  # content, but none at column 0: an indented root or a plain scalar
    if kind.endswith("List") or kind in compose_kinds:
        return False
    return metadata_at < 0 or _plain_block_mapping(text, metadata_at, end)


def _top_lines(text: str, start: int, end: int) -> Iterator[tuple[str, int]]:
    """The lines between ``start`` (a line start) and ``end`` that begin at column 0 with
    content, and where each ends."""
    first = _FIRST_TOP_LINE_RE.match(text, start, end)
    if first is not None:
        yield first.group(), first.end()
    for line in _TOP_LINE_RE.finditer(text, start, end):
        yield line.group(1), line.end()


def _has_any(text: str, start: int, end: int, characters: str) -> bool:
    return any(text.find(character, start, end) != -1 for character in characters)


def _plain_block_mapping(text: str, start: int, end: int) -> bool:
    """Whether the block value that starts after ``start`` has plain, distinct keys (or is not
    a mapping at all)."""
    indent = -1
    keys: set[str] = set()
    for line in _CONTENT_LINE_RE.finditer(text, start, end):
        width = len(line.group(1))
        content = line.group(2)
        if "\t" in line.group(1):
            return False
        if width == 0:
            return True  # the next top-level key, or a sequence at column 0 as the value
        if indent < 0:
            indent = width
            if _SEQUENCE_ENTRY_RE.match(content):
                return True  # a sequence, not a mapping: the finder reads no name from it
        if width < indent:
            return False
        if width == indent:
            key = _KEY_RE.match(content)
            if key is None or key.group(1) in keys:
                return False
            keys.add(key.group(1))
    return True

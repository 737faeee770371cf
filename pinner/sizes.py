"""Sizes as people write them: ``16777216``, ``16M``, ``16MiB`` (binary units); no I/O."""

from __future__ import annotations

import re

UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
# What a size may look like, for error messages: "must be {SIZE_FORMS}, not '12X'".
SIZE_FORMS = (
    "a byte count (at least 1), or a whole number followed by K, M or G (binary: KiB, MiB, GiB; "
    "any case), such as 32M or 1G"
)
_SIZE_RE = re.compile(r"([0-9]+)\s*(?:([KMG])(?:iB)?)?", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """The number of bytes ``text`` says, or ``None`` if it is not a size of at least 1 byte."""
    match = _SIZE_RE.fullmatch(text.strip())
    if match is None:
        return None
    try:
        number = int(match[1])
    except ValueError:  # more digits than int() converts
        return None
    size = number * UNITS[(match[2] or "").upper()]
    return size if size >= 1 else None


def format_size(size: int) -> str:
    """``16 MiB`` for 16777216, ``1500 bytes`` for 1500: the largest unit that divides it."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} byte" if size == 1 else f"{size} bytes"

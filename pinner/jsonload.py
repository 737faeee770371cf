"""JSON from outside (registry bodies, token answers, digest files), decoded without surprises.

``json.loads`` fails in more ways than ``JSONDecodeError``: ``RecursionError`` for deeply nested
input (``[[[[...``), ``UnicodeDecodeError`` for bytes that are not text, and a plain
``ValueError`` for a number of more than 4300 digits. All of them mean "not JSON we can use",
which each caller reports in its own words. No imports of pinner.
"""

from __future__ import annotations

import json
from typing import Any


def load_json(data: bytes | str) -> Any:
    """The decoded value, or ``None`` when ``data`` is not JSON that can be decoded."""
    try:
        return json.loads(data)
    # ValueError covers JSONDecodeError, UnicodeDecodeError and the integer digit limit.
    except (ValueError, RecursionError):
        return None

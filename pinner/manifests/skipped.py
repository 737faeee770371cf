"""What a scan passed over on purpose: a file or an image pinner cannot read without rendering.

Skipping is not failing (a repository with charts still passes ``check``), but it is never
silent: every command counts what it skipped, lists it in ``--format json`` and gives each a
``::warning`` under ``--format github``.
"""

from __future__ import annotations

from typing import NamedTuple


class Skipped(NamedTuple):
    path: str
    line: int  # 1-based; 0 when the whole file was skipped
    column: int
    message: str  # a full sentence naming the place, the reason and what to do

"""Writing a test's input files: the bytes given, in folders made as needed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_file(path: str | Path, data: str | bytes) -> Path:
    """``data`` at ``path`` (text as UTF-8, line endings as given); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def write_tree(root: str | Path, files: Mapping[str, str | bytes]) -> None:
    """Each of ``files`` (a path below ``root`` → its content) written with ``write_file``."""
    for name, data in files.items():
        write_file(Path(root, name), data)

"""``.pinner.yaml``: the settings a repository would otherwise repeat on every command line.

The file is composed with the same libyaml composer as manifests, so every mistake is reported
with its file and line. This module only reads and checks the file; ``pinner.config.settings``
merges it with the command-line flags.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from pinner.config.shapes import read_shapes
from pinner.config.values import (
    KeyReader,
    close_match,
    is_null,
    read_bool,
    read_int,
    read_mirrors,
    read_rules,
    read_size,
    read_string,
    read_string_list,
)
from pinner.errors import ConfigError
from pinner.helm_shapes import BlockShape
from pinner.kinds import Rule
from pinner.manifests.yamlnodes import (
    MappingNode,
    MarkedYAMLError,
    ScalarNode,
    compose_documents,
    invalid_yaml,
)

CONFIG_NAME = ".pinner.yaml"
READERS: dict[str, KeyReader] = {
    "concurrency": read_int,
    "exclude": read_string_list,
    "exempt": read_string_list,
    "gcloud_hosts": read_string_list,
    "helm_digest_in_tag": read_bool,
    "helm_shapes": read_shapes,
    "insecure_registries": read_string_list,
    "keep_tag": read_bool,
    "max_file_size": read_size,
    "mirrors": read_mirrors,
    "platform": read_string,
    "rules": read_rules,
}


class Given(NamedTuple):
    """What one source of settings says: ``.pinner.yaml`` or the command line. ``None`` (or
    empty) means it does not say; ``pinner.config.settings.merge`` makes the ``Settings``."""

    display: str = ""  # how messages name the file ("" for the flags)
    exempt: tuple[str, ...] = ()
    keep_tag: bool | None = None
    platform: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    insecure_registries: tuple[str, ...] = ()
    gcloud_hosts: tuple[str, ...] = ()
    concurrency: int | None = None
    exclude: tuple[str, ...] = ()
    max_file_size: int | None = None  # bytes
    rules: tuple[Rule, ...] = ()  # the file only
    helm_shapes: tuple[BlockShape, ...] = ()  # the file only
    helm_digest_in_tag: bool | None = None
    # Flags only: how many processes read files is the machine's business, not the repository's;
    # --timeout sets both the connect and the read timeout (seconds).
    jobs: int | None = None
    timeout: float | None = None


def find_config(start: Path) -> Path | None:
    """The nearest ``.pinner.yaml`` in ``start`` or a folder above it.

    The search stops at the top of the git work tree (a folder holding ``.git``, which is a file
    in worktrees and submodules), so a stray file in a home folder does not leak into every
    repository below it; it also stops at the filesystem root.
    """
    folder = start.absolute()
    while True:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def display_name(path: Path, cwd: Path) -> str:
    """The path relative to the working folder when that is shorter, as people type it."""
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return str(path)
    return relative if len(relative) < len(str(path)) else str(path)


def load_config(path: Path, display: str | None = None) -> Given:
    """Read and check ``path``; raise ConfigError naming the key and the line of any mistake."""
    shown = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{shown}: cannot read the configuration file ({exc.strerror or type(exc).__name__})."
            " Check the path, or run with --no-config to ignore configuration files."
        ) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text. Save the configuration as UTF-8.") from None
    return parse_config(text, shown)


def parse_config(text: str, display: str) -> Given:
    try:
        documents = list(compose_documents(text))
    except MarkedYAMLError as exc:
        raise ConfigError(f"{invalid_yaml(exc, display)}. Fix the syntax.") from None
    if len(documents) > 1:
        line = documents[1].start_mark.line + 1
        raise ConfigError(
            f"{display}:{line}: a configuration file holds one YAML document, not several. "
            "Merge them into one mapping."
        )
    if not documents or (isinstance(documents[0], ScalarNode) and is_null(documents[0])):
        return Given(display)
    root = documents[0]
    if not isinstance(root, MappingNode):
        raise ConfigError(
            f"{display}:{root.start_mark.line + 1}: the configuration must be a mapping of "
            f"settings such as 'exempt: [...]'. pinner reads: {', '.join(READERS)}."
        )
    values: dict[str, object] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else ""
        where = f"{display}:{key_node.start_mark.line + 1}"
        reader = READERS.get(key)
        if reader is None:
            raise ConfigError(f"{where}: unknown key {key!r}{_suggestion(key, READERS)}.")
        if key in values:
            raise ConfigError(f"{where}: {key!r} is set twice. Keep one of them.")
        values[key] = None if is_null(value_node) else reader(value_node, key, display)
    present = {key: value for key, value in values.items() if value is not None}
    return Given(display, **present)  # type: ignore[arg-type]


def _suggestion(key: str, known: dict[str, KeyReader]) -> str:
    close = close_match(key, known)
    return f" (did you mean {close!r}?)" if close else f"; pinner reads: {', '.join(known)}"

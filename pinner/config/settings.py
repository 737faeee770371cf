"""One run's settings: ``.pinner.yaml`` merged with the command-line flags, built once per command.

Precedence: a flag beats the file, the file beats the default. Single values (``--platform``,
``--keep-tag``/``--no-keep-tag``, ``--concurrency``, ``--max-file-size``) replace the file's.
Lists (``--exempt``, ``--exclude``, ``--insecure-registry``, ``--gcloud-host``) extend the
file's, because the file is the repository's policy and a flag adds to it for one run;
``--mirror`` replaces the file's mirror for the same registry only. ``--no-config`` ignores the
file altogether.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pinner.config.file import FileConfig, display_name, find_config, load_config
from pinner.manifests.files import DEFAULT_MAX_FILE_BYTES
from pinner.manifests.finder import Rule
from pinner.manifests.helm_shapes import SHAPES, BlockShape

DEFAULT_CONCURRENCY = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Overrides:
    """The settings given on the command line; ``None`` (or empty) means not given."""

    exempt: Sequence[str] = ()
    keep_tag: bool | None = None
    platform: str | None = None
    mirrors: Sequence[tuple[str, str]] = ()
    insecure_registries: Sequence[str] = ()
    gcloud_hosts: Sequence[str] = ()
    concurrency: int | None = None
    exclude: Sequence[str] = ()
    max_file_size: int | None = None  # bytes
    jobs: int | None = None  # processes that read files; flag only: it is the machine's business
    helm_digest_in_tag: bool | None = None


@dataclass(frozen=True)
class Settings:
    exempt: tuple[str, ...] = ()
    keep_tag: bool = False
    platform: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    insecure_registries: frozenset[str] = frozenset()
    gcloud_hosts: frozenset[str] = frozenset()
    concurrency: int = DEFAULT_CONCURRENCY
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_BYTES  # a larger file (or stdin) is refused unread
    jobs: int | None = None  # None: one process per CPU for a large tree (pinner.manifests.workers)
    rules: tuple[Rule, ...] = ()
    # Image block shapes of Helm values: .pinner.yaml's helm_shapes, then the built-in ones.
    helm_shapes: tuple[BlockShape, ...] = SHAPES
    helm_digest_in_tag: bool = False
    config: str | None = None  # the file the settings came from, as messages name it


def load_settings(
    overrides: Overrides,
    *,
    config_file: Path | None = None,
    use_config: bool = True,
    cwd: Path | None = None,
) -> Settings:
    """Merge ``overrides`` into the named or discovered ``.pinner.yaml``; ConfigError if bad."""
    here = cwd if cwd is not None else Path.cwd()
    if not use_config:
        return merge(FileConfig(display=""), overrides, has_file=False)
    if config_file is not None:
        return merge(load_config(config_file, str(config_file)), overrides)
    found = find_config(here)
    if found is None:
        return merge(FileConfig(display=""), overrides, has_file=False)
    return merge(load_config(found, display_name(found, here)), overrides)


def merge(file: FileConfig, flags: Overrides, *, has_file: bool = True) -> Settings:
    mirrors = dict(file.mirrors)
    mirrors.update(flags.mirrors)
    return Settings(
        exempt=_union(file.exempt, flags.exempt),
        keep_tag=_first(flags.keep_tag, file.keep_tag, False),
        platform=flags.platform if flags.platform is not None else file.platform,
        mirrors=tuple(mirrors.items()),
        insecure_registries=frozenset((*file.insecure_registries, *flags.insecure_registries)),
        gcloud_hosts=frozenset((*file.gcloud_hosts, *flags.gcloud_hosts)),
        concurrency=_first(flags.concurrency, file.concurrency, DEFAULT_CONCURRENCY),
        exclude=_union(file.exclude, flags.exclude),
        max_file_size=_first(flags.max_file_size, file.max_file_size, DEFAULT_MAX_FILE_BYTES),
        jobs=flags.jobs,
        rules=file.rules,
        helm_shapes=(*file.helm_shapes, *SHAPES),
        helm_digest_in_tag=_first(flags.helm_digest_in_tag, file.helm_digest_in_tag, False),
        config=file.display if has_file else None,
    )


def _union(*lists: Iterable[str]) -> tuple[str, ...]:
    # Order kept (the file's first) so messages and reports are stable; duplicates dropped.
    return tuple(dict.fromkeys(item for items in lists for item in items))


def _first(flag: T | None, file: T | None, default: T) -> T:
    if flag is not None:
        return flag
    return file if file is not None else default

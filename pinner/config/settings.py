"""One run's ``Settings``: ``.pinner.yaml`` merged with the command-line flags, once per command.

Precedence: a flag beats the file, the file beats the default. Single values (``--platform``,
``--keep-tag``/``--no-keep-tag``, ``--concurrency``, ``--max-file-size``) replace the file's.
Lists (``--exempt``, ``--exclude``, ``--insecure-registry``, ``--gcloud-host``) extend the
file's, because the file is the repository's policy and a flag adds to it for one run;
``--mirror`` replaces the file's mirror for the same registry only. ``--jobs`` and ``--timeout``
are flags only. ``--no-config`` ignores the file altogether.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pinner.config.file import Given, display_name, find_config, load_config
from pinner.helm_shapes import SHAPES
from pinner.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_READ_TIMEOUT,
    Settings,
)

T = TypeVar("T")


def load_settings(
    flags: Given,
    *,
    config_file: Path | None = None,
    use_config: bool = True,
    cwd: Path | None = None,
) -> Settings:
    """Merge ``flags`` into the named or discovered ``.pinner.yaml``; ConfigError if bad."""
    here = cwd if cwd is not None else Path.cwd()
    if not use_config:
        return merge(Given(), flags, has_file=False)
    if config_file is not None:
        return merge(load_config(config_file, str(config_file)), flags)
    found = find_config(here)
    if found is None:
        return merge(Given(), flags, has_file=False)
    return merge(load_config(found, display_name(found, here)), flags)


def merge(file: Given, flags: Given, *, has_file: bool = True) -> Settings:
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
        connect_timeout=_first(flags.timeout, None, DEFAULT_CONNECT_TIMEOUT),
        read_timeout=_first(flags.timeout, None, DEFAULT_READ_TIMEOUT),
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

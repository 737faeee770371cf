"""What every manifest command does first: build its settings once, then read the manifests."""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from pathlib import Path

from pinner.cli.app import err, fail_usage, user_errors
from pinner.cli.progress import Progress
from pinner.config.file import Given
from pinner.config.settings import load_settings
from pinner.manifests.files import read_capped
from pinner.manifests.scan import FileScan, is_stdin, iter_scans, scan_stdin
from pinner.settings import Settings
from pinner.sizes import SIZE_FORMS, parse_size

STDIN_PROMPT = (
    "pinner: reading manifests from standard input; end with Ctrl-D (Ctrl-Z then Enter on "
    "Windows), or press Ctrl-C to stop."
)


def command_settings(
    config: Path | None,
    no_config: bool,
    *,
    exempt: Sequence[str] | None = None,
    keep_tag: bool | None = None,
    platform: str | None = None,
    mirrors: Sequence[str] | None = None,
    insecure_registries: Sequence[str] | None = None,
    gcloud_hosts: Sequence[str] | None = None,
    concurrency: int | None = None,
    exclude: Sequence[str] | None = None,
    max_file_size: str | None = None,
    jobs: int | None = None,
    timeout: float | None = None,
    helm_digest_in_tag: bool | None = None,
) -> Settings:
    """The settings of one run: ``.pinner.yaml`` (or ``config``) overridden by the flags."""
    if config is not None and no_config:
        raise fail_usage("--config and --no-config contradict each other; give one of them.")
    flags = Given(
        exempt=tuple(exempt or ()),
        keep_tag=keep_tag,
        platform=platform,
        mirrors=parse_mirrors(mirrors or ()),
        insecure_registries=tuple(insecure_registries or ()),
        gcloud_hosts=tuple(gcloud_hosts or ()),
        concurrency=concurrency,
        exclude=tuple(exclude or ()),
        max_file_size=None if max_file_size is None else parse_max_file_size(max_file_size),
        jobs=jobs,
        timeout=timeout,
        helm_digest_in_tag=helm_digest_in_tag,
    )
    with user_errors():
        return load_settings(flags, config_file=config, use_config=not no_config)


def parse_mirrors(flags: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for flag in flags:
        registry, equals, host = flag.partition("=")
        if not equals or not registry or not host or "/" in host:
            raise fail_usage(f"--mirror takes REGISTRY=HOST[:PORT], not {flag!r}.")
        pairs.append((registry, host))
    return tuple(pairs)


def parse_max_file_size(flag: str) -> int:
    size = parse_size(flag)
    if size is None:
        raise fail_usage(f"--max-file-size must be {SIZE_FORMS}, not {flag!r}.")
    return size


def scan_arguments(
    paths: Sequence[str] | None,
    settings: Settings,
    progress: Progress,
    *,
    keep_sources: bool = True,
) -> list[FileScan]:
    """Read standard input (``-``) or the files and folders named (default: ``.``).

    ``keep_sources=False``: the scans keep no text (for commands that write nothing).
    """
    return list(iter_scan_arguments(paths, settings, progress, keep_sources=keep_sources))


def iter_scan_arguments(
    paths: Sequence[str] | None,
    settings: Settings,
    progress: Progress,
    *,
    keep_sources: bool = True,
) -> Generator[FileScan, None, None]:
    """``scan_arguments`` one file at a time (see ``pinner.manifests.scan.iter_scans``)."""
    arguments = list(paths or ["."])
    if is_stdin(arguments):
        if sys.stdin.isatty():  # a person typing, or a pipe forgotten: say what pinner waits for
            err(STDIN_PROMPT)
        # One byte more than pinner reads tells the scan that the input is too large.
        raw = read_capped(sys.stdin.buffer, settings.max_file_size)
        yield scan_stdin(raw, settings.rules, settings.max_file_size, settings.helm_shapes)
        return
    try:
        with user_errors(progress.finish):  # a folder git could not list
            yield from iter_scans(
                arguments,
                settings.rules,
                settings.exclude,
                progress.stage("pinner: scanning files"),
                settings.max_file_size,
                jobs=settings.jobs,
                keep_sources=keep_sources,
                shapes=settings.helm_shapes,
            )
    finally:
        progress.finish()

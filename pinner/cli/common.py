"""What every manifest command does first: build its settings once, then read the manifests."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import typer

from pinner.cli.app import EXIT_ERROR, fail_usage, print_errors
from pinner.cli.progress import Progress
from pinner.errors import ConfigError, PinnerError
from pinner.files import MAX_FILE_BYTES
from pinner.scan import FileScan, is_stdin, iter_scans, scan_stdin
from pinner.settings import Overrides, Settings, load_settings


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
) -> Settings:
    if config is not None and no_config:
        raise fail_usage("--config and --no-config contradict each other; give one of them.")
    overrides = Overrides(
        exempt=tuple(exempt or ()),
        keep_tag=keep_tag,
        platform=platform,
        mirrors=parse_mirrors(mirrors or ()),
        insecure_registries=tuple(insecure_registries or ()),
        gcloud_hosts=tuple(gcloud_hosts or ()),
        concurrency=concurrency,
        exclude=tuple(exclude or ()),
    )
    """The settings of one run: ``.pinner.yaml`` (or ``config``) overridden by the flags."""
    try:
        return load_settings(overrides, config_file=config, use_config=not no_config)
    except ConfigError as exc:
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None


def parse_mirrors(flags: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for flag in flags:
        registry, equals, host = flag.partition("=")
        if not equals or not registry or not host or "/" in host:
            raise fail_usage(f"--mirror takes REGISTRY=HOST[:PORT], not {flag!r}.")
        pairs.append((registry, host))
    return tuple(pairs)


def scan_arguments(
    paths: Sequence[str] | None, settings: Settings, progress: Progress
) -> list[FileScan]:
    """Read standard input (``-``) or the files and folders named (default: ``.``)."""
    return list(iter_scan_arguments(paths, settings, progress))


def iter_scan_arguments(
    paths: Sequence[str] | None, settings: Settings, progress: Progress
) -> Iterator[FileScan]:
    """``scan_arguments`` one file at a time (see ``pinner.scan.iter_scans``)."""
    arguments = list(paths or ["."])
    if is_stdin(arguments):
        # One byte more than pinner reads tells the scan that the input is too large.
        yield scan_stdin(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), settings.rules)
        return
    try:
        yield from iter_scans(
            arguments, settings.rules, settings.exclude, progress.stage("pinner: scanning files")
        )
    except PinnerError as exc:  # a folder git could not list
        progress.finish()
        print_errors([str(exc)])
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        progress.finish()

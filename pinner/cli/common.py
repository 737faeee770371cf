"""What every manifest command does first: build its settings once, then read the manifests."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import typer

from pinner.cli.app import err, fail_usage, user_errors
from pinner.cli.progress import Progress
from pinner.config.file import Given
from pinner.config.settings import load_settings
from pinner.manifests.files import read_capped
from pinner.manifests.scan import FileScan, is_stdin, iter_scans, scan_stdin
from pinner.reference import host_problem, shown_host
from pinner.settings import Settings
from pinner.sizes import SIZE_FORMS, parse_size

STDIN_PROMPT = (
    "pinner: reading manifests from standard input; end with Ctrl-D (Ctrl-Z then Enter on "
    "Windows), or press Ctrl-C to stop."
)


def command_settings(context: typer.Context) -> Settings:
    """The settings of one run: ``.pinner.yaml`` (or ``--config``) overridden by the flags.

    The flags are read by name from the parameters click parsed, so each command only declares
    its options (``pinner.cli.options``), with the name of the ``Given`` field each one sets;
    how a flag's text becomes a setting is written once, in ``FLAG_VALUES``.
    """
    flags = context.params  # click's values, before typer's conversions (a path is a str)
    config = None if flags.get("config") is None else Path(flags["config"])
    no_config = bool(flags.get("no_config"))
    if config is not None and no_config:
        raise fail_usage("--config and --no-config contradict each other; give one of them.")
    given = {
        name: to_setting(value)
        for name, to_setting in FLAG_VALUES.items()
        if (value := flags.get(name)) is not None  # a flag not given, or not this command's
    }
    with user_errors():
        return load_settings(
            Given()._replace(**given), config_file=config, use_config=not no_config
        )


def parse_mirrors(flags: Sequence[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for flag in flags:
        registry, equals, host = flag.partition("=")
        if not equals:
            raise fail_usage(f"--mirror takes REGISTRY=HOST[:PORT], not {shown_host(flag)!r}.")
        for what, value in (("registry", registry), ("mirror", host)):
            problem = host_problem(value)
            if problem is not None:
                raise fail_usage(
                    f"--mirror {shown_host(flag)!r}: the {what} {problem}. "
                    "Write REGISTRY=HOST[:PORT], e.g. --mirror docker.io=mirror.gcr.io."
                )
        pairs.append((registry, host))
    return tuple(pairs)


def parse_insecure(flags: Sequence[str]) -> tuple[str, ...]:
    for flag in flags:
        problem = host_problem(flag)
        if problem is not None:
            raise fail_usage(
                f"--insecure-registry {shown_host(flag)!r} {problem}. "
                "Write HOST[:PORT], e.g. --insecure-registry localhost:5000."
            )
    return tuple(flags)


def parse_max_file_size(flag: str) -> int:
    size = parse_size(flag)
    if size is None:
        raise fail_usage(f"--max-file-size must be {SIZE_FORMS}, not {flag!r}.")
    return size


def _as_given(value: Any) -> Any:
    return value


# Each settings flag, by the name of its ``Given`` field, and how its parsed value becomes the
# setting (repeatable flags arrive as lists).
FLAG_VALUES: dict[str, Callable[[Any], Any]] = {
    "exempt": tuple,
    "keep_tag": _as_given,
    "platform": _as_given,
    "mirrors": parse_mirrors,
    "insecure_registries": parse_insecure,
    "gcloud_hosts": tuple,
    "concurrency": _as_given,
    "exclude": tuple,
    "max_file_size": parse_max_file_size,
    "jobs": _as_given,
    "timeout": _as_given,
    "helm_digest_in_tag": _as_given,
}


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

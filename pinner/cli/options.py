"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pinner.settings import DEFAULT_CONCURRENCY, MAX_CONCURRENCY

# typer reads these annotations at run time, so they must stay real typing objects.
Paths = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Argument(
        metavar="[PATH]...",
        help="Files or folders (searched for *.yaml, *.yml, *.json); '-' reads standard input. "
        "Default: the current folder.",
        show_default=False,
    ),
]
Exempt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exempt",
        metavar="PATTERN",
        help="Leave this image alone: an exact image, or a prefix when it ends in '*'. Adds to "
        ".pinner.yaml's exempt. Repeatable.",
        show_default=False,
    ),
]
Exclude = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exclude",
        metavar="GLOB",
        help="Skip files whose path relative to the folder named (or any part of it) matches "
        "this glob, e.g. 'charts/**'. Adds to .pinner.yaml's exclude. Repeatable.",
        show_default=False,
    ),
]
Format = Annotated[
    str,
    typer.Option("--format", metavar="text|json|github", help="Output format."),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only errors: no summary, no notices.")
]
Platform = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="Pin this platform's manifest instead of the multi-arch index.",
        show_default=False,
    ),
]
# pin's --platform, read the other way round by verify: the platform the pins were made for.
PinnedPlatform = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="The pins are this platform's manifests (as pinned with pin --platform): expect "
        "them, and judge drift against them, instead of warning.",
        show_default=False,
    ),
]
DigestFiles = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option(
        "--digests",
        metavar="FILE",
        help="Known digests: REFERENCE@sha256:... lines, or `gcloud builds describe "
        "--format=json` output. Repeatable.",
        show_default=False,
    ),
]
Offline = Annotated[
    bool, typer.Option("--offline", help="Use only --digests; never ask a registry.")
]
Update = Annotated[
    bool,
    typer.Option("--update", help="Move name:tag@sha256:... pins to the tag's current digest."),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Change nothing; exit 1 if something would change.")
]
Diff = Annotated[
    bool, typer.Option("--diff", help="Print a unified diff instead of writing; exit 1 if any.")
]
WriteDigests = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--write-digests",
        metavar="FILE",
        help="Record every digest used, as a lock file --digests accepts.",
        show_default=False,
    ),
]
InsecureRegistries = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Allow plain http to this registry. Repeatable.",
        show_default=False,
    ),
]
Mirrors = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--mirror",
        metavar="REGISTRY=HOST[:PORT]",
        help="Resolve REGISTRY's images through a mirror; names are written as they were.",
        show_default=False,
    ),
]
GcloudHosts = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--gcloud-host",
        metavar="HOST",
        help="Use `gcloud auth print-access-token` credentials for this registry too. Repeatable.",
        show_default=False,
    ),
]
ConfigFile = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--config",
        metavar="FILE",
        help="Read settings from FILE instead of the nearest .pinner.yaml.",
        show_default=False,
    ),
]
NoConfig = Annotated[
    bool, typer.Option("--no-config", help="Ignore .pinner.yaml files; use only the flags.")
]
KeepTag = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--keep-tag/--no-keep-tag",
        help="Write name:tag@sha256:... instead of name@sha256:... (default: no, or "
        ".pinner.yaml's keep_tag).",
        show_default=False,
    ),
]
Timeout = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help="Give up on a registry that takes longer than this to connect or to send data "
        "(default: 10 to connect, 30 to read); a failed request is retried 3 times.",
        show_default=False,
    ),
]
Concurrency = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--concurrency",
        metavar="N",
        min=1,
        max=MAX_CONCURRENCY,
        help=f"Ask the registries about at most N images at once (default: {DEFAULT_CONCURRENCY}).",
        show_default=False,
    ),
]
MaxFileSize = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--max-file-size",
        metavar="SIZE",
        help="Refuse, unread, any file or standard input larger than SIZE: bytes, or a number "
        "with K, M or G (binary), e.g. 64M (default: 16M, or .pinner.yaml's max_file_size).",
        show_default=False,
    ),
]
Jobs = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--jobs",
        metavar="N",
        min=1,
        help="Read a tree of 128 files and 512K or more in at most N processes (default: one "
        "per CPU pinner may use, at most 8; 1 reads every file in this process).",
        show_default=False,
    ),
]
HelmDigestInTag = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--helm-digest-in-tag/--no-helm-digest-in-tag",
        help="Where a Helm values image block has no digest key, write its tag as "
        "tag@sha256:... (default: no, or .pinner.yaml's helm_digest_in_tag).",
        show_default=False,
    ),
]

"""Options shared by several commands, declared once, each in the help panel it belongs to.

Help texts are kept to about one line at 80 columns (see pinner.cli.help); the reference is
docs/options.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pinner.settings import DEFAULT_CONCURRENCY, MAX_CONCURRENCY

# The help panels, in the order commands list them.
IMAGES = "Images"
DIGESTS = "Digests"
OUTPUT = "Output"
REGISTRIES = "Registries"
FILES = "Files and settings"

# typer reads these annotations at run time, so they must stay real typing objects.
Paths = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Argument(
        metavar="[PATH]...",
        help="Files or folders (*.yaml, *.yml, *.json), or '-' for standard input. Default: '.'.",
        show_default=False,
    ),
]
Exempt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exempt",
        metavar="PATTERN",
        help="Leave IMAGE or PREFIX* alone. Repeatable.",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]
Exclude = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exclude",
        metavar="GLOB",
        help="Skip files matching GLOB. Repeatable.",
        show_default=False,
        rich_help_panel=FILES,
    ),
]
Format = Annotated[
    str,
    typer.Option(
        "--format", metavar="text|json|github", help="Output format.", rich_help_panel=OUTPUT
    ),
]
# check and verify also write SARIF, for GitHub code scanning.
ReportFormat = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="text|json|github|sarif",
        help="Output format.",
        rich_help_panel=OUTPUT,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only errors.", rich_help_panel=OUTPUT),
]
Platform = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="Pin this platform's image, not the index.",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]
# pin's --platform, read the other way round by verify: the platform the pins were made for.
PinnedPlatform = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="The pins were made with pin --platform.",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]
DigestFiles = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option(
        "--digests",
        metavar="FILE",
        help="Lock file or Cloud Build JSON. Repeatable.",
        show_default=False,
        rich_help_panel=DIGESTS,
    ),
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline", help="Use only --digests; never ask a registry.", rich_help_panel=DIGESTS
    ),
]
Update = Annotated[
    bool,
    typer.Option(
        "--update", help="Move name:tag@sha256:… to the tag's digest.", rich_help_panel=IMAGES
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Change nothing; exit 1 if something would.", rich_help_panel=OUTPUT
    ),
]
Diff = Annotated[
    bool,
    typer.Option(
        "--diff", help="Print a diff, write nothing; exit 1 if any.", rich_help_panel=OUTPUT
    ),
]
WriteDigests = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--write-digests",
        metavar="FILE",
        help="Record the digests used in this lock file.",
        show_default=False,
        rich_help_panel=DIGESTS,
    ),
]
PruneDigests = Annotated[
    bool,
    typer.Option(
        "--prune-digests",
        help="Drop lock entries of tags this run did not see.",
        rich_help_panel=DIGESTS,
    ),
]
InsecureRegistries = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Allow plain http to it. Repeatable.",
        show_default=False,
        rich_help_panel=REGISTRIES,
    ),
]
Mirrors = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--mirror",
        metavar="REGISTRY=HOST[:PORT]",
        help="Resolve REGISTRY's images through HOST.",
        show_default=False,
        rich_help_panel=REGISTRIES,
    ),
]
GcloudHosts = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--gcloud-host",
        metavar="HOST",
        help="Log in to it with gcloud too. Repeatable.",
        show_default=False,
        rich_help_panel=REGISTRIES,
    ),
]
ConfigFile = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--config",
        metavar="FILE",
        help="Read settings from FILE, not .pinner.yaml.",
        show_default=False,
        rich_help_panel=FILES,
    ),
]
NoConfig = Annotated[
    bool,
    typer.Option(
        "--no-config", help="Ignore .pinner.yaml; use only the flags.", rich_help_panel=FILES
    ),
]
KeepTag = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--keep-tag/--no-keep-tag",
        help="Write name:tag@sha256:…, not name@sha256:…",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]
Timeout = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        min=0.1,
        help="Time limit to connect/read (default 10/30).",
        show_default=False,
        rich_help_panel=REGISTRIES,
    ),
]
Concurrency = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--concurrency",
        metavar="N",
        min=1,
        max=MAX_CONCURRENCY,
        help=f"At most N lookups at once (default: {DEFAULT_CONCURRENCY}).",
        show_default=False,
        rich_help_panel=REGISTRIES,
    ),
]
MaxFileSize = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--max-file-size",
        metavar="SIZE",
        help="Refuse larger files (default: 16M).",
        show_default=False,
        rich_help_panel=FILES,
    ),
]
Jobs = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--jobs",
        metavar="N",
        min=1,
        help="Read a large tree in N processes.",
        show_default=False,
        rich_help_panel=FILES,
    ),
]
HelmDigestInTag = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--helm-digest-in-tag/--no-helm-digest-in-tag",
        help="Helm values with no digest key: write tag@sha256:….",
        show_default=False,
        rich_help_panel=IMAGES,
    ),
]

"""Which files a run reads: the files named, and the manifests found under the folders named.

A folder inside a git work tree is listed by git itself (``git ls-files --cached --others
--exclude-standard``), so ``.gitignore`` is honoured exactly as git honours it; elsewhere it is
walked. Either way pinner skips hidden files and folders, vendored trees, and symbolic links: a
link to a file inside the folder is redundant (the file is read under its real name, once) and a
link out of it leads somewhere pinner was not asked to go. A file named on the command line is
always read, whatever its name, unless an ``--exclude`` glob matches it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from pinner.errors import ManifestError
from pinner.programs import ProgramError, find_program, run_program

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# The one name kustomize loads a folder's kustomization from that has no suffix.
SUFFIXLESS_NAMES = frozenset({"Kustomization"})
# Folders that hold other people's code or tooling state, not this repository's manifests.
SKIPPED_FOLDERS = frozenset({"node_modules", "vendor", "third_party"})
GIT_LIST = ("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
GIT_TIMEOUT_SECONDS = 60
# NUL-separated paths: 256 MiB is some three million files, past any repository pinner reads.
GIT_OUTPUT_LIMIT = 256 * 1024 * 1024
# Set by git while it runs hooks; they would point git at another repository or index than the
# folder pinner lists.
GIT_LOCATION_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
_NOT_A_WORK_TREE = ("not a git repository", "must be run in a work tree")

Parts = tuple[str, ...]


def discover(arguments: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[tuple[str, Path]]:
    """(display name, path) for every file to read, each real file once, in a stable order.

    Raises ManifestError when git fails on a folder for a reason other than "not a repository".
    """
    for display, name in discover_names(arguments, exclude):
        yield display, Path(name)


def discover_names(
    arguments: Iterable[str], exclude: Iterable[str] = ()
) -> Iterator[tuple[str, str]]:
    """``discover`` with the paths as strings: a tree of many files costs no Path objects."""
    patterns = tuple(_normalize(pattern) for pattern in exclude)
    seen: set[str] = set()  # real paths, as strings: a tree of many files lists many of them
    for argument in arguments:
        root = Path(argument)
        if not root.is_dir():
            if not is_excluded(_parts(argument), patterns) and _first_visit(_real(root), seen):
                name = os.fspath(root)
                yield argument, argument if name == argument else name  # one string, if equal
            continue
        # Nothing folder_files lists is, or lies under, a symbolic link: each file's real path
        # is the folder's joined with its parts (resolving every file costs a stat per part).
        real_root = _real(root)
        base = os.fspath(root)  # as Path spells it: "k8s/" and "./k8s" are "k8s"
        for parts in folder_files(root):
            real = os.path.join(real_root, *parts)
            if not is_excluded(parts, patterns) and _first_visit(real, seen):
                name = "/".join(parts) if base == "." else os.path.join(base, *parts)
                yield name, name


def folder_files(root: Path) -> list[Parts]:
    """The manifests under ``root`` as path parts relative to it, files before subfolders."""
    base = os.fspath(root)
    listed = _git_files(root)
    if listed is None:
        found = [parts for parts in _walk(base) if _wanted(parts)]
    else:
        found = [
            parts
            for parts in listed
            if _wanted(parts) and _is_regular_file(os.path.join(base, *parts))
        ]
    return sorted(set(found), key=_walk_order)


def _is_regular_file(path: str) -> bool:
    """A file, not a symbolic link: one lstat, on a string (this runs once per file)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def is_excluded(parts: Sequence[str], patterns: Sequence[str]) -> bool:
    """True when a glob matches the path or any run of its consecutive parts.

    ``fnmatch`` rules, case-sensitive, where ``*`` also matches ``/`` (so ``**`` works as people
    expect): ``generated`` matches any file or folder of that name, ``*.json`` any JSON file,
    ``charts/**`` anything under a ``charts`` folder at any depth.
    """
    if not patterns:
        return False
    runs = {"/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}
    return any(fnmatchcase(run, pattern) for run in runs for pattern in patterns)


def _wanted(parts: Parts) -> bool:
    *folders, name = parts
    return (
        (name.endswith(MANIFEST_SUFFIXES) or name in SUFFIXLESS_NAMES)
        and not name.startswith(".")
        and not any(_skipped_folder(folder) for folder in folders)
    )


def _skipped_folder(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS


def _walk(base: str) -> Iterator[Parts]:
    """The regular files under ``base``, as path parts.

    The folder listing says what each entry is, so this costs no stat per file. Folders that
    ``_wanted`` would reject anyway, and links to folders, are not entered; unreadable folders
    are passed over, as ``os.walk`` does.
    """
    pending: list[Parts] = [()]
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(os.path.join(base, *relative)) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not _skipped_folder(entry.name):
                        pending.append((*relative, entry.name))
                elif entry.is_file(follow_symlinks=False):
                    yield (*relative, entry.name)
            except OSError:  # gone since the listing
                continue


def _git_files(root: Path) -> list[Parts] | None:
    """The files git would track under ``root``, or None when ``root`` is not in a work tree."""
    env = {key: value for key, value in os.environ.items() if key not in GIT_LOCATION_VARIABLES}
    git = find_program("git")
    if git is None:  # no git installed (or only in the current folder): nothing to honour
        return None
    try:
        listing = run_program(
            [git, *GIT_LIST[1:]],
            cwd=root,
            env=env,
            timeout=GIT_TIMEOUT_SECONDS,
            output_limit=GIT_OUTPUT_LIMIT,
        )
    except ProgramError as err:
        raise ManifestError(
            f"{root}: `git ls-files` {err.cause}. Name the folders to read, or check the "
            "repository with `git status`."
        ) from None
    if listing.returncode != 0:
        message = listing.stderr.decode("utf-8", "replace").strip()
        if any(phrase in message for phrase in _NOT_A_WORK_TREE):
            return None
        first_line = message.splitlines()[0] if message else f"exit status {listing.returncode}"
        raise ManifestError(
            f"{root}: `git ls-files` failed ({first_line}); pinner lists folders in a git work "
            "tree with git so that .gitignore is honoured. Fix what git reports, then run again."
        )
    names = listing.stdout.split(b"\0")
    return [tuple(os.fsdecode(name).split("/")) for name in names if name]


def _walk_order(parts: Parts) -> tuple[tuple[int, str], ...]:
    # As a sorted top-down walk visits them: a folder's files, then each subfolder in turn.
    *folders, name = parts
    return (*((1, folder) for folder in folders), (0, name))


def _real(path: Path) -> str:
    try:
        return str(path.resolve())
    except RuntimeError:  # a symbolic link loop (Python < 3.13): reading it reports the error
        return str(path.absolute())


def _first_visit(real: str, seen: set[str]) -> bool:
    if real in seen:
        return False
    seen.add(real)
    return True


def _parts(argument: str) -> Parts:
    return tuple(part for part in Path(argument).as_posix().split("/") if part not in ("", "."))


def _normalize(pattern: str) -> str:
    return pattern.removeprefix("./").rstrip("/") or pattern

"""Which resource images a kustomization's ``images:`` entries replace, across the whole tree.

kustomize renders a resource's image through the ``images:`` entries of every kustomization
that includes the file, directly or through other kustomizations (``resources``, ``bases``,
``components``), innermost first. An entry whose ``name`` is the image's name (as renamed by the
entries before it) and that sets a ``newTag`` or ``digest`` replaces the tag and digest: the
rendered image is the entry's, so the entry is what pinner pins and checks, and the resource's
line is left alone. pinner reads the kustomizations among the files it was given, and follows
their local paths (also out of the folders named: naming an overlay reads what it renders).

A resource line is left to the entries only when every top kustomization (one that no other
includes) that renders it replaces it. A base that an overlay includes is not a top one, so when
it is also applied on its own its lines are still left to the overlays' entries; give the base
an entry of its own to pin what it renders alone. An entry with only a ``newName`` keeps the
resource's tag but names another repository: pinner does not guess that repository's digest and
reports the line unless it is pinned already. Remote resources (URLs), missing paths and
cycles are reported as notices and not followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pinner.errors import ManifestError
from pinner.manifests.files import read_source
from pinner.manifests.kustomize import FILE_NAMES, ImageEntry, Kustomization, read_kustomizations
from pinner.manifests.sites import Skipped
from pinner.manifests.walk import discover_names
from pinner.manifests.yamlnodes import MarkedYAMLError

if TYPE_CHECKING:
    from pinner.manifests.scan import FileScan, FoundImage
    from pinner.manifests.sites import ImageSite

Target = tuple[str, str]  # (display name, path to open), as discover gives them
Step = tuple[ImageEntry, str]  # an entry and the kustomization file that holds it
Chain = tuple[Step, ...]  # the entries a resource passes through, innermost first
REMOTE_PREFIXES = ("git@", "git::", "github.com/", "gitlab.com/", "bitbucket.org/")


def image_name(image: str) -> str:
    """The image without its tag and digest, as kustomize matches entries' names against it."""
    name = image.partition("@")[0]
    head, colon, tag = name.rpartition(":")
    return head if colon and "/" not in tag else name


@dataclass
class _Node:
    display: str
    kustomization: Kustomization
    files: list[str] = field(default_factory=list)  # resource files, as keys
    parts: list[str] = field(default_factory=list)  # included kustomization files (components last)
    not_followed: list[str] = field(default_factory=list)  # what was not followed, and why
    remote: int = 0  # how many of them are remote


@dataclass
class KustomizeGraph:
    """The kustomizations read, and for each resource file the chains of entries over it."""

    nodes: dict[str, _Node]
    chains: dict[str, set[Chain]]  # resource file key -> chains from every top kustomization
    extra: list[Target]  # files outside the ones named that the kustomizations include

    def apply(self, scan: FileScan, name: str) -> FileScan:
        """``scan`` without the sites its kustomizations' entries replace (see the module)."""
        key = _key(name)
        node = self.nodes.get(key)
        if node is not None and node.not_followed:
            scan.skipped.append(Skipped(node.display, 0, 0, _notice(node)))
        chains = self.chains.get(key)
        if not chains or not scan.images:
            return scan
        kept: list[FoundImage] = []
        for image in scan.images:
            verdicts = [_follow(image_name(image.site.image), chain) for chain in chains]
            if all(verdict is True for verdict in verdicts):
                continue  # every rendering replaces it: the entries are what is pinned
            renamed = [verdict for verdict in verdicts if isinstance(verdict, tuple)]
            if renamed and image.reference is not None and image.reference.digest is None:
                # Pinned already, it renders pinned under the new name; if not, pinner cannot
                # pin it: report it instead of looking up the repository it no longer names.
                error = _renamed_error(image.site, *renamed[0])
                image = image._replace(reference=None, error=error)
            kept.append(image)
        scan.images = kept
        return scan


def read_graph(
    targets: Sequence[Target], exclude: Iterable[str], max_bytes: int
) -> KustomizeGraph | None:
    """The graph of the kustomization files among ``targets`` and of what they include; None
    when there are none (the common case costs one name test per file)."""
    starts = [(display, name) for display, name in targets if _is_kustomization_file(name)]
    if not starts:
        return None
    nodes: dict[str, _Node] = {}
    reached: dict[str, str] = {}  # key -> display of every file the kustomizations include
    pending = list(starts)
    while pending:
        display, name = pending.pop()
        key = _key(name)
        if key in nodes:
            continue
        node = _load(display, name, max_bytes)
        if node is None:
            continue
        nodes[key] = node
        for include in sorted(node.kustomization.includes, key=lambda i: i.field == "components"):
            found = _locate(node, include.path, include.line, include.field)
            if found is None:
                continue
            found_display, found_key, is_kustomization = found
            reached.setdefault(found_key, found_display)
            if is_kustomization:
                node.parts.append(found_key)
                pending.append((found_display, found_key))
            else:
                node.files.append(found_key)
    known = {_key(name) for _, name in targets}
    outside = [display for key, display in reached.items() if key not in known]
    extra = list(discover_names(sorted(outside), exclude)) if outside else []
    return KustomizeGraph(nodes, _top_chains(nodes), extra)


def _load(display: str, name: str, max_bytes: int) -> _Node | None:
    try:
        source = read_source(Path(name), display, max_bytes)
        found = read_kustomizations(source.text, display)
    except (ManifestError, MarkedYAMLError):
        return None  # its own scan reports why it cannot be read
    if not found:
        return None
    return _Node(display, found[0][0])


def _locate(node: _Node, path: str, line: int, field: str) -> tuple[str, str, bool] | None:
    """(display, key, whether it is a kustomization) of a local include, or None with a notice."""
    where = f"line {line}: {field} {path!r}"
    if "://" in path or path.startswith(REMOTE_PREFIXES):
        node.not_followed.append(f"{where} is remote (pinner reads only local paths)")
        node.remote += 1
        return None
    display = os.path.normpath(os.path.join(os.path.dirname(node.display), path))
    if os.path.isfile(display):
        return display, _key(display), False
    if os.path.isdir(display):
        for file_name in FILE_NAMES:
            candidate = os.path.join(display, file_name)
            if os.path.isfile(candidate):
                return candidate, _key(candidate), True
        node.not_followed.append(f"{where} is a folder without a kustomization")
        return None
    node.not_followed.append(f"{where} does not exist")
    return None


def _top_chains(nodes: dict[str, _Node]) -> dict[str, set[Chain]]:
    included = {part for node in nodes.values() for part in node.parts}
    memo: dict[str, dict[str, set[Chain]]] = {}
    chains: dict[str, set[Chain]] = {}
    # Top kustomizations first; then any left unrendered, which only a cycle includes.
    tops = [key for key in nodes if key not in included]
    for key in [*tops, *nodes]:
        if key in memo:
            continue
        for file_key, found in _render(key, nodes, memo, []).items():
            chains.setdefault(file_key, set()).update(found)
    return chains


def _render(
    key: str, nodes: dict[str, _Node], memo: dict[str, dict[str, set[Chain]]], stack: list[str]
) -> dict[str, set[Chain]]:
    """Resource file -> the chains of entries it passes through when ``key`` is rendered."""
    if key in memo:
        return memo[key]
    node = nodes[key]
    stack.append(key)
    found: dict[str, set[Chain]] = {file_key: {()} for file_key in node.files}
    for part in node.parts:
        if part in stack:
            cycle = " -> ".join(nodes[k].display for k in [*stack[stack.index(part) :], part])
            node.not_followed.append(f"{nodes[part].display}, which includes it back ({cycle})")
            continue
        if part not in nodes:
            continue
        for file_key, chains in _render(part, nodes, memo, stack).items():
            found.setdefault(file_key, set()).update(chains)
    # Components' entries apply to everything their includer holds, before its own entries.
    steps = [
        (entry, nodes[part].display)
        for part in node.parts
        if part in nodes and nodes[part].kustomization.kind == "Component"
        for entry in nodes[part].kustomization.entries
    ]
    steps += [(entry, node.display) for entry in node.kustomization.entries]
    tail = tuple(steps)
    result = {file_key: {chain + tail for chain in chains} for file_key, chains in found.items()}
    stack.pop()
    memo[key] = result
    return result


def _follow(name: str, chain: Chain) -> bool | Step | None:
    """True when the chain replaces the image's tag; the step that renamed it when one only
    renamed it; None when the chain leaves it as written."""
    renamed: Step | None = None
    for entry, where in chain:
        if entry.name != name:
            continue
        if entry.sets_tag:
            return True
        if entry.new_name:
            renamed = renamed or (entry, where)
            name = entry.new_name
    return renamed


def _notice(node: _Node) -> str:
    """One line for everything a kustomization includes that pinner did not follow."""
    hints = []
    if node.remote:
        hints.append(
            "Pin what remote resources render with `kubectl kustomize DIR | pinner pin -`."
        )
    if len(node.not_followed) > node.remote:
        hints.append("Fix or remove the other includes.")
    return f"{node.display}: not followed: {'; '.join(node.not_followed)}. {' '.join(hints)}"


def _renamed_error(site: ImageSite, entry: ImageEntry, where: str) -> ManifestError:
    return ManifestError(
        f"{site.path}:{site.line}:{site.column}: {site.image} is renamed to {entry.new_name} by "
        f"the images entry at {where}:{entry.line}, which sets no newTag, so its tag comes from "
        "this line and pinner does not guess that repository's digest. Give the entry a newTag "
        "(pinner then pins the entry); the file was not changed."
    )


def _is_kustomization_file(name: str) -> bool:
    return os.path.basename(name) in FILE_NAMES


def _key(name: str) -> str:
    return os.path.abspath(name)

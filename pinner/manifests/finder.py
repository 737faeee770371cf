"""Where images live in Kubernetes objects, and the exact span of each image in the text.

The places are data (``pinner.kinds.WORKLOAD_KINDS``, ``Rule``), as in kbld's search rules.
Objects of other kinds that embed a pod spec are found by shape. No network, no writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import NamedTuple

from pinner.errors import Location, ManifestError
from pinner.helm_shapes import SHAPES, VALUES_FILE_KIND, VALUES_KINDS, BlockShape
from pinner.kinds import WORKLOAD_KINDS, Rule
from pinner.manifests.aliases import AliasUse, alias_uses
from pinner.manifests.charts import Chart
from pinner.manifests.helm_values import (
    ValuesContext,
    ValueSlot,
    chart_values,
    find_blocks,
    object_values,
)
from pinner.manifests.skim import compose_relevant
from pinner.manifests.skipped import Skipped
from pinner.manifests.yamlnodes import (
    LINE_BREAK_RE,
    MISPLACED,
    LineIndex,
    MappingNode,
    MarkedYAMLError,
    Node,
    ScalarNode,
    SequenceNode,
    invalid_yaml,
    iter_documents,
    strip_document_boms,
)

# Where each built-in workload kind holds its pod spec (the one table in pinner.kinds).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    kind: workload.pod_spec for kind, workload in WORKLOAD_KINDS.items()
}
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
# Built-in kinds that never embed a pod spec: not worth walking in search of one.
NO_POD_SPEC_KINDS = frozenset(
    {
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Namespace",
        "CustomResourceDefinition",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "PriorityClass",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
        "Lease",
        "Event",
        "Kustomization",
    }
)
# API groups of the kinds above that do not end in ".k8s.io"; "" is the core group (v1).
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "extensions"})
# An anchor (&name) or tag (!tag) that precedes a scalar inside its node span, and the comment
# that may follow them when the scalar starts on the next line.
_NODE_PROPERTIES_RE = re.compile(r"(?:(?:[&!]\S*|#[^\r\n\x85\u2028\u2029]*)\s+)*")
MERGE_KEY = "<<"
# Merges of merges are resolved recursively; a longer chain than this is refused, not a crash.
MAX_MERGE_DEPTH = 100
TEMPLATE_IMAGE_NOTICE = (
    "{path}:{line}:{column}: skipped: the image of {field} {container!r} holds a Go/Helm "
    "template expression ('{{{{'); render it first (helm template ... | pinner pin -)."
)


class DigestSlot(NamedTuple):
    """How a kustomize ``images`` entry takes its digest (``pinner.manifests.kustomize``).

    The site's ``[start:end]`` is the entry's ``digest`` value, or the empty span where a new
    ``digest`` key goes; the digest alone is written there, in the site's quotes, between
    ``before`` and ``after`` (the new key, its indentation and line end).
    """

    before: str = ""
    after: str = ""


class ImageSite(NamedTuple):
    """One image value in one file: what it says and exactly where it is."""

    path: str
    line: int  # 1-based, of the first character of the scalar (a quote, if quoted)
    column: int  # 1-based
    start: int  # offset of the scalar text (quotes included) in the file's text
    end: int
    kind: str
    name: str  # metadata.name of the object
    field: str  # containers, initContainers, ephemeralContainers, volumes, or a rule's path
    container: str  # the container's (or volume's) name
    image: str  # the value, as YAML reads it
    quote: str  # "", "'" or '"': how the scalar is written
    problem: str | None  # why this scalar cannot be spliced exactly, if it cannot
    # For an image block in Helm values: how pin writes its digest (``image`` is then the
    # reference the block renders to, and the span is its digest's or its tag's value).
    slot: ValueSlot | None = None
    # An anchored image's aliases used where no image goes: pinning changes them too.
    aliases: tuple[AliasUse, ...] = ()
    digest_slot: DigestSlot | None = None  # set for a kustomize images entry

    @property
    def where(self) -> str:
        """``path:line:column``, as messages name the place."""
        return f"{self.path}:{self.line}:{self.column}"


class Found(NamedTuple):
    """What ``find_all`` read in one text: its images, and those it had to pass over."""

    sites: list[ImageSite]
    skipped: list[Skipped]


def locations(sites: Iterable[ImageSite]) -> str:
    """``a.yaml:3:14, b.yaml:9:16``: every place, for a message about an image used in several."""
    return ", ".join(site.where for site in sites)


class TemplateFile(ManifestError):
    """The file is a Go/Helm template; it must be rendered before pinner can read it."""


def find_images(text: str, path: str, rules: Sequence[Rule] = ()) -> list[ImageSite]:
    """Every image in ``text`` in document order (``find_all`` without what it skipped)."""
    return find_all(text, path, rules).sites


def find_all(
    text: str,
    path: str,
    rules: Sequence[Rule] = (),
    *,
    shapes: Sequence[BlockShape] = SHAPES,
    chart: Chart | None = None,
) -> Found:
    """Every image in ``text`` in document order, and the images skipped because they hold a
    template expression. Raises ManifestError for unusable input, TemplateFile for a template
    that is not YAML.

    ``chart``: the text is that chart's values file, read for image blocks of ``shapes``.
    """
    # The parsers read the text without the BOMs that begin later documents; offsets are mapped
    # back to ``text``, which is what gets spliced.
    parsed, boms = strip_document_boms(text)
    finder = _Finder(text, path, rules, shapes, LineIndex(parsed, boms))
    visit: Callable[[Node], None] = finder.visit_object
    if chart is not None:
        visit = partial(finder.visit_chart_values, chart=chart)
    # Documents the finder would get nothing from (no image, nothing to check) are not composed;
    # a values file is composed whole (its image blocks need not say "image").
    compose_kinds = {*POD_SPEC_PATHS, *VALUES_KINDS, *(rule.kind for rule in rules)}
    # Documents are read one at a time, so memory follows the largest document. Invalid YAML is
    # still reported before what the finder objects to, wherever each is in the file.
    objection: ManifestError | None = None
    try:
        documents = iter_documents(parsed) if chart else compose_relevant(parsed, compose_kinds)
        for root in documents:
            if objection is None:
                try:
                    visit(root)
                except ManifestError as exc:
                    objection = exc
            finder.forget_nodes()  # anchors are per document: free it before the next one
    except MarkedYAMLError as exc:
        if "{{" in text:
            raise TemplateFile(
                f"{path}: skipped: this looks like a Go/Helm template ('{{{{'); render it first "
                "(helm template ... | pinner pin -)."
            ) from None
        mark = exc.problem_mark or exc.context_mark
        place = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        raise ManifestError(f"{invalid_yaml(exc, path)}. Fix the syntax.", at=[place]) from None
    if objection is not None:
        raise objection
    if finder.anchored:
        uses = alias_uses(parsed, finder.anchored)
        finder.sites = [
            site._replace(aliases=tuple(uses.get(finder.site_nodes[index], ())))
            for index, site in enumerate(finder.sites)
        ]
    # Pod spec fields are visited by name; report them as they appear in the file. An image that
    # a template fills in is passed over, once however many aliases show it; the rest is read.
    sites: list[ImageSite] = []
    for site in sorted(finder.sites, key=lambda site: site.start):
        if "{{" in site.image and site.slot is None:
            finder.skip_template(site.line, site.column, site.field, site.container)
        else:
            sites.append(site)
    # One per place in the text: aliases of a templated image share it.
    places = {(skip.line, skip.column): skip for skip in reversed(finder.skipped)}
    return Found(sites, sorted(places.values(), key=lambda skip: (skip.line, skip.column)))


class _Finder:
    def __init__(
        self,
        text: str,
        path: str,
        rules: Sequence[Rule],
        shapes: Sequence[BlockShape],
        lines: LineIndex,
    ) -> None:
        self.text = text
        self.path = path
        self.rules = rules
        self.shapes = shapes
        self.skipped: list[Skipped] = []
        self.lines = lines
        self.sites: list[ImageSite] = []
        # Images written with an anchor, by their node's offset in the parsed text (the key
        # aliases.alias_uses matches events on), and each site's node offset.
        self.anchored: dict[int, str] = {}
        self.site_nodes: list[int] = []
        self.mappings: dict[int, dict[str, Node]] = {}
        self.duplicates: dict[int, dict[str, Location]] = {}  # mapping -> key written twice
        self.duplicate_log: list[tuple[str, Location]] = []  # every such key, as read
        self.merging: set[int] = set()
        self.objects: set[int] = set()

    def forget_nodes(self) -> None:
        """Drop the caches keyed by node identity, which would keep a document's nodes alive
        (and, once they are freed, could mistake a new node for an old one)."""
        self.mappings.clear()
        self.duplicates.clear()
        self.duplicate_log.clear()
        self.objects.clear()

    def visit_object(self, node: Node) -> None:
        # An aliased object is visited once: a List may hold itself.
        if not isinstance(node, MappingNode) or id(node) in self.objects:
            return
        self.objects.add(id(node))
        kind = _scalar_value(self.entry(node, "kind"))
        api_version = _scalar_value(self.entry(node, "apiVersion"))
        items = self.entry(node, "items")
        if kind.endswith("List") and isinstance(items, SequenceNode):
            for item in items.value:
                self.visit_object(item)
            return
        found = len(self.sites)
        walked = len(self.duplicate_log)
        self.visit_images(node, kind, api_version)
        if len(self.sites) > found:
            # An object pinner pins is one kubectl must read as pinner does: a key written twice
            # in any mapping pinner walked through is an error. In an object with no image (a
            # CI config, say) it changes nothing pinner reads.
            if len(self.duplicate_log) > walked:
                raise self.duplicate_key(*self.duplicate_log[walked])
            metadata = self.entry(node, "metadata")
            if isinstance(metadata, MappingNode):
                name = _scalar_value(self.entry(metadata, "name"))
                self.sites[found:] = [site._replace(name=name) for site in self.sites[found:]]

    def visit_images(self, node: MappingNode, kind: str, api_version: str) -> None:
        name = ""  # filled in by visit_object
        for rule in self.rules:
            if rule.matches(kind, api_version):
                self.apply_rule(rule, node, kind, name)
                return
        values = object_values(node, kind, name, api_version, self.mapping, self.path, self.shapes)
        for root, context in values:
            self.visit_values(root, kind, name, context)
        # Kinds are known only in Kubernetes' own API groups: a Knative Service or a Volcano Job
        # shares a name with a built-in kind, not its shape.
        builtin = _is_builtin_group(api_version)
        pod_spec_path = POD_SPEC_PATHS.get(kind) if builtin else None
        if pod_spec_path is not None:
            pod_spec = self.follow(node, pod_spec_path)
            if pod_spec is not None:
                self.visit_pod_spec(pod_spec, kind, name)
        elif not (builtin and kind in NO_POD_SPEC_KINDS):
            for pod_spec in self.pod_specs_by_shape(node):
                self.visit_pod_spec(pod_spec, kind, name)

    def visit_chart_values(self, root: Node, chart: Chart) -> None:
        self.visit_values(root, VALUES_FILE_KIND, "", chart_values(self.path, chart, self.shapes))

    def visit_values(self, root: Node, kind: str, name: str, context: ValuesContext) -> None:
        for found in find_blocks(root, self.mapping, context):
            if isinstance(found, Skipped):
                self.skipped.append(found)
            else:
                self.add_site(found.node, kind, name, found.field, "", found.image, found.slot)

    def skip_template(self, line: int, column: int, field: str, container: str) -> None:
        message = TEMPLATE_IMAGE_NOTICE.format(
            path=self.path, line=line, column=column, field=field, container=container
        )
        self.skipped.append(Skipped(self.path, line, column, message))

    def apply_rule(self, rule: Rule, node: MappingNode, kind: str, name: str) -> None:
        if rule.pod_spec is not None:
            pod_spec = self.follow(node, rule.pod_spec)
            if pod_spec is not None:
                self.visit_pod_spec(pod_spec, kind, name)
        for image_path in rule.images:
            value = self.follow(node, image_path)
            if value is not None:
                self.add_site(value, kind, name, ".".join(image_path), "")

    def follow(self, node: Node, path: Iterable[str]) -> MappingNode | None:
        """The mapping or scalar at ``path``, or None where the path does not exist."""
        for key in path:
            if not isinstance(node, MappingNode):
                return None
            child = self.entry(node, key)
            if child is None:
                return None
            node = child
        return node  # type: ignore[return-value]

    def pod_specs_by_shape(self, root: Node) -> Iterator[MappingNode]:
        """Mappings holding a ``containers`` sequence whose items have ``name`` and ``image``."""
        seen: set[int] = set()  # aliases share nodes; an alias bomb must not explode the walk
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, MappingNode):
                containers = self.plain_entry(node, "containers")
                if isinstance(containers, SequenceNode) and any(
                    self.looks_like_container(item) for item in containers.value
                ):
                    yield node
                    continue
                stack.extend(value for _, value in reversed(node.value))
            elif isinstance(node, SequenceNode):
                stack.extend(reversed(node.value))

    def visit_pod_spec(self, pod_spec: Node, kind: str, name: str) -> None:
        if not isinstance(pod_spec, MappingNode):
            return
        for field in CONTAINER_FIELDS:
            containers = self.entry(pod_spec, field)
            if not isinstance(containers, SequenceNode):
                continue
            for container in containers.value:
                if not isinstance(container, MappingNode):
                    continue
                image = self.entry(container, "image")
                if image is not None:
                    container_name = _scalar_value(self.entry(container, "name"))
                    self.add_site(image, kind, name, field, container_name)
        volumes = self.entry(pod_spec, "volumes")
        if isinstance(volumes, SequenceNode):
            for volume in volumes.value:
                if not isinstance(volume, MappingNode):
                    continue
                reference = self.follow(volume, ("image", "reference"))
                if reference is not None:
                    volume_name = _scalar_value(self.entry(volume, "name"))
                    self.add_site(reference, kind, name, "volumes", volume_name)

    def entry(self, node: MappingNode, key: str) -> Node | None:
        """The value of ``key`` in a mapping (merge keys applied), or None; a ManifestError if
        the mapping holds ``key`` twice, which makes what pinner reads there ambiguous."""
        value = self.mapping(node).get(key)
        second = self.duplicates.get(id(node), {}).get(key)
        if second is not None:
            raise self.duplicate_key(key, second)
        return value

    def plain_entry(self, node: MappingNode, key: str) -> Node | None:
        """``entry`` without merge keys, for the walk that looks for pod specs by shape."""
        found = [value for key_node, value in node.value if _scalar_value(key_node) == key]
        if len(found) > 1:
            second = [k for k, _ in node.value if _scalar_value(k) == key][1]
            raise self.duplicate_key(key, self.where(second))
        return found[0] if found else None

    def looks_like_container(self, node: Node) -> bool:
        return (
            isinstance(node, MappingNode)
            and self.plain_entry(node, "name") is not None
            and self.plain_entry(node, "image") is not None
        )

    def duplicate_key(self, key: str, second: Location) -> ManifestError:
        return ManifestError(
            f"{self.path}:{second.line}: duplicate key {key!r} in one mapping: the manifest is "
            "ambiguous (kubectl rejects it too). Remove one of them.",
            at=[second],
        )

    def mapping(self, node: MappingNode) -> dict[str, Node]:
        """A mapping's entries by key, with merge keys (<<) applied. A key written twice is
        kept in ``duplicates`` (its second line), an error only where ``entry`` reads it."""
        # Cached: aliases share nodes, and merges of merges must not multiply the work.
        known = self.mappings.get(id(node))
        if known is not None:
            return known
        if len(self.merging) >= MAX_MERGE_DEPTH:
            raise ManifestError(
                f"{self.path}:{node.start_mark.line + 1}: merge keys (<<) are nested more than "
                f"{MAX_MERGE_DEPTH} levels deep. Flatten them.",
                at=[self.where(node)],
            )
        self.merging.add(id(node))
        entries: dict[str, Node] = {}
        merged: dict[str, Node] = {}
        duplicates: dict[str, Location] = {}
        merged_duplicates: dict[str, Location] = {}
        for key_node, value in node.value:
            key = _scalar_value(key_node)
            if key == MERGE_KEY:
                for source in _merge_sources(value):
                    if id(source) in self.merging:
                        raise ManifestError(
                            f"{self.path}:{key_node.start_mark.line + 1}: a merge key (<<) "
                            "includes the mapping that holds it. Remove it.",
                            at=[self.where(key_node)],
                        )
                    for merged_key, merged_value in self.mapping(source).items():
                        merged.setdefault(merged_key, merged_value)
                    for merged_key, line in self.duplicates.get(id(source), {}).items():
                        merged_duplicates.setdefault(merged_key, line)
                continue
            if key in entries:
                duplicates.setdefault(key, self.where(key_node))
            entries[key] = value
        self.merging.discard(id(node))
        result = {**merged, **entries} if merged else entries
        self.mappings[id(node)] = result
        # A key this mapping writes itself overrides a merged one, duplicated or not.
        duplicates.update(
            (key, line) for key, line in merged_duplicates.items() if key not in entries
        )
        if duplicates:
            self.duplicates[id(node)] = duplicates
            self.duplicate_log.extend(duplicates.items())
        return result

    def where(self, node: Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def add_site(
        self,
        node: Node,
        kind: str,
        name: str,
        field: str,
        container: str,
        image: str | None = None,
        slot: ValueSlot | None = None,
    ) -> None:
        """Record the scalar ``node``; ``image`` and ``slot`` for an image block in values."""
        line = node.start_mark.line + 1
        node_start = self.lines.offset(node.start_mark)
        end = self.lines.offset(node.end_mark)
        if node_start is None or end is None:
            # The parser's line and column do not lead to its offset: where the scalar is
            # written is not known for sure, so it is reported, and never spliced.
            node_start = end = int(node.start_mark.index)
            misplaced = True
        else:
            misplaced = False
        if not isinstance(node, ScalarNode):
            # An unquoted `{{ .Values.image }}` reads as a flow mapping: a template, not a mistake.
            if self.text.startswith("{{", node_start):
                self.skip_template(line, node.start_mark.column + 1, field, container)
                return
            raise ManifestError(
                f"{self.path}:{line}: the image of {field} {container!r} is not a string. "
                "Write it as a plain string such as 'nginx:1.25'.",
                at=[self.where(node)],
            )
        # libyaml starts an anchored or tagged scalar's span at its "&anchor" or "!tag".
        properties = _NODE_PROPERTIES_RE.match(self.text, node_start, end)
        start = properties.end() if properties is not None else node_start
        column = node.start_mark.column + 1 + (start - node_start)
        breaks = list(LINE_BREAK_RE.finditer(self.text, node_start, start))
        if breaks:
            line += len(breaks)
            column = start - breaks[-1].end() + 1
        quote = node.style if node.style in ("'", '"') else ""
        if properties is not None and "&" in properties.group():
            self.anchored[int(node.start_mark.index)] = node.value
        self.site_nodes.append(int(node.start_mark.index))
        problem = (
            MISPLACED if misplaced else splice_problem(self.text[start:end], node.value, node.style)
        )
        self.sites.append(
            ImageSite(
                path=self.path,
                line=line,
                column=column,
                start=start,
                end=end,
                kind=kind,
                name=name,
                field=field,
                container=container,
                image=node.value if image is None else image,
                quote=quote,
                problem=problem,
                slot=slot,
            )
        )


def splice_problem(written: str, value: str, style: str | None) -> str | None:
    """Why the written scalar is not exactly ``value`` in its quotes, or None if it is."""
    if style in ("|", ">"):
        return "it is a block scalar (| or >)"
    if style == '"':
        if "\\" in written:
            return "it uses escape sequences"
        expected = f'"{value}"'
    elif style == "'":
        expected = "'" + value.replace("'", "''") + "'"
    else:
        expected = value
    if written != expected:
        return "it spans several lines or is not written as YAML reads it"
    return None


def _is_builtin_group(api_version: str) -> bool:
    """Whether ``api_version`` belongs to Kubernetes itself (``v1``, ``apps/v1``, ``*.k8s.io``)."""
    group = api_version.rpartition("/")[0]
    return group in BUILTIN_GROUPS or group.endswith(".k8s.io")


def _scalar_value(node: Node | None) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else ""


def _merge_sources(value: Node) -> list[MappingNode]:
    if isinstance(value, MappingNode):
        return [value]
    if isinstance(value, SequenceNode):
        return [item for item in value.value if isinstance(item, MappingNode)]
    return []

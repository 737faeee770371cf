"""Where images live in Kubernetes objects: a walk over one composed document that collects
every image site.

A built-in workload kind's pod spec is at its path in ``pinner.kinds.WORKLOAD_KINDS``; a
``Rule`` (from ``.pinner.yaml``) names the places in a custom resource; any other object that
embeds a pod spec is found by its shape (a ``containers`` list whose items have ``name`` and
``image``); image blocks in Helm values follow ``pinner.manifests.helm_values``. Each image
scalar becomes an ``ImageSite`` with its exact span (``pinner.manifests.spans``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from pinner.errors import ManifestError
from pinner.helm_shapes import VALUES_FILE_KIND, BlockShape
from pinner.kinds import NO_POD_SPEC_KINDS, WORKLOAD_KINDS, Rule, is_builtin_group
from pinner.manifests.charts import Chart
from pinner.manifests.helm_values import ValuesContext, chart_values, find_blocks, object_values
from pinner.manifests.mappings import Mappings, scalar_value
from pinner.manifests.sites import ImageSite, Skipped, ValueSlot
from pinner.manifests.spans import node_span, scalar_span
from pinner.manifests.yamlnodes import LineIndex, MappingNode, Node, ScalarNode, SequenceNode

# Where each built-in workload kind holds its pod spec (the one table in pinner.kinds).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    kind: workload.pod_spec for kind, workload in WORKLOAD_KINDS.items()
}
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
TEMPLATE_IMAGE_NOTICE = (
    "{path}:{line}:{column}: skipped: the image of {field} {container!r} holds a Go/Helm "
    "template expression ('{{{{'); render it first (helm template ... | pinner pin -)."
)


class ImageCollector:
    """The image sites of one text, document after document, and the images passed over."""

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
        self.mappings = Mappings(path)
        self.objects: set[int] = set()

    def forget_nodes(self) -> None:
        """Drop the caches keyed by node identity, which would keep a document's nodes alive
        (and, once they are freed, could mistake a new node for an old one)."""
        self.mappings.forget()
        self.objects.clear()

    def visit_object(self, node: Node) -> None:
        # An aliased object is visited once: a List may hold itself.
        if not isinstance(node, MappingNode) or id(node) in self.objects:
            return
        self.objects.add(id(node))
        entry = self.mappings.entry
        kind = scalar_value(entry(node, "kind"))
        api_version = scalar_value(entry(node, "apiVersion"))
        items = entry(node, "items")
        if kind.endswith("List") and isinstance(items, SequenceNode):
            for item in items.value:
                self.visit_object(item)
            return
        found = len(self.sites)
        duplicates = self.mappings.duplicate_log
        walked = len(duplicates)
        self.visit_images(node, kind, api_version)
        if len(self.sites) > found:
            # An object pinner pins is one kubectl must read as pinner does: a key written twice
            # in any mapping pinner walked through is an error. In an object with no image (a
            # CI config, say) it changes nothing pinner reads.
            if len(duplicates) > walked:
                raise self.mappings.duplicate_key(*duplicates[walked])
            metadata = entry(node, "metadata")
            if isinstance(metadata, MappingNode):
                name = scalar_value(entry(metadata, "name"))
                self.sites[found:] = [site._replace(name=name) for site in self.sites[found:]]

    def visit_images(self, node: MappingNode, kind: str, api_version: str) -> None:
        name = ""  # filled in by visit_object
        for rule in self.rules:
            if rule.matches(kind, api_version):
                self.apply_rule(rule, node, kind, name)
                return
        values = object_values(
            node, kind, name, api_version, self.mappings.entries, self.path, self.shapes
        )
        for root, context in values:
            self.visit_values(root, kind, name, context)
        # Kinds are known only in Kubernetes' own API groups: a Knative Service or a Volcano Job
        # shares a name with a built-in kind, not its shape.
        builtin = is_builtin_group(api_version)
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
        for found in find_blocks(root, self.mappings.entries, context):
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
            child = self.mappings.entry(node, key)
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
                containers = self.mappings.plain_entry(node, "containers")
                if isinstance(containers, SequenceNode) and any(
                    self.looks_like_container(item) for item in containers.value
                ):
                    yield node
                    continue
                stack.extend(value for _, value in reversed(node.value))
            elif isinstance(node, SequenceNode):
                stack.extend(reversed(node.value))

    def looks_like_container(self, node: Node) -> bool:
        return (
            isinstance(node, MappingNode)
            and self.mappings.plain_entry(node, "name") is not None
            and self.mappings.plain_entry(node, "image") is not None
        )

    def visit_pod_spec(self, pod_spec: Node, kind: str, name: str) -> None:
        if not isinstance(pod_spec, MappingNode):
            return
        entry = self.mappings.entry
        for field in CONTAINER_FIELDS:
            containers = entry(pod_spec, field)
            if not isinstance(containers, SequenceNode):
                continue
            for container in containers.value:
                if not isinstance(container, MappingNode):
                    continue
                image = entry(container, "image")
                if image is not None:
                    container_name = scalar_value(entry(container, "name"))
                    self.add_site(image, kind, name, field, container_name)
        volumes = entry(pod_spec, "volumes")
        if isinstance(volumes, SequenceNode):
            for volume in volumes.value:
                if not isinstance(volume, MappingNode):
                    continue
                reference = self.follow(volume, ("image", "reference"))
                if reference is not None:
                    volume_name = scalar_value(entry(volume, "name"))
                    self.add_site(reference, kind, name, "volumes", volume_name)

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
        if not isinstance(node, ScalarNode):
            # An unquoted `{{ .Values.image }}` reads as a flow mapping: a template, not a mistake.
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
            if self.text.startswith("{{", node_span(self.lines, node)[0]):
                self.skip_template(line, column, field, container)
                return
            raise ManifestError(
                f"{self.path}:{line}: the image of {field} {container!r} is not a string. "
                "Write it as a plain string such as 'nginx:1.25'.",
                at=[self.mappings.where(node)],
            )
        span = scalar_span(self.text, self.lines, node)
        if span.anchored:
            self.anchored[int(node.start_mark.index)] = node.value
        self.site_nodes.append(int(node.start_mark.index))
        self.sites.append(
            ImageSite(
                path=self.path,
                line=span.line,
                column=span.column,
                start=span.start,
                end=span.end,
                kind=kind,
                name=name,
                field=field,
                container=container,
                image=node.value if image is None else image,
                quote=span.quote,
                problem=span.problem,
                slot=slot,
            )
        )

"""The finder: which scalars are images, where exactly they are, and what it refuses to guess."""

from __future__ import annotations

import time

import pytest

from pinner.errors import Location, ManifestError
from pinner.kinds import Rule
from pinner.manifests.finder import TemplateFile, find_all, find_images
from pinner.manifests.sites import ImageSite

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: nginx
      image: {image}
"""


def one_site(text: str) -> ImageSite:
    sites = find_images(text, "m.yaml")
    assert len(sites) == 1, sites
    return sites[0]


def summary(text: str) -> list[tuple[str, str, str, str, str]]:
    """(kind, name, field, container, image) of every site, in order."""
    return [
        (site.kind, site.name, site.field, site.container, site.image)
        for site in find_images(text, "m.yaml")
    ]


# --- positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "written", "column", "quote"),
    [
        ("nginx:1.25", "nginx:1.25", 14, ""),
        ("nginx:1.25  # comment", "nginx:1.25", 14, ""),
        ("'nginx:1.25'", "'nginx:1.25'", 14, "'"),
        ('"nginx:1.25"', '"nginx:1.25"', 14, '"'),
        ("&img nginx:1.25", "nginx:1.25", 19, ""),
        ("!!str nginx:1.25", "nginx:1.25", 20, ""),
        ("&img !!str 'nginx:1.25'", "'nginx:1.25'", 25, "'"),
        ("nginx:1.25\t# tab", "nginx:1.25", 14, ""),
    ],
)
def test_position_of_the_value(image: str, written: str, column: int, quote: str) -> None:
    text = POD.format(image=image)
    site = one_site(text)
    assert (site.line, site.column) == (8, column)
    assert text[site.start : site.end] == written
    assert site.quote == quote
    assert site.image == "nginx:1.25"
    assert site.problem is None


@pytest.mark.parametrize(
    ("image", "line"),
    [
        ("&img\n        nginx:1.25", 9),
        ("&img # the app\n        nginx:1.25", 9),
        ("!!str # a comment\n        # another\n        nginx:1.25", 10),
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028"])
def test_position_after_properties_on_the_line_above(image: str, line: int, newline: str) -> None:
    text = POD.format(image=image).replace("\n", newline)
    site = one_site(text)
    assert (site.line, site.column) == (line, 9)
    assert text[site.start : site.end] == "nginx:1.25"
    assert site.problem is None


def test_positions_count_characters_not_bytes() -> None:
    text = (
        "kind: Pod\n"
        "metadata: {name: café}\n"
        "spec:\n"
        "  containers:\n"
        '    - {name: "日本😀", image: "nginx:1.25"}\n'
        "    - name: é\n"
        "      image: redis\n"
    )
    first, second = find_images(text, "m.yaml")
    assert (first.line, first.column) == (5, 28)
    assert text[first.start : first.end] == '"nginx:1.25"'
    assert (second.line, second.column) == (7, 14)
    assert text[second.start : second.end] == "redis"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\x85", "\u2028"])
def test_positions_with_other_line_breaks(newline: str) -> None:
    text = "# é😀\n" + POD.format(image="'nginx:1.25'")
    text = text.replace("\n", newline)
    site = one_site(text)
    assert (site.line, site.column) == (9, 14)
    assert text[site.start : site.end] == "'nginx:1.25'"


def test_flow_mapping_with_a_colon_in_a_plain_image() -> None:
    # libyaml 0.1.7 rejects this; pinner reads it with the pure-Python parser instead.
    text = (
        "kind: Pod\nspec:\r\n  containers: [{name: a, image: nginx:1.25}, {name: b, image: x}]\r\n"
    )
    first, second = find_images(text, "m.yaml")
    assert (first.line, first.column, first.image) == (3, 33, "nginx:1.25")
    assert text[first.start : first.end] == "nginx:1.25"
    assert (second.line, second.column) == (3, 63)
    assert text[second.start : second.end] == "x"


def test_sites_are_in_file_order() -> None:
    text = """\
kind: Pod
spec:
  ephemeralContainers:
    - {name: c, image: alpine}
  containers:
    - {name: b, image: nginx}
  initContainers:
    - {name: a, image: busybox}
"""
    assert [site.line for site in find_images(text, "m.yaml")] == [4, 6, 8]


# --- what is an image ----------------------------------------------------------------------------


def test_every_field_of_a_pod_spec() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: all
spec:
  initContainers:
    - {name: init, image: busybox}
  containers:
    - {name: app, image: nginx}
    - {name: no-image}
  ephemeralContainers:
    - {name: debug, image: alpine}
  volumes:
    - {name: data, emptyDir: {}}
    - {name: models, image: {reference: models, pullPolicy: Always}}
"""
    assert summary(text) == [
        ("Pod", "all", "initContainers", "init", "busybox"),
        ("Pod", "all", "containers", "app", "nginx"),
        ("Pod", "all", "ephemeralContainers", "debug", "alpine"),
        ("Pod", "all", "volumes", "models", "models"),
    ]


@pytest.mark.parametrize(
    ("kind", "api_version", "wrapper"),
    [
        ("Pod", "v1", "spec:\n  {pod}"),
        ("PodTemplate", "v1", "template:\n  spec:\n    {pod}"),
        ("ReplicationController", "v1", "spec:\n  template:\n    spec:\n      {pod}"),
        ("ReplicaSet", "apps/v1", "spec:\n  template:\n    spec:\n      {pod}"),
        ("Deployment", "apps/v1", "spec:\n  template:\n    spec:\n      {pod}"),
        ("StatefulSet", "apps/v1", "spec:\n  template:\n    spec:\n      {pod}"),
        ("DaemonSet", "apps/v1", "spec:\n  template:\n    spec:\n      {pod}"),
        ("Job", "batch/v1", "spec:\n  template:\n    spec:\n      {pod}"),
        (
            "CronJob",
            "batch/v1",
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          {pod}",
        ),
    ],
)
def test_kinds(kind: str, api_version: str, wrapper: str) -> None:
    pod = "containers: [{name: c, image: nginx}]"
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n" + wrapper.format(
        pod=pod
    )
    assert summary(text) == [(kind, "x", "containers", "c", "nginx")]


def test_a_known_kind_is_read_only_at_its_pod_spec_path() -> None:
    # A Deployment's pod spec is spec.template.spec; `spec.containers` is not one.
    text = """\
apiVersion: apps/v1
kind: Deployment
spec:
  containers: [{name: wrong, image: nginx}]
  template:
    spec:
      containers: [{name: right, image: redis}]
"""
    assert [site.container for site in find_images(text, "m.yaml")] == ["right"]


def test_list_items_and_nested_lists() -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - kind: Pod
    metadata: {name: a}
    spec: {containers: [{name: c, image: nginx}]}
  - kind: DeploymentList
    items:
      - kind: Deployment
        apiVersion: apps/v1
        metadata: {name: d}
        spec: {template: {spec: {containers: [{name: c, image: redis}]}}}
  - kind: Service
    metadata: {name: s}
"""
    assert summary(text) == [
        ("Pod", "a", "containers", "c", "nginx"),
        ("Deployment", "d", "containers", "c", "redis"),
    ]


def test_custom_kinds_are_found_by_shape() -> None:
    text = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  template:
    spec:
      containers: [{name: c, image: nginx}]
      initContainers: [{name: i, image: busybox}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: k}
spec:
  template:
    spec:
      containers: [{name: user, image: redis}]
---
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: v}
spec:
  tasks:
    - template: {spec: {containers: [{name: t, image: alpine}]}}
    - template: {spec: {containers: [{name: u, image: postgres}]}}
"""
    assert summary(text) == [
        ("Rollout", "r", "containers", "c", "nginx"),
        ("Rollout", "r", "initContainers", "i", "busybox"),
        ("Service", "k", "containers", "user", "redis"),
        ("Job", "v", "containers", "t", "alpine"),
        ("Job", "v", "containers", "u", "postgres"),
    ]


def test_a_document_without_kind_is_searched_by_shape() -> None:
    # A kustomize patch, for example.
    text = "spec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n"
    assert summary(text) == [("", "", "containers", "c", "nginx")]


@pytest.mark.parametrize(
    "text",
    [
        # The core Service never embeds a pod spec: it is not searched.
        "apiVersion: v1\nkind: Service\nspec:\n  containers: [{name: c, image: nginx}]\n",
        # The shape needs containers whose items have both name and image.
        "kind: Widget\nspec:\n  containers: [{image: nginx}]\n",
        "kind: Widget\nspec:\n  containers: [{name: c}]\n",
        "kind: Widget\nspec:\n  containers: {name: c, image: nginx}\n",
        # docker-compose and Helm values have `image:` keys, but no pod spec.
        "services:\n  web:\n    image: nginx\n",
        "image:\n  repository: nginx\n  tag: '1.25'\n",
        # Scalars, sequences and empty documents are not objects.
        "just a string\n",
        "- kind: Pod\n  spec: {containers: [{name: c, image: nginx}]}\n",
        "",
        "# only a comment\n",
        "---\n...\n",
    ],
)
def test_nothing_to_find(text: str) -> None:
    assert find_images(text, "m.yaml") == []


def test_rules_for_custom_resources() -> None:
    text = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  runner: {image: nginx}
  pod: {containers: [{name: c, image: redis}]}
  containers: [{name: ignored, image: alpine}]
"""
    rule = Rule(kind="Widget", pod_spec=("spec", "pod"), images=(("spec", "runner", "image"),))
    assert [
        (site.field, site.container, site.image)
        for site in find_images(text, "m.yaml", rules=[rule])
    ] == [("spec.runner.image", "", "nginx"), ("containers", "c", "redis")]
    # A rule for another version does not apply: the shape search finds `spec` and stops there.
    other_version = Rule(kind="Widget", api_version="example.com/v2", images=(("spec", "x"),))
    found = find_images(text, "m.yaml", rules=[other_version])
    assert [site.container for site in found] == ["ignored"]


# --- anchors, aliases and merge keys --------------------------------------------------------------


def test_an_alias_is_the_anchored_scalar() -> None:
    text = """\
kind: Pod
spec:
  initContainers: [{name: a, image: &img nginx}]
  containers:
    - {name: b, image: *img}
"""
    first, second = find_images(text, "m.yaml")
    assert (first.container, second.container) == ("a", "b")
    assert (first.start, first.end) == (second.start, second.end)
    assert (second.line, second.column) == (3, 42)
    assert text[second.start : second.end] == "nginx"


def test_merge_keys() -> None:
    text = """\
kind: Pod
spec:
  containers:
    - &base {name: a, image: nginx}
    - <<: *base
      name: b
    - <<: [*base]
      name: c
      image: redis
"""
    sites = find_images(text, "m.yaml")
    assert [(site.container, site.image, site.line) for site in sites] == [
        ("a", "nginx", 4),
        ("b", "nginx", 4),
        ("c", "redis", 9),
    ]


def test_an_alias_bomb_does_not_explode() -> None:
    lines = ["kind: Widget", "a0: &a0 {containers: [{name: c, image: nginx}]}"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    started = time.monotonic()
    sites = find_images("\n".join(lines) + "\n", "m.yaml")
    assert time.monotonic() - started < 5
    assert [site.image for site in sites] == ["nginx"]


def test_a_merge_bomb_does_not_explode() -> None:
    lines = ["kind: Pod", "a0: &a0 {x: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}]}}" for i in range(1, 40)]
    lines += ["spec: {<<: *a39, containers: [{name: c, image: nginx}]}"]
    started = time.monotonic()
    sites = find_images("\n".join(lines) + "\n", "m.yaml")
    assert time.monotonic() - started < 5
    assert [site.image for site in sites] == ["nginx"]


def test_a_list_that_holds_itself() -> None:
    text = "kind: List\nitems:\n  - &l\n    kind: List\n    items: [*l]\n"
    assert find_images(text, "m.yaml") == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("kind: Pod\nspec: &s {containers: [{name: x, image: 'a:1'}], <<: *s}\n", 2),
        ("kind: Pod\nspec:\n  containers:\n    - &c {name: x, image: 'a:1', <<: *c}\n", 4),
        ("kind: Pod\nspec: &s\n  containers: []\n  <<: [{}, *s]\n", 4),
    ],
)
def test_a_merge_key_that_includes_itself(text: str, line: int) -> None:
    with pytest.raises(ManifestError) as error:
        find_images(text, "m.yaml")
    assert str(error.value) == (
        f"m.yaml:{line}: a merge key (<<) includes the mapping that holds it. Remove it."
    )
    assert [place[:2] for place in error.value.locations] == [("m.yaml", line)]


# --- what it refuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ('"nginx\\x3a1.25"', "it uses escape sequences"),
        ('"nginx:1.25\\n"', "it uses escape sequences"),
        ("|\n        nginx:1.25", "it is a block scalar (| or >)"),
        (">-\n        nginx:1.25", "it is a block scalar (| or >)"),
        ("nginx\n        :1.25", "it spans several lines or is not written as YAML reads it"),
        ("'nginx\n        :1.25'", "it spans several lines or is not written as YAML reads it"),
        ('"nginx\n        :1.25"', "it spans several lines or is not written as YAML reads it"),
    ],
)
def test_scalars_that_cannot_be_spliced(image: str, problem: str) -> None:
    site = one_site(POD.format(image=image))
    assert site.problem == problem


def test_a_single_quote_escape_can_be_spliced() -> None:
    # '' is how YAML writes ' inside single quotes: what is written is still exactly known.
    site = one_site(POD.format(image="'it''s'"))
    assert (site.image, site.problem) == ("it's", None)


def test_duplicate_key() -> None:
    text = POD.format(image="nginx") + "      image: redis\n"
    with pytest.raises(ManifestError) as error:
        find_images(text, "m.yaml")
    assert str(error.value) == (
        "m.yaml:9: duplicate key 'image' in one mapping: the manifest is ambiguous (kubectl "
        "rejects it too). Remove one of them."
    )
    assert error.value.locations == (Location("m.yaml", 9, 7),)


def test_a_duplicate_name_of_an_object_with_images() -> None:
    text = POD.format(image="nginx").replace("  name: web\n", "  name: a\n  name: b\n")
    with pytest.raises(ManifestError, match=r"^m\.yaml:5: duplicate key 'name'"):
        find_images(text, "m.yaml")


@pytest.mark.parametrize(
    "text",
    [
        # A CI config: no Kubernetes object, a key written twice.
        "stages: [build]\nbuild:\n  script: make\n  script: make test\n",
        "image: python:3.12\nimage: python:3.13\n",
        "kind: Pod\nmetadata:\n  name: a\n  name: b\n",  # no image: nothing it says is read
        "apiVersion: v1\nkind: Secret\ntype: Opaque\ntype: Opaque\n",
        # Mappings pinner never walks through: labels, an env var.
        POD.format(image="nginx").replace("  name: web\n", "  name: web\n  labels: {a: 1, a: 2}\n"),
        POD.format(image="nginx") + "      env: [{name: A, value: '1', value: '2'}]\n",
    ],
)
def test_a_duplicate_key_that_changes_nothing_pinner_reads_is_ignored(text: str) -> None:
    assert [site.image for site in find_images(text, "m.yaml")] == (
        ["nginx"] if "image: nginx" in text else []
    )


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        (POD.format(image="nginx") + "  containers: []\n", 9, "containers"),
        (POD.format(image="nginx").replace("kind: Pod\n", "kind: Pod\nkind: Job\n"), 3, "kind"),
        # In an object with images, any mapping pinner walks through: kubectl rejects it too.
        (
            POD.format(image="nginx") + "  hostNetwork: true\n  hostNetwork: false\n",
            10,
            "hostNetwork",
        ),
        (POD.format(image="nginx") + "      args: [a]\n      args: [b]\n", 10, "args"),
        # Found by shape: the walk reads containers, and each item's name and image.
        (
            "kind: Rollout\napiVersion: argoproj.io/v1alpha1\nspec:\n  template:\n    spec:\n"
            "      containers:\n      - name: a\n        image: x:1\n        image: x:2\n",
            9,
            "image",
        ),
        # A duplicate inside a merged mapping is read through the merge key.
        (
            "base: &b {image: x:1, image: x:2}\nkind: Pod\napiVersion: v1\nspec:\n"
            "  containers:\n  - name: a\n    <<: *b\n    image: y:1\n",
            1,
            "image",
        ),
    ],
)
def test_a_duplicate_key_pinner_reads_is_an_error(text: str, line: int, key: str) -> None:
    with pytest.raises(ManifestError, match=rf"^m\.yaml:{line}: duplicate key '{key}'"):
        find_images(text, "m.yaml")


@pytest.mark.parametrize(
    ("image", "line"), [("[nginx]", 8), ("{name: nginx}", 8), ("\n        name: nginx", 9)]
)
def test_an_image_that_is_not_a_string(image: str, line: int) -> None:
    with pytest.raises(ManifestError) as error:
        find_images(POD.format(image=image), "m.yaml")
    assert not isinstance(error.value, TemplateFile)
    assert str(error.value) == (
        f"m.yaml:{line}: the image of containers 'nginx' is not a string. Write it as a plain "
        "string such as 'nginx:1.25'."
    )
    assert [place[:2] for place in error.value.locations] == [("m.yaml", line)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            POD.format(image="[nginx"),
            "m.yaml:9: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
            "sequence that starts on line 8).",
        ),
        (
            POD.format(image="'nginx"),
            "m.yaml:9: invalid YAML: found unexpected end of stream (while scanning a quoted "
            "scalar that starts on line 8).",
        ),
        (
            "kind: Pod\nspec: a: b\n",
            "m.yaml:2: invalid YAML: mapping values are not allowed in this context.",
        ),
        (
            "a:\n  - b\n  c: d\n",
            "m.yaml:3: invalid YAML: did not find expected '-' indicator (while parsing a block "
            "collection that starts on line 2).",
        ),
        # A colon in a flow collection is allowed (see above), but not an unclosed one.
        (
            "a: {b: c:d\n",
            "m.yaml:2: invalid YAML: expected ',' or '}', but got '<stream end>' (while parsing a "
            "flow mapping that starts on line 1).",
        ),
        ("a: *nowhere\n", "m.yaml:1: invalid YAML: found undefined alias."),
    ],
)
def test_invalid_yaml(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as error:
        find_images(text, "m.yaml")
    assert str(error.value) == f"{message} Fix the syntax."
    (place,) = error.value.locations  # where the parser stopped, as data for annotations
    assert place.path == "m.yaml" and f"m.yaml:{place.line}:" in message


NOTICE_IMAGE = (
    "m.yaml:8:14: skipped: the image of containers 'nginx' holds a Go/Helm template expression "
    "('{{'); render it first (helm template ... | pinner pin -)."
)
NOTICE_FILE = (
    "m.yaml: skipped: this looks like a Go/Helm template ('{{'); render it first "
    "(helm template ... | pinner pin -)."
)


@pytest.mark.parametrize(
    "image",
    ['"{{ .Values.image }}"', '"{{ .Values.repo }}:{{ .Values.tag }}"', "{{ .Values.image }}"],
)
def test_a_templated_image_is_skipped_alone(image: str) -> None:
    """A file that parses is read: only the image a template fills in is passed over."""
    literal = "    - name: web\n      image: web:1.5.0\n"
    found = find_all(POD.format(image=image) + literal, "m.yaml")
    assert [site.image for site in found.sites] == ["web:1.5.0"]
    assert [skip.message for skip in found.skipped] == [NOTICE_IMAGE]
    assert (found.skipped[0].line, found.skipped[0].column) == (8, 14)


def test_a_templated_image_behind_aliases_is_skipped_once() -> None:
    text = POD.format(image='&i "{{ .Values.image }}"') + "    - name: b\n      image: *i\n"
    found = find_all(text, "m.yaml")
    assert found.sites == []
    assert len(found.skipped) == 1


@pytest.mark.parametrize(
    "text",
    [
        POD.format(image="nginx") + "{{- if .Values.sidecar }}\n    - name: s\n",
        "{{- range .Values.pods }}\nkind: Pod\n{{- end }}\n",
    ],
)
def test_a_template_that_is_not_yaml_is_skipped_whole(text: str) -> None:
    with pytest.raises(TemplateFile) as error:
        find_all(text, "m.yaml")
    assert str(error.value) == NOTICE_FILE


def test_braces_outside_images_are_not_a_template() -> None:
    # A Prometheus rule or a ConfigMap may hold {{ }} in a string: the images are still read.
    text = POD.format(image="nginx") + "  # {{ not a template }}\n"
    text = text.replace("  name: web\n", "  name: web\n  annotations: {summary: '{{ $value }}'}\n")
    assert [site.image for site in find_images(text, "m.yaml")] == ["nginx"]

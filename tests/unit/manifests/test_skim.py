"""Skimming (not composing documents that cannot hold an image) changes nothing the finder says.

Every test compares the finder on a text with skimming (as pinner runs) against the finder
composing every document: the same sites, at the same offsets, lines and columns, or the same
error, word for word. The cases are the tricky ones; a property test mixes them at random.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pinner.manifests.finder
from pinner.errors import ManifestError
from pinner.kinds import Rule
from pinner.manifests.finder import find_images
from pinner.manifests.objects import POD_SPEC_PATHS
from pinner.manifests.skim import skim
from pinner.manifests.yamlnodes import compose_documents
from tests.support.corpus import corpus_root
from tests.support.paths import CASES
from tests.support.samples import deployment

KINDS = frozenset(POD_SPEC_PATHS)

DEPLOYMENT = deployment("""\
containers:
- name: web
  image: nginx:1.27  # the front end
""")
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations:
    note: "ünïcode, so offsets count characters"
spec:
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          size: {type: integer, description: how big the widget is}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n"

# Documents that hold no image, each of which must still be composed (or give the same error).
TRICKY = [
    CONFIGMAP + "data:\n  b: '2'\n",  # duplicate top-level key
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  name: b\n",  # duplicate in metadata
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 'unclosed\n",  # invalid YAML
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: *nowhere\n",  # undefined alias
    "kind: ConfigMap\ndata:\n  a: &x 1\n  b: &x 2\n",  # duplicate anchor
    "apiVersion: v1\nkind: ConfigMapList\nitems:\n- kind: ConfigMap\n  a: 1\n  a: 2\n",
    "kind: Deployment\nspec:\n  template:\n    spec:\n      a: 1\n      a: 2\n",  # no image
    'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    "im\\x61ge": nginx\n',
    "kind: ConfigMap\n<<: {kind: Secret}\n",  # a merge key
    "kind: ConfigMap\nmetadata:\n  <<: &m {name: a}\n  name: b\n",
    "  kind: ConfigMap\n  kind: Secret\n",  # an indented root mapping
    'kind: ConfigMap\ndata: "a\nkind: Deployment"\n',  # a quoted scalar's line at column 0
    "- kind: ConfigMap\n- kind: Secret\n",  # a root sequence
    "just a plain scalar\n",
    "kind: Foo#List\nitems:\n- a: 1\n  a: 2\n",
    "kind: Widget\napiVersion: example.com/v1\nspec:\n  a: 1\n  a: 2\n",  # a rule's kind
    "data: {a: b:c}\nkind: ConfigMap\n",  # libyaml's flow-colon limitation
    "kind: ConfigMap\ndata:\n  a: {{ .Values.a }}\n",  # a template
    "kind: ConfigMap\r\nmetadata:\r\n  name: a\r\n  name: b\r\n",  # CRLF
    "kind: ConfigMap\ndata:\n\ta: 1\n",  # a tab where indentation goes
    "kind:\n  ConfigMap\n",
    'kind: "ConfigMap"  # quoted\nmetadata:  # comment\n  name: x\n',
    "# only a comment\n",
    "",
]
SEPARATORS = ["---\n", "--- # next\n", "...\n---\n", "---\r\n", "\n---\n"]
RULES = (Rule("Widget", pod_spec=("spec", "template", "spec")),)


def outcome(text: str, *, skimming: bool) -> object:
    """What the finder says about ``text``: its sites, or the error it raises."""
    original = pinner.manifests.finder.compose_relevant
    if not skimming:
        pinner.manifests.finder.compose_relevant = lambda text, kinds: compose_documents(text)
    try:
        return [tuple(site) for site in find_images(text, "m.yaml", RULES)]
    except ManifestError as error:
        return (type(error).__name__, str(error))
    finally:
        pinner.manifests.finder.compose_relevant = original


def assert_same(text: str) -> None:
    assert outcome(text, skimming=True) == outcome(text, skimming=False), text


def test_a_crd_beside_a_deployment_is_skipped_and_sites_stay_exact() -> None:
    text = CRD + "---\n" + DEPLOYMENT + "---\n" + CRD
    skimmed = skim(text, KINDS)
    assert skimmed is not None
    assert len(skimmed) < len(text)  # the trailing CRD is cut off, the first one blanked
    assert skimmed[: len(CRD)].isspace() and skimmed.count("\n", 0, len(CRD)) == CRD.count("\n")
    assert skimmed[len(CRD) : len(CRD) + len(DEPLOYMENT) + 4] == "---\n" + DEPLOYMENT
    assert_same(text)
    (site,) = find_images(text, "m.yaml")
    assert (site.line, site.column, text[site.start : site.end]) == (25, 16, "nginx:1.27")


def test_a_stream_with_nothing_that_matters_skims_to_nothing() -> None:
    assert skim(CRD + "---\n" + CONFIGMAP, KINDS) == ""
    assert find_images(CRD + "---\n" + CONFIGMAP, "m.yaml") == []


def test_little_to_skip_or_invalid_yaml_composes_everything() -> None:
    assert skim(DEPLOYMENT * 1 + "---\nkind: Service\n", KINDS) is None
    assert skim(CRD + "---\nkind: ConfigMap\ndata: [unclosed\n", KINDS) is None


@pytest.mark.parametrize("tricky", TRICKY)
@pytest.mark.parametrize("separator", SEPARATORS)
def test_tricky_documents_between_skippable_ones(tricky: str, separator: str) -> None:
    parts = [CRD, tricky, DEPLOYMENT, CRD]
    assert_same(separator.join(parts))
    assert_same(separator.join([tricky, CRD]))
    assert_same(separator.join([CRD, tricky]))


def test_directives_and_marker_lines_with_content() -> None:
    assert_same("%TAG !e! tag:example.com,2000:\n---\n" + CRD + "---\n" + DEPLOYMENT)
    assert_same(CRD + "--- !e!thing\nkind: ConfigMap\n---\n" + DEPLOYMENT)
    assert_same(CRD + "--- |\n  text\n---\n" + DEPLOYMENT)
    assert_same(CRD + "---\n" + DEPLOYMENT.replace("nginx", "'nginx") + "'\n")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([CRD, CONFIGMAP, DEPLOYMENT, *TRICKY]), min_size=1, max_size=6),
    st.lists(st.sampled_from(SEPARATORS), min_size=6, max_size=6),
)
def test_any_mix_of_documents(documents: list[str], separators: list[str]) -> None:
    text = documents[0]
    for document, separator in zip(documents[1:], separators, strict=False):
        text += separator + document
    assert_same(text)


def manifests(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in (".yaml", ".yml", ".json") and path.is_file() and not path.is_symlink()
    )


def test_every_case_file_reads_the_same() -> None:
    for path in manifests(CASES):
        assert_same(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))


@pytest.mark.skipif(corpus_root() is None, reason="the shared corpus is not beside the repo")
def test_every_corpus_file_reads_the_same() -> None:
    root = corpus_root()
    assert root is not None
    for path in manifests(root):
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
        assert_same(text)

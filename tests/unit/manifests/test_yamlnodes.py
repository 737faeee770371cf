"""Marks to offsets, whichever parser read the text; reused anchors; BOMs of later documents."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import pytest
from ruamel.yaml.error import StreamMark

from pinner.manifests.finder import find_images
from pinner.manifests.yamlnodes import LineIndex, compose_documents, strip_document_boms


class CMark(NamedTuple):
    """A mark as libyaml gives it (not a ruamel StreamMark)."""

    index: int
    line: int
    column: int


TEXT = "a: 1\u2028b: 2\nc: 3\n"  # libyaml: three lines before c; ruamel's reader: two


def test_each_parsers_marks_are_counted_its_own_way() -> None:
    lines = LineIndex(TEXT)
    c = TEXT.index("c")
    assert lines.offset(CMark(c, 2, 0)) == c  # libyaml counts U+2028 as a line break
    assert lines.offset(StreamMark("<text>", c, 1, 0)) == c  # ruamel's reader does not


@pytest.mark.parametrize(
    "mark",
    [CMark(TEXT.index("c"), 1, 0), StreamMark("<text>", TEXT.index("c"), 2, 0), CMark(3, 9, 0)],
)
def test_a_mark_whose_line_and_column_miss_its_index_is_not_trusted(mark: object) -> None:
    assert LineIndex(TEXT).offset(mark) is None


def test_a_scalar_read_by_the_pure_parser_after_a_line_separator_is_spliced_in_place() -> None:
    text = (
        'kind: Pod\napiVersion: v1\nmetadata:\n  annotations: {a: "x\u2028y"}\nspec:\n'
        "  containers:\n# - {name: web, image: nginx:1}\n  - {name: web, image: nginx:1}\n"
    )
    (site,) = find_images(text, "m.yaml")
    assert site.problem is None
    assert site.start == text.rindex("nginx:1") and text[site.start : site.end] == "nginx:1"


def test_a_reused_anchor_is_read_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (root,) = compose_documents("a: &x 1\nb: &x 2\nc: *x\n")
    assert [value.value for _, value in root.value] == ["1", "2", "2"]


def test_boms_that_begin_documents_are_taken_out_and_others_kept() -> None:
    text = "a: 1\n---\n\ufeffb: 2\n\ufeff---\nc: '\n\ufeffd'\n"
    stripped, removed = strip_document_boms(text)
    assert stripped == "a: 1\n---\nb: 2\n---\nc: '\n\ufeffd'\n"
    assert removed == [9, 14]  # where each was, in the stripped text
    lines = LineIndex(stripped, removed)
    for char in "bc":
        assert lines.offset(CMark(stripped.index(char), 0, 0)) == text.index(char)

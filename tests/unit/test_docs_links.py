"""Every relative link in the project's markdown leads somewhere: a file that exists, and for an
``#anchor`` a heading of that file, named as GitHub names it.

GitHub's anchor for a heading: the heading's text as rendered (code spans and link targets
dropped), lower-cased, every character that is not a letter, a digit, ``_``, ``-`` or a space
removed, each space turned into ``-``; a repeated anchor gets ``-1``, ``-2`` and so on.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.paths import REPO

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target), the target up to a space (a title may follow) or ")".
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+).+?\1")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: ...


def documents() -> list[Path]:
    """The markdown a reader follows links in: README, CONTRIBUTING, docs/, benchmarks/, tests/."""
    found = [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "benchmarks" / "README.md"]
    found += sorted((REPO / "docs").glob("**/*.md"))
    found += sorted((REPO / "tests").glob("**/*.md"))
    return [path for path in found if path.is_file()]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks: links and headings there are not real."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    rendered = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    rendered = rendered.replace("`", "").replace("*", "")
    rendered = re.sub(r"<[^>]+>", "", rendered)  # inline HTML tags render as nothing
    return re.sub(r"[^\w\- ]", "", rendered.lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(text):
        for match in LINK.finditer(CODE_SPAN.sub("", line)):
            found.append((number, match.group(1)))
    return found


def broken_links(document: Path) -> list[str]:
    """Each relative link of DOCUMENT that names a missing file or heading, as 'file:line: why'."""
    problems: list[str] = []
    text = document.read_text(encoding="utf-8")
    name = document.relative_to(REPO) if document.is_relative_to(REPO) else document
    for number, target in links(text):
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (document.parent / unquote(path_part)).resolve() if path_part else document
        where = f"{name}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: no such file")
        elif anchor and destination.suffix == ".md":
            if unquote(anchor) not in anchors(destination.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading with that anchor in {destination.name}")
        elif anchor:
            problems.append(f"{where}: an anchor into a file that is not markdown")
    return problems


def test_the_documents_exist() -> None:
    names = {path.relative_to(REPO).as_posix() for path in documents()}
    assert {"README.md", "CONTRIBUTING.md", "benchmarks/README.md"} <= names
    assert any(name.startswith("docs/") for name in names)


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(document: Path) -> None:
    assert broken_links(document) == []


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Keeping pins fresh: update, verify, tags", "keeping-pins-fresh-update-verify-tags"),
        ("`pinner pin [PATH ...]`", "pinner-pin-path-"),
        (
            "Enforcing the rule in the cluster: `pinner policy`",
            "enforcing-the-rule-in-the-cluster-pinner-policy",
        ),
        (
            "Scale: `pin --dry-run` time (registry on 127.0.0.1)",
            "scale-pin---dry-run-time-registry-on-127001",
        ),
        ("Scan throughput (MB/s; × = ratio)", "scan-throughput-mbs---ratio"),
        ("[Output](docs/output.md) formats", "output-formats"),
        ("snake_case and Ünïcode", "snake_case-and-ünïcode"),
    ],
)
def test_slug_follows_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_a_repeated_heading_gets_a_number() -> None:
    assert anchors("# Notes\n## Notes\n### Notes\n") == {"notes", "notes-1", "notes-2"}


def test_headings_and_links_in_code_blocks_do_not_count(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Real\n\n```yaml\n# not-a-heading\n[x](missing.md)\n```\n`[y](gone.md)`\n")
    assert anchors(page.read_text()) == {"real"}
    assert broken_links(page) == []


def test_a_broken_file_link_and_a_broken_anchor_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Present heading\n")
    (tmp_path / "image.png").write_bytes(b"")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n"
        "[ok](other.md#present-heading) [ok](#top) [ok](other.md) ![ok](image.png)\n"
        "[web](https://example.com/missing) [mail](mailto:a@example.com)\n"
        "[gone](missing.md)\n"
        "[bad anchor](other.md#absent)\n"
        "[bad here](#nowhere)\n"
    )
    problems = broken_links(page)
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "missing.md: no such file",
        "other.md#absent: no heading with that anchor in other.md",
        "#nowhere: no heading with that anchor in page.md",
    ]
    assert [problem.split(":")[1] for problem in problems] == ["4", "5", "6"]

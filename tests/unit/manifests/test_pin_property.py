"""A property of pin over generated manifests: only image values change, or nothing does.

Each example is a Pod written with a chosen line break (any of YAML's six, in the structure or
inside quoted annotations and comments), block or flow containers, plain or quoted images, an
anchored image with aliases (in image fields and in env values), and comments that repeat the
image lines exactly (the decoys a shifted offset lands on). After pinning:

- PyYAML, an independent parser, reads the same objects from the new text, except the image
  values (and the aliases of an anchored image, which are the same node);
- every comment is still there, byte for byte, and putting the old images back gives the old
  text exactly;
- or pin refused the file (an error for it), and it stays as it was.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pinner.manifests.files import decode
from pinner.manifests.scan import scan_source
from pinner.planning import PinOptions, plan_file

DIGESTS = {
    "nginx:1.25": "sha256:" + "1" * 64,
    "busybox:1.36": "sha256:" + "2" * 64,
    "redis:7.2": "sha256:" + "3" * 64,
}
KEYS = {
    ("docker.io", f"library/{image.split(':')[0]}", image.split(":")[1]): digest
    for image, digest in DIGESTS.items()
}
BREAKS = ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"]
QUOTES = ["", "'", '"']


def pinned(image: str) -> str:
    return f"{image.split(':')[0]}@{DIGESTS[image]}"


@st.composite
def manifests(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(text, the comments in it)."""
    brk = draw(st.sampled_from(BREAKS))  # the structure's line break
    odd = draw(st.sampled_from(BREAKS[3:]))  # one inside quoted text and comments
    comments: list[str] = []

    def comment(text: str) -> str:
        comments.append(text)
        return text

    lines = ["apiVersion: v1", "kind: Pod", "metadata:", "  name: web", "  annotations:"]
    lines.append(f'    note: "first{odd}second"')
    lines.append("spec:")
    lines.append("  containers:")
    count = draw(st.integers(1, 3))
    anchored = draw(st.booleans())
    flow = draw(st.booleans())
    for index in range(count):
        image = draw(st.sampled_from(sorted(DIGESTS)))
        quote = draw(st.sampled_from(QUOTES))
        written = f"{quote}{image}{quote}"
        if anchored and index == 0:
            written = f"&img {written}"
        elif anchored and draw(st.booleans()):
            written = "*img"
        env = ""
        if anchored and index > 0 and draw(st.booleans()):
            env = ", env: [{name: IMAGE, value: *img}]" if flow else "env"
        if flow:
            entry = f"  - {{name: c{index}, image: {written}{env}}}"
            if draw(st.booleans()):
                lines.append(comment(f"#{entry[1:]}"))  # the same line, commented out
            lines.append(entry)
        else:
            if draw(st.booleans()):
                lines.append(comment(f"#   image: {written}"))
            lines.append(f"  - name: c{index}")
            trailer = comment(f"  # {image}{odd}") if draw(st.booleans()) else ""
            lines.append(f"    image: {written}{trailer}")
            if env:
                lines += ["    env:", "    - name: IMAGE", "      value: *img"]
    if draw(st.booleans()):
        lines.append(comment(f"# the end{odd}# image: nginx:1.25"))
    text = brk.join(lines) + (brk if draw(st.booleans()) else "")
    return text, comments


def _images_replaced(old: Any, new: Any, path: str = "") -> bool:
    """Whether ``new`` is ``old`` with image values (and only those) pinned."""
    if isinstance(old, dict):
        return (
            isinstance(new, dict)
            and list(old) == list(new)
            and all(_images_replaced(old[key], new[key], f"{path}.{key}") for key in old)
        )
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) == len(new)
            and all(_images_replaced(a, b, f"{path}[]") for a, b in zip(old, new, strict=True))
        )
    if path.endswith((".image", ".value")) and isinstance(old, str) and old in DIGESTS:
        return new in (old, pinned(old))  # a value pinned through its alias, or left alone
    return bool(old == new)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests())
@example(
    (
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    note: "a\u2028b"\n'
        "spec:\n  containers:\n# - {name: c0, image: nginx:1.25}\n"
        "  - {name: c0, image: nginx:1.25}\n",
        ["# - {name: c0, image: nginx:1.25}"],
    )
)
def test_pin_changes_only_images_or_refuses(case: tuple[str, list[str]]) -> None:
    text, comments = case
    raw = text.encode()
    scan = scan_source("m.yaml", lambda: decode(raw, "m.yaml"), ())
    plan = plan_file(scan, KEYS, PinOptions())
    if plan.new_text is None:
        assert plan.errors or scan.error is not None, "nothing pinned, and no reason given"
        return
    new = plan.new_text
    old_objects = list(yaml.safe_load_all(text))
    new_objects = list(yaml.safe_load_all(new))
    assert _images_replaced(old_objects, new_objects), (text, new)
    for comment_text in comments:
        assert new.count(comment_text) == text.count(comment_text), (comment_text, new)
    restored = new
    for image in DIGESTS:
        restored = restored.replace(pinned(image), image)
    assert restored == text
    # Every image the finder saw is pinned now.
    assert all("@sha256:" in change.new for change in plan.changes)

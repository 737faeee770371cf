"""Manifests several test modules write, built in one place so that the lines and columns the
tests expect are counted once."""

from __future__ import annotations

import textwrap
from pathlib import Path

POD_HEAD = "kind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
CONTAINER = "    - name: c{index}\n      image: {image}\n"
IMAGE_COLUMN = 14  # "      image: " is 13 characters


def pod(*images: str, name: str = "web") -> str:
    """A Pod ``name`` with one container for each image, named c0, c1, ... in order."""
    containers = (CONTAINER.format(index=i, image=image) for i, image in enumerate(images))
    return POD_HEAD.format(name=name) + "".join(containers)


def image_line(index: int) -> int:
    """The line of the ``index``th image of a ``pod()``."""
    return 7 + 2 * index


def write_pod(path: str | Path, *images: str, name: str = "web") -> Path:
    """``pod(*images)`` written to ``path``; returns the path."""
    path = Path(path)
    path.write_text(pod(*images, name=name), encoding="utf-8")
    return path


DEPLOYMENT_HEAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
"""


def deployment(pod_spec: str) -> str:
    """A Deployment ``web`` whose pod template has the spec ``pod_spec`` (YAML, unindented)."""
    return DEPLOYMENT_HEAD + textwrap.indent(pod_spec, " " * 6)


# The one-container Pod of the pre-commit and CI examples, and the same Pod pinned.
UNPINNED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - name: app
    image: nginx:1.27  # the web server
"""


def pinned_pod(digest: str) -> str:
    return UNPINNED_POD.replace("nginx:1.27", f"nginx@{digest}")

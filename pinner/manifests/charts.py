"""Which files are a Helm chart's values, and what the chart's ``Chart.yaml`` tells about them.

A values file is ``values.yaml`` or ``values*.yaml`` (``.yml`` too) in a folder that holds a
``Chart.yaml``, as Helm itself requires of a chart. Its ``appVersion`` is the tag of an image
block whose ``tag`` is empty, as most charts' templates default it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import NamedTuple

from pinner.manifests.yamlnodes import MappingNode, MarkedYAMLError, ScalarNode, compose_documents

CHART_FILE = "Chart.yaml"
VALUES_SUFFIXES = (".yaml", ".yml")
# A Chart.yaml is a few KiB; a larger one is not read (its appVersion is then unknown).
MAX_CHART_FILE_BYTES = 1024 * 1024


class Chart(NamedTuple):
    """The chart a values file belongs to."""

    folder: str  # as reports name it: the values file's folder, spelled as the user spelled it
    app_version: str | None  # None when Chart.yaml has none (or cannot be read)


def is_values_name(name: str) -> bool:
    base = os.path.basename(name)
    return base.startswith("values") and base.endswith(VALUES_SUFFIXES)


def chart_of(name: str, display: str) -> Chart | None:
    """The chart whose values file ``name`` is (shown as ``display``), or None if it is not one.

    Only a file named like values costs a look for ``Chart.yaml`` beside it.
    """
    if not is_values_name(name):
        return None
    folder = os.path.dirname(name)
    if not os.path.isfile(os.path.join(folder, CHART_FILE)):
        return None
    shown = os.path.dirname(display) or "."
    return Chart(shown, app_version(os.path.abspath(folder)))


@lru_cache(maxsize=256)
def app_version(folder: str) -> str | None:
    """``appVersion`` from the folder's Chart.yaml, or None (a chart's several values files and
    every worker ask once each)."""
    try:
        with open(os.path.join(folder, CHART_FILE), "rb") as handle:
            raw = handle.read(MAX_CHART_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if len(raw) > MAX_CHART_FILE_BYTES:
        return None
    try:
        documents = compose_documents(text.removeprefix("\ufeff"))
    except MarkedYAMLError:
        return None
    if len(documents) != 1 or not isinstance(documents[0], MappingNode):
        return None
    for key, value in documents[0].value:
        if isinstance(key, ScalarNode) and key.value == "appVersion":
            if isinstance(value, ScalarNode) and value.value not in ("", "~", "null"):
                return str(value.value)
            return None
    return None

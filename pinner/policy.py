"""What counts as pinned: the OPA Gatekeeper ``k8simagedigests`` rule, exactly.

The regex is Gatekeeper's, unanchored, so the commit hook rejects what the cluster rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Copied verbatim from the gatekeeper-library k8simagedigests template: do not "improve" it.
GATEKEEPER_DIGEST_REGEX = "@[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"
_PINNED_RE = re.compile(GATEKEEPER_DIGEST_REGEX)


def is_pinned(image: str) -> bool:
    """True when Gatekeeper would accept ``image`` as pinned by digest."""
    return _PINNED_RE.search(image) is not None


def is_exempt(image: str, patterns: Iterable[str]) -> bool:
    """Gatekeeper's ``exemptImages``: a pattern ending in ``*`` is a prefix, else exact."""
    for pattern in patterns:
        if pattern.endswith("*"):
            if image.startswith(pattern[:-1]):
                return True
        elif image == pattern:
            return True
    return False

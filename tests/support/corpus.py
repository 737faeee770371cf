"""Where the shared corpus of real manifests lives, for tests and benchmarks that read it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.paths import REPO


def corpus_root() -> Path | None:
    """The corpus folder: $PINNER_CORPUS, else ../shared/corpus beside the repository."""
    candidates = [os.environ.get("PINNER_CORPUS"), REPO.parent / "shared" / "corpus"]
    for candidate in candidates:
        if candidate and Path(candidate, "README.md").is_file():
            return Path(candidate)
    return None


def eval_corpus_root() -> Path | None:
    """The evaluation corpus (real charts among others): $PINNER_EVAL_CORPUS, else
    ../shared/eval/corpus beside the repository."""
    candidates = [os.environ.get("PINNER_EVAL_CORPUS"), REPO.parent / "shared" / "eval" / "corpus"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None

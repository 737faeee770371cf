"""Where the test data lives, named once so that a test file can move without breaking them."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases"
FAKES = REPO / "tests" / "support" / "fakes"

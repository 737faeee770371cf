"""Fixtures every test module can use: the real-registry harness (tests/support/).

Its fixtures are in tests/support/registry_fixtures.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinner import untrusted

pytest_plugins = ["tests.support.registry_fixtures"]


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with no remembered credential, as each run of pinner does."""
    untrusted.forget_secrets()
    yield
    untrusted.forget_secrets()

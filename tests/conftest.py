"""Fixtures every test module can use: the real-registry harness (tests/support/).

Its fixtures are in tests/support/registry_fixtures.py.
"""

from __future__ import annotations

pytest_plugins = ["tests.support.registry_fixtures"]

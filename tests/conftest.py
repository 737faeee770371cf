"""Fixtures every test module can use: the real-registry harness (tests/registry_fixtures.py)."""

from __future__ import annotations

pytest_plugins = ["tests.support.registry_fixtures"]

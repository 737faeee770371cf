"""Fixtures every test module can use: the real-registry harness (tests/support/).

Its fixtures are in tests/support/registry_fixtures.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.registry_fixtures"]


@pytest.fixture(scope="session")
def _no_login_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-login-files")


@pytest.fixture(autouse=True)
def _isolated_containers_auth(
    _no_login_files: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads the podman/skopeo logins of whoever runs the suite."""
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(_no_login_files / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_no_login_files / "config"))
    yield

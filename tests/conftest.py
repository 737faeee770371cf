"""Fixtures every test module can use: a run isolated from this machine, and the harness.

The real-registry fixtures are in tests/support/registry_fixtures.py. A module takes the
isolation it needs with ``pytestmark = pytest.mark.usefixtures(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.registry_fixtures", "tests.support.recipes"]
# Proxies from the developer's shell would carry the tests' loopback requests elsewhere.
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
PROXY_VARIABLES += ("all_proxy",)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder as the working folder (messages name files relative to it, as people
    type them) and no colour; returns the folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


@pytest.fixture
def work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Like ``isolated``, in a folder of its own (tmp_path/work): what ``pinner pin .`` reads
    there leaves the test's other files (a docker config, a registry's data) alone."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("NO_COLOR", "1")
    return work


@pytest.fixture
def work_tree(isolated: Path) -> Path:
    """``isolated``, at the top of a git work tree: no ``.pinner.yaml`` from the folders above."""
    (isolated / ".git").mkdir()
    return isolated


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG folder and no proxy: no credentials, helpers or proxies of this
    machine reach pinner. Returns the folder, for a test that writes a config.json there."""
    folder = tmp_path / "docker"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only the fakes a test links into it (nothing real is found)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


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

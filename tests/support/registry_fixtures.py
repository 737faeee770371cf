"""pytest fixtures for the real-registry tests.

Load with `pytest_plugins = ["tests.support.registry_fixtures"]` (in the root conftest or a
test module).

One registry per auth mode for the whole session (starting one takes a fraction of a second,
but there is no reason to pay it per test). Because they are shared, give every test its own
repository (`unique_repo`) and count requests with `since=server.log_mark()`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

import pytest

from tests.support.registry_server import (
    AuthMode,
    Pusher,
    RegistryServer,
    make_pusher_factory,
    require_binary,
)

_repo_counter = itertools.count(1)


def _serve(auth: AuthMode) -> Iterator[RegistryServer]:
    require_binary("docker-registry")
    if auth == "htpasswd":
        require_binary("htpasswd")
    with RegistryServer(auth) as server:
        yield server


@pytest.fixture(scope="session")
def registry_anonymous() -> Iterator[RegistryServer]:
    yield from _serve("anonymous")


@pytest.fixture(scope="session")
def registry_htpasswd() -> Iterator[RegistryServer]:
    yield from _serve("htpasswd")


@pytest.fixture(scope="session")
def registry_token() -> Iterator[RegistryServer]:
    yield from _serve("token")


@pytest.fixture
def make_pusher() -> Iterator[Callable[[RegistryServer], Pusher]]:
    """`make_pusher(server)` → a Pusher for that server, closed after the test."""
    make, close_all = make_pusher_factory()
    yield make
    close_all()


@pytest.fixture
def pusher_anonymous(
    registry_anonymous: RegistryServer, make_pusher: Callable[[RegistryServer], Pusher]
) -> Pusher:
    return make_pusher(registry_anonymous)


@pytest.fixture
def pusher_htpasswd(
    registry_htpasswd: RegistryServer, make_pusher: Callable[[RegistryServer], Pusher]
) -> Pusher:
    return make_pusher(registry_htpasswd)


@pytest.fixture
def pusher_token(
    registry_token: RegistryServer, make_pusher: Callable[[RegistryServer], Pusher]
) -> Pusher:
    return make_pusher(registry_token)


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses, e.g. `test/push-image-oci-7`."""
    # Lowercase and only [a-z0-9-]: the distribution path-component grammar (REGISTRY.md §2.1).
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_")).strip("-")
    return f"test/{slug[:60].strip('-') or 'repo'}-{next(_repo_counter)}"


@pytest.fixture
def skopeo() -> str:
    """The skopeo binary; skips (or fails with CI=true) when it is missing."""
    return require_binary("skopeo")

"""Digest lock files: ``pin --write-digests FILE`` in one run, ``--offline --digests FILE`` in
another, against the real Debian ``docker-registry``.

The lock records one ``REFERENCE@sha256:...`` line per tag the files use, sorted: the digests
the run looked up, and those already written as ``name:tag@digest`` (so the lock is complete
and ``pin --update --offline`` can replay an update). The tests move the tags after the first
run, so an offline run that reproduced the files can only have read the lock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli, without_summaries
from tests.support.files import write_tree
from tests.support.registry_server import Pusher, RegistryServer
from tests.support.samples import pod

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("isolated", "docker_config")]


def tree(root: str) -> dict[str, bytes]:
    base = Path(root)
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*.yaml"))}


def registry_requests(server: RegistryServer, mark: int) -> list[str]:
    """The distribution API requests since ``mark`` (the log's own sync probes aside)."""
    return [entry.line for entry in server.access_log(since=mark) if entry.path.startswith("/v2/")]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err)


def test_a_lock_file_reproduces_the_pins_offline(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    server = pusher_anonymous.server
    one = pusher_anonymous.push_image(f"{unique_repo}/app", "1", seed="one")
    two, _ = pusher_anonymous.push_index(f"{unique_repo}/app", "2", seed="two")
    three = pusher_anonymous.push_image(f"{unique_repo}/app", "3", seed="three")
    web = pusher_anonymous.push_image(f"{unique_repo}/web", "latest", seed="web")
    frozen = pusher_anonymous.push_image(f"{unique_repo}/app", None, seed="frozen")
    app, web_name = f"{server.host}/{unique_repo}/app", f"{server.host}/{unique_repo}/web"
    files = {
        "a.yaml": pod(f"{app}:1", f"{web_name}", f"{app}:3@{three}", name="a"),
        "k8s/b.yaml": pod(f"{app}:2", f"{app}:1", f"{app}@{frozen}", name="b"),
    }
    write_tree("first", files)
    write_tree("second", files)

    code, _, errors = run(capsys, "pin", "--write-digests", "lock.txt", "first")

    assert (code, errors) == (1, [])
    # Sorted, one line per tag; web had no tag and is recorded as :latest, which is what it
    # means; the digest-only pin names no tag and needs no line.
    assert Path("lock.txt").read_text(encoding="utf-8") == (
        f"{app}:1@{one}\n{app}:2@{two}\n{app}:3@{three}\n{web_name}:latest@{web}\n"
    )
    assert (
        tree("first")["a.yaml"]
        == pod(f"{app}@{one}", f"{web_name}@{web}", f"{app}:3@{three}", name="a").encode()
    )

    # The tags move on: asking the registry now would give other digests.
    pusher_anonymous.push_image(f"{unique_repo}/app", "1", seed="one, rebuilt")
    pusher_anonymous.push_image(f"{unique_repo}/web", "latest", seed="web, rebuilt")
    mark = server.log_mark()

    code, _, errors = run(capsys, "pin", "--offline", "--digests", "lock.txt", "second")

    assert (code, errors) == (1, [])
    assert tree("second") == tree("first")
    assert registry_requests(server, mark) == []  # offline: not one request


def test_an_update_replays_offline_from_its_lock_file(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    server = pusher_anonymous.server
    old = pusher_anonymous.push_image(unique_repo, "1", seed="old")
    steady = pusher_anonymous.push_image(unique_repo, "2", seed="steady")
    new = pusher_anonymous.push_image(unique_repo, "1", seed="new")
    app = f"{server.host}/{unique_repo}"
    files = {"a.yaml": pod(f"{app}:1@{old}", f"{app}:2@{steady}", name="a")}
    write_tree("first", files)
    write_tree("second", files)

    assert run(capsys, "pin", "--update", "--write-digests", "lock.txt", "first")[0] == 1
    assert Path("lock.txt").read_text() == f"{app}:1@{new}\n{app}:2@{steady}\n"
    assert tree("first") == {
        "a.yaml": pod(f"{app}:1@{new}", f"{app}:2@{steady}", name="a").encode()
    }

    pusher_anonymous.push_image(unique_repo, "1", seed="newer still")
    mark = server.log_mark()
    args = ("pin", "--update", "--offline", "--digests", "lock.txt", "second")
    assert run(capsys, *args) == (1, f"second/a.yaml:7:14: {app}:1@{old} -> {app}:1@{new}\n", [])
    assert tree("second") == tree("first")
    assert registry_requests(server, mark) == []


def test_the_lock_records_existing_tag_pins_and_leaves_out_disagreeing_ones(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    first = pusher_anonymous.push_image(unique_repo, "1", seed="first")
    second = pusher_anonymous.push_image(unique_repo, "1", seed="second")
    kept = pusher_anonymous.push_image(unique_repo, "2", seed="kept")
    moved = pusher_anonymous.push_image(unique_repo, "2", seed="moved")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    # Tag 1 is pinned to two digests in two files: the lock cannot hold both. Tag 2 is pinned
    # to an old digest: without --update the lock keeps what the file says, not the registry.
    write_tree("k8s", {"a.yaml": pod(f"{app}:1@{first}", f"{app}:2@{kept}", name="a")})
    write_tree("k8s", {"b.yaml": pod(f"{app}:1@{second}", name="b")})

    code, stdout, errors = run(capsys, "pin", "--write-digests", "lock.txt", "k8s")

    assert (code, stdout) == (0, "")
    assert errors == [
        f"notice: {app}:1 is pinned to 2 different digests (k8s/a.yaml:7:14, k8s/b.yaml:7:14), "
        "so the digest file leaves it out. Run `pinner pin --update` to pin them alike."
    ]
    assert Path("lock.txt").read_text() == f"{app}:2@{kept}\n"
    assert moved != kept


def test_no_lock_is_written_when_the_run_fails(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    pusher_anonymous.push_image(unique_repo, "1")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_tree("k8s", {"a.yaml": pod(f"{app}:1", f"{app}:missing", name="a")})

    code, _, errors = run(capsys, "pin", "--write-digests", "lock.txt", "k8s")

    assert code == 2
    assert errors[0].startswith(f"error: Could not look up {app}:missing: ")
    # A partial lock would make a later offline run fail in a more confusing place.
    assert not Path("lock.txt").exists()


def test_an_annotated_lock_file_is_still_accepted(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_tree("k8s", {"a.yaml": pod(f"{app}:1", name="a")})
    write_tree("first", {"a.yaml": pod(f"{app}:1", name="a")})
    assert run(capsys, "pin", "--write-digests", "lock.txt", "first")[0] == 1
    # People annotate lock files; --digests skips comments and blank lines.
    edited = Path("edited.txt")
    edited.write_text("# pinned for release 7\n\n" + Path("lock.txt").read_text())

    code, stdout, errors = run(capsys, "pin", "--offline", "--digests", "edited.txt", "k8s")

    assert (code, errors) == (1, [])
    assert stdout == f"k8s/a.yaml:7:14: {app}:1 -> {app}@{digest}\n"

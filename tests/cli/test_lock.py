"""Lock files in daily use: pre-commit's partial runs keep the lock whole, `--prune-digests`
trims it, `--dry-run` never writes it, and `pinner lock add` (against the real Debian
docker-registry) adds what `pin --offline` says is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli, without_summaries
from tests.support.registry_server import Pusher

pytest_plugins = ["tests.support.registry_fixtures"]

A, B, C = (f"sha256:{letter * 64}" for letter in "abc")
POD = "kind: Pod\nmetadata:\n  name: {}\nspec:\n  containers:\n  - name: app\n    image: {}\n"
IMAGES = ["ghcr.io/acme/api:1", "nginx:1.27", "quay.io/org/job:5", "redis:7", "traefik:v3"]
LOCK = "".join(f"{image}@{A}\n" for image in IMAGES)


@pytest.fixture(autouse=True)
def _tree(isolated: Path, docker_config: Path) -> None:
    """Five pods, one image each, and the lock of all five."""
    for number, image in enumerate(IMAGES):
        Path(f"pod{number}.yaml").write_text(POD.format(f"p{number}", image))
    Path("pins.lock").write_text(LOCK)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err)


PIN_ONE = ["pin", "--offline", "--digests", "pins.lock", "--write-digests", "pins.lock"]


def test_a_partial_run_keeps_the_entries_it_did_not_see(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What the pinner-pin hook runs when one staged file changed: it cut a 7-line lock to 1.
    code, _, errors = run(capsys, *PIN_ONE, "pod3.yaml")
    assert (code, errors) == (1, [])
    assert Path("pins.lock").read_text() == LOCK
    assert Path("pod3.yaml").read_text() == POD.format("p3", f"redis@{A}")


def test_prune_digests_drops_what_the_run_did_not_see(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, errors = run(capsys, *PIN_ONE, "--prune-digests", "pod1.yaml", "pod3.yaml")
    assert (code, errors) == (1, [])
    assert Path("pins.lock").read_text() == f"nginx:1.27@{A}\nredis:7@{A}\n"


def test_prune_digests_needs_a_lock_to_prune(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, errors = run(capsys, "pin", "--offline", "--prune-digests", "pod3.yaml")
    assert code == 2
    assert errors == [
        "error: --prune-digests prunes the lock --write-digests FILE writes; name it."
    ]


def test_a_dry_run_never_writes_the_lock(capsys: pytest.CaptureFixture[str]) -> None:
    Path("new.lock").unlink(missing_ok=True)
    args = ["pin", "--offline", "--digests", "pins.lock", "--write-digests", "new.lock"]
    code, _, errors = run(capsys, *args, "--dry-run", "pod3.yaml")
    assert code == 1
    assert errors[-1] == "notice: --dry-run: new.lock was not written."
    assert not Path("new.lock").exists()
    assert Path("pod3.yaml").read_text() == POD.format("p3", "redis:7")


def test_a_diff_writes_the_lock_of_what_it_shows(capsys: pytest.CaptureFixture[str]) -> None:
    # The one-off recipe: review the diff, then apply exactly its digests offline.
    Path("new.lock").unlink(missing_ok=True)
    args = ["pin", "--offline", "--digests", "pins.lock", "--write-digests", "new.lock"]
    code, diff, _ = run(capsys, *args, "--diff", "pod3.yaml")
    assert code == 1
    assert f"+    image: redis@{A}\n" in diff
    assert Path("new.lock").read_text() == f"redis:7@{A}\n"  # names as written
    assert Path("pod3.yaml").read_text() == POD.format("p3", "redis:7")


def test_a_missing_digest_offline_names_the_command_that_adds_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("new.yaml").write_text(POD.format("n", "busybox:1.36"))
    code, _, errors = run(capsys, *PIN_ONE, "new.yaml")
    assert code == 2
    assert errors == [
        "error: no known digest for busybox:1.36 and --offline forbids asking the registry. Add "
        "it with `pinner lock add --file pins.lock busybox:1.36`, or drop --offline.",
        "  used at new.yaml:7:12",
    ]
    assert Path("pins.lock").read_text() == LOCK  # a failed run writes no lock


# --- pinner lock add, against a real registry ----------------------------------------------------


@pytest.mark.realregistry
def test_lock_add_resolves_and_keeps_the_rest(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    one = pusher_anonymous.push_image(unique_repo, "1", seed="one")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    Path("new.yaml").write_text(POD.format("n", f"{app}:1"))

    code, out, errors = run(capsys, "lock", "add", "--file", "pins.lock", f"{app}:1")
    assert (code, out, errors) == (0, f"{app}:1@{one}\n", [])
    lines = Path("pins.lock").read_text().splitlines()
    assert len(lines) == len(IMAGES) + 1 and f"{app}:1@{one}" in lines
    # Now the offline run the error asked for works.
    assert run(capsys, *PIN_ONE, "new.yaml")[::2] == (1, [])
    assert Path("new.yaml").read_text() == POD.format("n", f"{app}@{one}")

    # The tag moves: lock add updates its line, in place.
    two = pusher_anonymous.push_image(unique_repo, "1", seed="two")
    assert run(capsys, "lock", "add", f"{app}:1")[0] == 0
    assert Path("pins.lock").read_text() == "\n".join(lines).replace(one, two) + "\n"


@pytest.mark.realregistry
def test_lock_add_writes_nothing_when_an_image_cannot_be_found(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    pusher_anonymous.push_image(unique_repo, "1")
    app = f"{pusher_anonymous.server.host}/{unique_repo}"
    code, out, errors = run(capsys, "lock", "add", f"{app}:1", f"{app}:missing")
    assert (code, out) == (2, "")
    assert errors[0].startswith(f"error: Could not look up {app}:missing: ")
    assert Path("pins.lock").read_text() == LOCK


def test_lock_add_takes_a_digest_as_given_and_refuses_one_without_a_tag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # No registry is asked: the digest is named (no network is configured for this test).
    code, out, _ = run(capsys, "lock", "add", "-f", "other.lock", f"redis:7@{B}", f"nginx@{C}")
    assert code == 2
    assert not Path("other.lock").exists()
    code, out, errors = run(capsys, "lock", "add", "-f", "other.lock", f"redis:7@{B}")
    assert (code, out, errors) == (0, f"redis:7@{B}\n", [])
    assert Path("other.lock").read_text() == f"redis:7@{B}\n"
    code, _, errors = run(capsys, "lock", "add", f"nginx@{C}")
    assert errors == [
        f"error: nginx@{C} names no tag: a lock entry records the digest of a tag. Write "
        "IMAGE:TAG, or IMAGE:TAG@DIGEST."
    ]

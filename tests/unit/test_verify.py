"""``pinner verify`` against the real Debian ``docker-registry``.

Every digest a test expects is the sha256 of what the test pushed (tests/registry_server.py),
never something pinner computed; each test has its own repository.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_cli, without_summaries
from tests.support.registry_server import Pusher, RegistryServer
from tests.support.samples import IMAGE_COLUMN, image_line, pod, write_pod

pytest_plugins = ["tests.support.registry_fixtures"]
pytestmark = [pytest.mark.realregistry, pytest.mark.usefixtures("work_folder", "docker_config")]

UPDATE_HINT = "Run `pinner pin --update` to move the pin."
MakePusher = Callable[[RegistryServer], Pusher]


def at(name: str, index: int = 0) -> str:
    """``file:line:col`` of the ``index``th image of a ``pod()`` file."""
    return f"{name}:{image_line(index)}:{IMAGE_COLUMN}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str], str]:
    """Exit code, stdout, the stderr lines but the summary, and the summary line."""
    code, out, err = run_cli(capsys, *args)
    summaries = [line for line in err.splitlines() if line.startswith("pinner verify: ")]
    others = without_summaries(err, "pinner verify: ")
    return code, out, others, summaries[0] if summaries else ""


def counts(summary: str) -> str:
    """The summary without its timing, e.g. ``1 file scanned, ...: 2 ok, ...``."""
    assert summary.startswith("pinner verify: ") and summary.endswith("s)"), summary
    return summary.removeprefix("pinner verify: ").rsplit(" (", 1)[0]


# --- all is well ------------------------------------------------------------------------------


def test_existing_pins_pass(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    one = pusher_anonymous.push_image(unique_repo, "1")
    two = pusher_anonymous.push_image(unique_repo, None)
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("a.yaml", f"{image}:1@{one}", f"{image}@{two}", "nginx:1.25", "busybox")

    code, stdout, errors, summary = run(capsys, "verify", "--exempt", "busybox")

    assert (code, stdout, errors) == (0, "", [])
    assert counts(summary) == (
        "1 file scanned, 4 references found: 2 ok, 0 drifted, 0 missing, 0 platform warnings, "
        "1 not pinned, 1 exempt, 0 failed"
    )


def test_each_digest_and_tag_is_asked_once(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    server = pusher_anonymous.server
    one = pusher_anonymous.push_image(unique_repo, "1")
    image = f"{server.host}/{unique_repo}"
    for n in range(5):
        write_pod(f"p{n}.yaml", f"{image}:1@{one}", f"{image}@{one}", f"{image}:1@{one}")
    mark = server.log_mark()

    code, _, errors, summary = run(capsys, "verify")

    assert (code, errors) == (0, [])
    assert "15 ok" in summary
    manifests = f"/{unique_repo}/manifests/"
    assert server.count_requests("HEAD", f"{manifests}{one}", since=mark) == 1
    assert server.count_requests("HEAD", f"{manifests}1", since=mark) == 1
    assert server.count_requests("GET", manifests, since=mark) == 0


# --- drift ------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_tag_drift_is_reported_in_every_format(
    capsys: pytest.CaptureFixture[str],
    pusher_anonymous: Pusher,
    unique_repo: str,
    output_format: str,
) -> None:
    old = pusher_anonymous.push_image(unique_repo, "1", seed="old")
    new = pusher_anonymous.push_image(unique_repo, "1", seed="new")
    assert old != new
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}@{old}", f"{image}:1@{old}")

    code, stdout, errors, _ = run(capsys, "verify", "--format", output_format, "app.yaml")

    assert (code, errors) == (1, [])
    message = f"{image}:1@{old} has drifted: the tag 1 now points to {new}. {UPDATE_HINT}"
    if output_format == "text":
        assert stdout == f"{at('app.yaml', 1)}: {message}\n"
    elif output_format == "github":
        assert stdout == f"::error file=app.yaml,line=9,col=14::{message}\n"
    else:
        document = json.loads(stdout)
        assert document["command"] == "verify"
        assert [r["status"] for r in document["results"]] == ["ok", "drift"]
        assert document["results"][1] == {
            "path": "app.yaml",
            "line": 9,
            "column": 14,
            "kind": "Pod",
            "name": "web",
            "field": "containers",
            "container": "c1",
            "image": f"{image}:1@{old}",
            "status": "drift",
            "digest": old,
            "exists": True,
            "tag": "1",
            "tag_exists": True,
            "tag_digest": new,
            "platform": None,
            "index": None,
            "message": message,
        }
        assert document["results"][0]["tag"] is None
        assert document["results"][0]["tag_digest"] is None
        assert document["errors"] == [] and document["notices"] == []
        summary = document["summary"]
        assert (summary["ok"], summary["drift"], summary["missing"]) == (1, 1, 0)


def test_a_tag_that_no_longer_exists_is_drift(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1")
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}:gone@{digest}")

    code, stdout, errors, summary = run(capsys, "verify")

    assert (code, errors) == (1, [])
    assert stdout == (
        f"{at('app.yaml')}: {image}:gone@{digest} has drifted: the tag gone no longer exists in "
        "the registry. Pin a tag that exists, or drop the tag to keep only the digest.\n"
    )
    assert "0 ok, 1 drifted, 0 missing" in summary


# --- missing digests --------------------------------------------------------------------------


def test_deleted_digest_is_missing_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    kept = pusher_anonymous.push_image(unique_repo, "kept")
    gone = pusher_anonymous.push_image(unique_repo, None)
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("a.yaml", f"{image}@{kept}", f"{image}@{gone}")
    Path("k8s").mkdir()
    write_pod("k8s/b.yaml", f"{image}:kept@{kept}")
    assert run(capsys, "verify")[0] == 0

    pusher_anonymous.delete_manifest(unique_repo, gone)
    code, stdout, errors, summary = run(capsys, "verify")

    assert (code, errors) == (1, [])
    assert stdout == (
        f"{at('a.yaml', 1)}: {image}@{gone} is missing: the registry has no manifest {gone}. "
        "Pin a digest the registry has (pinner pin, without the digest).\n"
    )
    assert counts(summary) == (
        "2 files scanned, 3 references found: 2 ok, 0 drifted, 1 missing, "
        "0 platform warnings, 0 not pinned, 0 exempt, 0 failed"
    )


def test_deleted_tagged_digest_is_missing_and_its_tag_gone(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1")
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}:1@{digest}")
    pusher_anonymous.delete_manifest(unique_repo, digest)  # takes its tags with it

    code, stdout, _, _ = run(capsys, "verify", "--format", "github")

    assert code == 1
    assert stdout == (
        f"::error file=app.yaml,line=7,col=14::{image}:1@{digest} is missing: the registry has "
        f"no manifest {digest}. The tag 1 is gone too. Pin an image that exists.\n"
    )


def test_missing_digest_whose_tag_moved_on_says_where_it_points(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    old = pusher_anonymous.push_image(unique_repo, "1", seed="old")
    new = pusher_anonymous.push_image(unique_repo, "1", seed="new")
    pusher_anonymous.delete_manifest(unique_repo, old)  # the registry's garbage, collected
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}:1@{old}")

    code, stdout, _, summary = run(capsys, "verify")

    assert code == 1
    assert stdout == (
        f"{at('app.yaml')}: {image}:1@{old} is missing: the registry has no manifest {old}. "
        f"The tag 1 now points to {new}. {UPDATE_HINT}\n"
    )
    assert "0 drifted, 1 missing" in summary


# --- one platform's manifest instead of the index ---------------------------------------------


def test_platform_manifest_of_a_multi_arch_tag_is_a_warning(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8")]
    index, children = pusher_anonymous.push_index(unique_repo, "multi", platforms, attestation=True)
    amd64 = children["linux/amd64"]
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}:multi@{amd64}", f"{image}:multi@{index}")

    code, stdout, errors, summary = run(capsys, "verify")

    assert (code, errors) == (0, [])
    assert stdout == (
        f"{at('app.yaml')}: warning: {image}:multi@{amd64} is the linux/amd64 manifest, but the "
        f"tag multi points to a multi-arch index ({index}): nodes of other platforms cannot run "
        f"it. Pin the index ({image}:multi@{index}), or pass --platform linux/amd64 if only that "
        "platform runs it.\n"
    )
    assert "1 ok, 0 drifted, 0 missing, 1 platform warning," in summary

    code, stdout, _, _ = run(capsys, "verify", "--format", "github")
    assert code == 0
    assert stdout.startswith("::warning file=app.yaml,line=7,col=14::")


def test_platform_option_accepts_that_platforms_manifest(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    index, children = pusher_anonymous.push_index(unique_repo, "multi")
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    arm64 = children["linux/arm64/v8"]
    write_pod("app.yaml", f"{image}:multi@{arm64}", f"{image}:multi@{index}")

    code, stdout, errors, summary = run(capsys, "verify", "--platform", "linux/arm64")

    assert (code, stdout, errors) == (0, "", [])
    assert "2 ok, 0 drifted, 0 missing, 0 platform warnings" in summary

    # The other platform's manifest, when arm64 is what the pins are for, is still flagged.
    write_pod("app.yaml", f"{image}:multi@{children['linux/amd64']}")
    code, stdout, _, _ = run(capsys, "verify", "--platform", "linux/arm64")
    assert code == 0
    assert "is the linux/amd64 manifest" in stdout


def test_platform_option_sees_drift_of_the_platform_child(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    _, before = pusher_anonymous.push_index(unique_repo, "multi", seed="before")
    _, after = pusher_anonymous.push_index(unique_repo, "multi", seed="after")
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("app.yaml", f"{image}:multi@{before['linux/amd64']}")

    code, stdout, _, _ = run(capsys, "verify", "--platform", "linux/amd64")

    assert code == 1
    assert stdout == (
        f"{at('app.yaml')}: {image}:multi@{before['linux/amd64']} has drifted: the tag multi "
        f"now points to {after['linux/amd64']}. {UPDATE_HINT}\n"
    )


# --- errors -----------------------------------------------------------------------------------


def test_refused_credentials_exit_2_once_per_image_with_its_places(
    capsys: pytest.CaptureFixture[str],
    registry_htpasswd: RegistryServer,
    make_pusher: MakePusher,
    unique_repo: str,
) -> None:
    pusher = make_pusher(registry_htpasswd)
    digest = pusher.push_image(unique_repo, "1")
    image = f"{registry_htpasswd.host}/{unique_repo}"
    write_pod("a.yaml", f"{image}:1@{digest}")
    write_pod("b.yaml", f"{image}:1@{digest}")

    code, stdout, errors, summary = run(capsys, "verify")

    assert (code, stdout) == (2, "")
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"error: Could not look up {image}@{digest}: ")
    assert "HTTP 401" in errors[0]
    assert errors[1] == f"  used at {at('a.yaml')}, {at('b.yaml')}"
    assert counts(summary).endswith(
        "0 ok, 0 drifted, 0 missing, 0 platform warnings, 0 not pinned, 0 exempt, 2 failed"
    )

    # In JSON the pin says why too, and the error lists its places as in text.
    code, stdout, _, _ = run(capsys, "verify", "--format", "json", "a.yaml")
    document = json.loads(stdout)
    refusal = errors[0].removeprefix("error: ")
    assert code == 2
    assert [(r["status"], r["message"]) for r in document["results"]] == [("error", refusal)]
    # One error object for each place, located as data.
    (line, column) = (int(n) for n in at("a.yaml").split(":")[1:])
    assert document["errors"] == [
        {
            "message": f"{refusal}\n  used at {at('a.yaml')}",
            "path": "a.yaml",
            "line": line,
            "column": column,
            "image": f"{image}:1@{digest}",
        }
    ]
    code, stdout, _, _ = run(capsys, "verify", "--format", "github")
    annotations = stdout.splitlines()
    assert [a.split("::")[1] for a in annotations] == [
        f"error file={name},line={line},col={column}" for name in ("a.yaml", "b.yaml")
    ]


def test_unreadable_files_and_bad_options_exit_2(
    capsys: pytest.CaptureFixture[str], pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1")
    image = f"{pusher_anonymous.server.host}/{unique_repo}"
    write_pod("good.yaml", f"{image}:1@{digest}")
    Path("bad.yaml").write_text(pod("[nginx"), encoding="utf-8")

    code, stdout, errors, summary = run(capsys, "verify")
    assert (code, stdout) == (2, "")
    assert [line.split(":")[0] for line in errors] == ["error"]
    assert "bad.yaml:8: invalid YAML" in errors[0]
    assert "1 ok" in summary

    code, stdout, errors, _ = run(capsys, "verify", "--platform", "linux", "good.yaml")
    assert (code, stdout) == (2, "")
    assert errors == [
        "error: 'linux' is not a platform; write it as os/architecture[/variant], for example "
        "linux/amd64 or linux/arm64/v8."
    ]

    code, _, errors, _ = run(capsys, "verify", "--format", "xml")
    assert code == 2
    assert errors == ["error: --format must be one of text, json, github, sarif, not 'xml'."]

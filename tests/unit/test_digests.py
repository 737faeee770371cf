"""Digest files: `REFERENCE@sha256:...` lines and `gcloud builds describe --format=json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinner.errors import DigestFileError
from pinner.lockfile import format_digest_lines, load_digest_files
from pinner.reference import parse_reference

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def error_of(paths: list[Path]) -> str:
    with pytest.raises(DigestFileError) as error:
        load_digest_files(paths)
    return str(error.value)


def test_lines_comments_and_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "digests.txt",
        f"# built by CI\n\nnginx:1.25@{A}\n   \n  ghcr.io/acme/api:1.4@{B}  \n"
        f"\t# indented comment\nlocalhost:5000/app@{C}\n",
    )
    assert load_digest_files([path]) == {
        ("docker.io", "library/nginx", "1.25"): A,
        ("ghcr.io", "acme/api", "1.4"): B,
        # pack prints no tag: the digest is the latest image's.
        ("localhost:5000", "app", "latest"): C,
    }


def test_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path, "digests.txt", f"\ufeffnginx:1.25@{A}\r\n# c\r\nredis:7@{B}")
    assert load_digest_files([path]) == {
        ("docker.io", "library/nginx", "1.25"): A,
        ("docker.io", "library/redis", "7"): B,
    }


def test_a_tag_and_a_digest_on_one_line(tmp_path: Path) -> None:
    # `name:tag@digest` says the tag points at the digest.
    path = write(tmp_path, "digests.txt", f"index.docker.io/library/nginx:1.25@{A}\n")
    assert load_digest_files([path]) == {("docker.io", "library/nginx", "1.25"): A}


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    assert load_digest_files([write(tmp_path, "empty.txt", "")]) == {}
    assert load_digest_files([write(tmp_path, "comments.txt", "# nothing yet\n\n")]) == {}
    assert load_digest_files([]) == {}


def test_cloud_build_json(tmp_path: Path) -> None:
    describe = {
        "id": "0b8d4c3a",
        "status": "SUCCESS",
        "images": ["gcr.io/acme/app:v1", "us-docker.pkg.dev/acme/repo/worker"],
        "results": {
            "images": [
                {"name": "gcr.io/acme/app:v1", "digest": A, "pushTiming": {}},
                {"name": "us-docker.pkg.dev/acme/repo/worker", "digest": B},
            ],
            "buildStepImages": [C],
        },
    }
    path = write(tmp_path, "build.json", json.dumps(describe, indent=2) + "\n")
    assert load_digest_files([path]) == {
        ("gcr.io", "acme/app", "v1"): A,
        ("us-docker.pkg.dev", "acme/repo/worker", "latest"): B,
    }


def test_several_files_and_repeated_entries(tmp_path: Path) -> None:
    first = write(tmp_path, "one.txt", f"nginx:1.25@{A}\nredis:7@{B}\n")
    # The same digest again, in another spelling, is not a conflict.
    second = write(tmp_path, "two.txt", f"docker.io/library/nginx:1.25@{A}\nalpine:3@{C}\n")
    assert load_digest_files([first, second]) == {
        ("docker.io", "library/nginx", "1.25"): A,
        ("docker.io", "library/redis", "7"): B,
        ("docker.io", "library/alpine", "3"): C,
    }


def test_conflicting_digests_in_one_file(tmp_path: Path) -> None:
    path = write(tmp_path, "d.txt", f"nginx:1.25@{A}\n\ndocker.io/nginx:1.25@{B}\n")
    assert error_of([path]) == (
        f"{path}:3: docker.io/nginx:1.25 is given digest {B}, but {path}:1 gives {A}. "
        "Keep one of them."
    )


def test_conflicting_digests_across_files(tmp_path: Path) -> None:
    lines = write(tmp_path, "d.txt", f"gcr.io/acme/app:v1@{A}\n")
    build = write(
        tmp_path,
        "build.json",
        json.dumps({"results": {"images": [{"name": "gcr.io/acme/app:v1", "digest": B}]}}),
    )
    assert error_of([lines, build]) == (
        f"{build}: results.images[0]: gcr.io/acme/app:v1 is given digest {B}, but {lines}:1 "
        f"gives {A}. Keep one of them."
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nginx:1.25", "it has no @sha256:<digest>"),
        ("nginx:1.25 " + A, "is not a valid repository name"),
        ("Nginx:1.25@" + A, "repository names must be lowercase"),
        ("nginx:1.25@sha256:abc", "'sha256:abc' is not a valid digest"),
        ("nginx:1.25@" + A.upper().replace("SHA256", "sha256"), "is not a valid digest"),
        ("nginx:1.25@" + A + "a", "is not a valid digest"),
    ],
)
def test_malformed_line(tmp_path: Path, line: str, reason: str) -> None:
    path = write(tmp_path, "d.txt", f"# header\nredis:7@{B}\n{line}\n")
    message = error_of([path])
    assert message.startswith(f"{path}:3: {line!r} is not REFERENCE@sha256:<64 hex>: ")
    assert reason in message
    assert message.endswith(". Fix or remove the line.")


@pytest.mark.parametrize(
    "document",
    [
        "{",
        "{}",
        '{"results": {}}',
        '{"results": {"images": [{"name": "gcr.io/a/b"}]}}',
        '{"results": {"images": "gcr.io/a/b"}}',
    ],
)
def test_json_that_is_not_cloud_build_output(tmp_path: Path, document: str) -> None:
    path = write(tmp_path, "build.json", document)
    assert error_of([path]) == (
        f"{path}: not a digest file: JSON must be `gcloud builds describe --format=json` output "
        "with results.images[].name and .digest."
    )


def test_cloud_build_entry_that_is_not_a_reference(tmp_path: Path) -> None:
    document = {"results": {"images": [{"name": "gcr.io/a/b", "digest": "sha256:short"}]}}
    path = write(tmp_path, "build.json", json.dumps(document))
    assert error_of([path]).startswith(
        f"{path}: results.images[0]: 'gcr.io/a/b@sha256:short' is not REFERENCE@sha256:<64 hex>: "
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    assert error_of([path]) == (
        f"{path}: cannot read the digest file (No such file or directory). Check the path."
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "d.txt", b"nginx:1.25@\xff\n")
    assert error_of([path]) == (
        f"{path}: cannot read the digest file (it is not UTF-8). Save it as UTF-8."
    )


def test_format_digest_lines() -> None:
    pins = {
        parse_reference("redis"): B,
        parse_reference("docker.io/library/nginx:1.25"): A,
        parse_reference("localhost:5000/app:1"): C,
    }
    assert format_digest_lines(pins) == (
        f"docker.io/library/nginx:1.25@{A}\nlocalhost:5000/app:1@{C}\nredis:latest@{B}\n"
    )
    assert format_digest_lines({}) == ""


def test_formatted_lines_read_back(tmp_path: Path) -> None:
    pins = {parse_reference("ghcr.io/acme/api:1.4"): A, parse_reference("nginx"): B}
    path = write(tmp_path, "lock.txt", format_digest_lines(pins))
    assert load_digest_files([path]) == {
        ("ghcr.io", "acme/api", "1.4"): A,
        ("docker.io", "library/nginx", "latest"): B,
    }

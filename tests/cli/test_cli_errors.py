"""What the command line says when it cannot do its job: exit codes and exact messages.

Every test checks the exit code, the exact error lines on stderr, and that files it could not
pin are byte for byte as they were. No message may come with a Python traceback.
"""

from __future__ import annotations

import io
import os
import threading
from typing import BinaryIO

import pytest

from pinner.cli import main
from pinner.manifests.files import READ_CHUNK, read_capped
from tests.support.cli import run_cli, without_summaries
from tests.support.files import write_file

pytestmark = pytest.mark.usefixtures("isolated")

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
POD = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: app\n      image: {}\n"
DIGESTS = f"nginx:1.25@{A}\nredis:7@{B}\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines other than the timed summary line."""
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err, "pinner pin: ", "pinner check: ")


def pin(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    write_file("digests.txt", DIGESTS)
    return run(capsys, "pin", "--offline", "--digests", "digests.txt", *args)


# --- files pinner cannot read -----------------------------------------------------------------


INVALID_YAML = POD.format("[nginx")
INVALID_YAML_ERROR = (
    "error: bad.yaml:8: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
    "sequence that starts on line 7). Fix the syntax."
)
# pin writes a file whole or not at all, and says so; check changes nothing, and says nothing.
UNCHANGED = " The file was not changed."


def reported(command: str, message: str) -> str:
    """A file's error as ``command`` reports it."""
    return f"{message}{UNCHANGED}" if command == "pin" else message


@pytest.mark.parametrize("command", ["check", "pin"])
def test_invalid_yaml(capsys: pytest.CaptureFixture[str], command: str) -> None:
    bad = write_file("bad.yaml", INVALID_YAML)
    args = ("check",) if command == "check" else ("pin", "--offline", "--digests", "d.txt")
    write_file("d.txt", DIGESTS)
    code, _, errors = run(capsys, *args, "bad.yaml")
    assert code == 2
    assert errors == [reported(command, INVALID_YAML_ERROR)]
    assert bad.read_bytes() == INVALID_YAML.encode()


def test_other_files_are_still_processed(capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_file("k8s/a-bad.yaml", INVALID_YAML)
    good = write_file("k8s/b-good.yaml", POD.format("nginx:1.25"))
    code, _, errors = pin(capsys, "k8s")
    assert code == 2
    assert errors == [reported("pin", INVALID_YAML_ERROR.replace("bad.yaml", "k8s/a-bad.yaml"))]
    assert bad.read_bytes() == INVALID_YAML.encode()
    assert good.read_bytes() == POD.format(f"nginx@{A}").encode()

    good.write_bytes(POD.format("nginx:1.25").encode())
    code, out, errors = run(capsys, "check", "k8s")
    assert code == 2  # the error outranks the violation
    assert "k8s/b-good.yaml:7:14: nginx:1.25 is not pinned" in out
    assert errors == [INVALID_YAML_ERROR.replace("bad.yaml", "k8s/a-bad.yaml")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            POD.format("nginx:1.25") + "      image: redis:7\n",
            "error: m.yaml:8: duplicate key 'image' in one mapping: the manifest is ambiguous "
            "(kubectl rejects it too). Remove one of them.",
        ),
        (
            POD.format("[nginx:1.25]"),
            "error: m.yaml:7: the image of containers 'app' is not a string. Write it as a plain "
            "string such as 'nginx:1.25'.",
        ),
        (
            POD.format("nginx:1.25").encode() + b"# caf\xe9\n",
            "error: m.yaml:8: not UTF-8 text (byte 0xe9 at offset 97). Save the file as UTF-8.",
        ),
        (
            b"\x00\x01binary\x00",
            "error: m.yaml: not a text file (it contains NUL bytes). Exclude it with --exclude.",
        ),
        (
            b"\xff\xfe" + POD.format("nginx:1.25").encode("utf-16-le"),
            "error: m.yaml: not UTF-8 text (it is UTF-16). Save the file as UTF-8.",
        ),
        (
            POD.format("Nginx:1.25"),
            "error: m.yaml:7:14: invalid image reference 'Nginx:1.25': repository names must be "
            "lowercase. Fix the image.",
        ),
        (
            POD.format("'nginx:1.25:'"),
            "error: m.yaml:7:14: invalid image reference 'nginx:1.25:': '' is not a valid tag "
            "(letters, digits, _ . -; at most 128 characters). Fix the image.",
        ),
    ],
    ids=["duplicate-key", "not-a-string", "not-utf8", "binary", "utf16", "uppercase", "bad-tag"],
)
@pytest.mark.parametrize("command", ["check", "pin"])
def test_bad_manifest(
    capsys: pytest.CaptureFixture[str], command: str, data: str | bytes, message: str
) -> None:
    path = write_file("m.yaml", data)
    before = path.read_bytes()
    if command == "check":
        code, _, errors = run(capsys, "check", "m.yaml")
    else:
        code, _, errors = pin(capsys, "m.yaml")
    assert code == 2
    assert errors == [reported(command, message)]
    assert path.read_bytes() == before


def unreadable(name: str, reason: str) -> str:
    """The error for a file pinner cannot read."""
    return (
        f"error: {name}: cannot read the file ({reason}). Check that it exists and that you may "
        "read it."
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("missing.yaml", "No such file or directory", id="a-missing-file"),
        # Another OSError than a missing file, which even root meets.
        pytest.param("m.yaml/x.yaml", "Not a directory", id="a-path-through-a-file"),
    ],
)
def test_a_file_that_cannot_be_read(
    capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    write_file("m.yaml", POD.format("nginx:1.25"))
    code, _, errors = run(capsys, "check", name)
    assert code == 2
    assert errors == [unreadable(name, reason)]


def test_an_unreadable_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("secret.yaml", POD.format("nginx:1.25"))
    path.chmod(0)
    try:
        try:
            path.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("this user can read a file with mode 000 (root?)")
        code, _, errors = pin(capsys, "secret.yaml")
        assert code == 2
        assert errors == [unreadable("secret.yaml", "Permission denied")]
    finally:
        path.chmod(0o644)
    assert path.read_bytes() == POD.format("nginx:1.25").encode()


# --- templates ---------------------------------------------------------------------------------


HELM_NOTICE = (
    "notice: chart/deployment.yaml:7:14: skipped: the image of containers 'app' holds a "
    "Go/Helm template expression ('{{'); render it first (helm template ... | pinner pin -)."
)


@pytest.mark.parametrize(
    "image", ['"{{ .Values.image.repository }}:{{ .Values.image.tag }}"', "{{ .Values.image }}"]
)
def test_a_helm_template_is_skipped_with_a_notice(
    capsys: pytest.CaptureFixture[str], image: str
) -> None:
    template = write_file("chart/deployment.yaml", POD.format(image))
    # Skipping is not failing: a hook over a repository with charts still passes.
    code, out, errors = run(capsys, "check", "chart")
    assert (code, out, errors) == (0, "", [HELM_NOTICE])
    code, _, errors = pin(capsys, "chart")
    assert (code, errors) == (0, [HELM_NOTICE])
    # The notice is counted in the summary: the run was green, but not silently.
    code = main(["check", "chart"])
    assert code == 0
    summary = capsys.readouterr().err.splitlines()[-1]
    assert summary.startswith(
        "pinner check: 1 file scanned, 0 references found: 0 not pinned, 0 already pinned, "
        "0 exempt, 0 failed, 1 skipped ("
    )
    assert template.read_bytes() == POD.format(image).encode()
    # -q keeps the notice quiet.
    code, out, errors = run(capsys, "check", "-q", "chart")
    assert (code, out, errors) == (0, "", [])


def test_a_template_that_is_not_yaml_is_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    text = "{{- if .Values.enabled }}\n" + POD.format("nginx:1.25") + "{{- end }}\n"
    write_file("chart/pod.yaml", text)
    code, _, errors = run(capsys, "check", "chart/pod.yaml")
    assert code == 0
    assert errors == [
        "notice: chart/pod.yaml: skipped: this looks like a Go/Helm template ('{{'); render it "
        "first (helm template ... | pinner pin -)."
    ]


# --- images pinner cannot pin ------------------------------------------------------------------


def test_missing_digests_offline_list_every_place(capsys: pytest.CaptureFixture[str]) -> None:
    first = write_file("a.yaml", POD.format("ghcr.io/acme/api:1") + "---\n" + POD.format("busybox"))
    second = write_file(
        "b.yaml", POD.format("ghcr.io/acme/api:1") + "---\n" + POD.format("nginx:1.25")
    )
    code, _, errors = pin(capsys, "a.yaml", "b.yaml")
    assert code == 2
    assert errors == [
        "error: no known digest for busybox and --offline forbids asking the registry. Add it "
        "with `pinner lock add --file digests.txt busybox`, or drop --offline.",
        "  used at a.yaml:15:14",
        "error: no known digest for ghcr.io/acme/api:1 and --offline forbids asking the "
        "registry. Add it with `pinner lock add --file digests.txt ghcr.io/acme/api:1`, or drop "
        "--offline.",
        "  used at a.yaml:7:14, b.yaml:7:14",
    ]
    # A file with an unresolved image is not pinned at all, even where it could be.
    assert (
        first.read_bytes()
        == (POD.format("ghcr.io/acme/api:1") + "---\n" + POD.format("busybox")).encode()
    )
    assert (
        second.read_bytes()
        == (POD.format("ghcr.io/acme/api:1") + "---\n" + POD.format("nginx:1.25")).encode()
    )


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ('"nginx\\x3a1.25"', "it uses escape sequences"),
        ("|-\n        nginx:1.25", "it is a block scalar (| or >)"),
        (">-\n        nginx:1.25", "it is a block scalar (| or >)"),
    ],
)
def test_an_image_that_cannot_be_spliced(
    capsys: pytest.CaptureFixture[str], image: str, problem: str
) -> None:
    text = POD.format(image) + "    - name: other\n      image: redis:7\n"
    path = write_file("m.yaml", text)
    code, _, errors = pin(capsys, "m.yaml")
    assert code == 2
    assert errors == [
        f"error: m.yaml:7:14: cannot rewrite 'nginx:1.25' exactly: {problem}. Write it as a plain "
        "or quoted one-line string; the file was not changed."
    ]
    assert path.read_bytes() == text.encode()


def test_a_plain_image_over_two_lines_is_an_invalid_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # YAML folds the line break into a space, which no reference may hold.
    text = POD.format("nginx\n        :1.25")
    path = write_file("m.yaml", text)
    code, _, errors = pin(capsys, "m.yaml")
    assert code == 2
    assert errors == [
        "error: m.yaml:7:14: invalid image reference 'nginx :1.25': 'nginx ' is not a valid "
        "repository name (lowercase letters, digits and . _ - separators, joined by /). Fix the "
        "image. The file was not changed."
    ]
    assert path.read_bytes() == text.encode()


# --- bad options and digest files --------------------------------------------------------------


def test_bad_digest_file_line(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_file("m.yaml", POD.format("nginx:1.25"))
    write_file("d.txt", f"# pins\nnginx:1.25@{A}\nredis:7@sha256:1234\n")
    code, out, errors = run(capsys, "pin", "--offline", "--digests", "d.txt", "m.yaml")
    assert (code, out) == (2, "")
    assert errors == [
        "error: d.txt:3: 'redis:7@sha256:1234' is not REFERENCE@sha256:<64 hex>: 'sha256:1234' "
        "is not a valid digest (sha256 takes 64 lowercase hex digits). Fix or remove the line."
    ]
    assert manifest.read_bytes() == POD.format("nginx:1.25").encode()


def test_missing_digest_file(capsys: pytest.CaptureFixture[str]) -> None:
    write_file("m.yaml", POD.format("nginx:1.25"))
    code, _, errors = run(capsys, "pin", "--offline", "--digests", "nope.txt", "m.yaml")
    assert code == 2
    assert errors == [
        "error: nope.txt: cannot read the digest file (No such file or directory). Check the path."
    ]


@pytest.mark.parametrize("command", ["check", "pin"])
def test_unknown_format(capsys: pytest.CaptureFixture[str], command: str) -> None:
    path = write_file("m.yaml", POD.format("nginx:1.25"))
    code, out, errors = run(capsys, command, "--format", "bogus", "m.yaml")
    assert (code, out) == (2, "")
    formats = "text, json, github" + (", sarif" if command == "check" else "")
    assert errors == [f"error: --format must be one of {formats}, not 'bogus'."]
    assert path.read_bytes() == POD.format("nginx:1.25").encode()


# --- dry runs ----------------------------------------------------------------------------------


def test_dry_run_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("m.yaml", POD.format("nginx:1.25"))
    code, out, errors = pin(capsys, "--dry-run", "m.yaml")
    assert code == 1
    assert f"m.yaml:7:14: nginx:1.25 -> nginx@{A}" in out + "\n".join(errors)
    assert path.read_bytes() == POD.format("nginx:1.25").encode()


def test_diff_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    text = POD.format("nginx:1.25").replace("\n", "\r\n")
    path = write_file("m.yaml", text)
    code, out, _ = pin(capsys, "--diff", "m.yaml")
    assert code == 1
    assert out == (
        "--- a/m.yaml\n"
        "+++ b/m.yaml\n"
        "@@ -4,4 +4,4 @@\n"
        " spec:\r\n"
        "   containers:\r\n"
        "     - name: app\r\n"
        "-      image: nginx:1.25\r\n"
        f"+      image: nginx@{A}\r\n"
    )
    assert path.read_bytes() == text.encode()


def test_dry_run_with_nothing_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    write_file("m.yaml", POD.format(f"nginx@{A}"))
    code, out, errors = pin(capsys, "--dry-run", "m.yaml")
    assert (code, out, errors) == (0, "", [])


# --- standard input ----------------------------------------------------------------------------


class _Stdin:
    def __init__(self, data: bytes, terminal: bool = False) -> None:
        self.buffer = io.BytesIO(data)
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def filter_stdin(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    data: bytes,
    *args: str,
) -> tuple[int, bytes, bytes]:
    write_file("digests.txt", DIGESTS)
    monkeypatch.setattr("sys.stdin", _Stdin(data))
    code = main(["pin", "--offline", "--digests", "digests.txt", *args, "-"])
    captured = capsysbinary.readouterr()
    assert b"Traceback" not in captured.err
    return code, captured.out, captured.err


def test_stdin_is_pinned_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    stream = "\ufeff" + POD.format("nginx:1.25") + "---\n" + POD.format("'redis:7'")
    stream = stream.replace("\n", "\r\n")
    code, out, _ = filter_stdin(monkeypatch, capsysbinary, stream.encode())
    # A filter that wrote its stream did its job: exit 0, so `set -o pipefail` holds.
    assert code == 0
    expected = "\ufeff" + POD.format(f"nginx@{A}") + "---\n" + POD.format(f"'redis@{B}'")
    assert out == expected.replace("\n", "\r\n").encode()


def test_stdin_with_nothing_to_pin_passes_through(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    stream = b"# no final newline, no objects\r\nservices: {web: {image: nginx}}"
    code, out, _ = filter_stdin(monkeypatch, capsysbinary, stream)
    assert (code, out) == (0, stream)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            POD.format("ghcr.io/acme/api:1").encode(),
            b"error: no known digest for ghcr.io/acme/api:1 and --offline forbids asking the "
            b"registry. Add it with `pinner lock add --file digests.txt ghcr.io/acme/api:1`, or "
            b"drop --offline.\n  used at <stdin>:7:14\n",
        ),
        (
            INVALID_YAML.encode(),
            reported("pin", INVALID_YAML_ERROR.replace("bad.yaml", "<stdin>")).encode() + b"\n",
        ),
        (
            b"kind: Pod\n# \xff\n",
            b"error: <stdin>:2: not UTF-8 text (byte 0xff at offset 12). Save the file as UTF-8."
            b" The file was not changed.\n",
        ),
        (
            "kind: Pod\n".encode("utf-16"),
            b"error: <stdin>: not UTF-8 text (it is UTF-16). Save the file as UTF-8. The file was "
            b"not changed.\n",
        ),
    ],
    ids=["missing-digest", "invalid-yaml", "not-utf8", "utf16"],
)
def test_stdin_error_writes_nothing_to_stdout(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    data: bytes,
    message: bytes,
) -> None:
    code, out, err = filter_stdin(monkeypatch, capsysbinary, data, "-q")
    assert (code, out) == (2, b"")
    assert err == message


def test_no_temporary_files_are_left(capsys: pytest.CaptureFixture[str]) -> None:
    write_file("k8s/a.yaml", POD.format("nginx:1.25"))
    write_file("k8s/b.yaml", INVALID_YAML)
    pin(capsys, "k8s")
    assert sorted(os.listdir("k8s")) == ["a.yaml", "b.yaml"]


def test_check_counts_an_invalid_reference_once(capsys: pytest.CaptureFixture[str]) -> None:
    # One invalid, one pinned, one not pinned: the summary adds up to three references.
    write_file(
        "m.yaml",
        "kind: Pod\nspec:\n  containers:\n  - {name: a, image: 'Nginx:1.25'}\n"
        f"  - {{name: b, image: 'nginx@{A}'}}\n  - {{name: c, image: 'redis:7'}}\n",
    )
    code = main(["check", "m.yaml"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == "m.yaml:6:22: redis:7 is not pinned by digest (Pod, container c)\n"
    summary = captured.err.splitlines()[-1]
    assert summary.startswith(
        "pinner check: 1 file scanned, 3 references found: 1 not pinned, 1 already pinned, "
        "0 exempt, 1 failed ("
    )


# --- files larger than --max-file-size ---------------------------------------------------------

MIB = 1024 * 1024
GIB = 1024 * MIB


def big_manifest() -> str:
    """17 MiB: a Pod, then comment lines (cheap to parse, so the test stays fast). Built per
    test, not kept: test_fuzz measures children forked from this process."""
    return POD.format("nginx:1.25") + ("# " + "x" * 1021 + "\n") * (17 * 1024)


TOO_LARGE = (
    "error: {}: larger than {} (the --max-file-size limit), more than pinner reads. Raise "
    "--max-file-size (or max_file_size in .pinner.yaml), split it, or exclude it with --exclude."
)
SIZE_FORMS = (
    "a byte count (at least 1), or a whole number followed by K, M or G (binary: KiB, MiB, GiB; "
    "any case), such as 32M or 1G"
)


@pytest.mark.parametrize("command", ["check", "pin"])
def test_a_file_over_the_default_limit_is_refused_unread(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = big_manifest()
    assert len(text) > 17 * MIB
    path = write_file("big.yaml", text)
    if command == "check":
        code, out, errors = run(capsys, "check", "big.yaml")
    else:
        code, out, errors = pin(capsys, "big.yaml")
    assert (code, out) == (2, "")
    assert errors == [reported(command, TOO_LARGE.format("big.yaml", "16 MiB"))]
    assert path.read_bytes() == text.encode()


@pytest.mark.parametrize("size", ["32M", "32MiB", "32m", "32mib", str(32 * MIB), "1G"])
def test_max_file_size_raises_the_limit(capsys: pytest.CaptureFixture[str], size: str) -> None:
    text = big_manifest()
    path = write_file("big.yaml", text)
    code, out, errors = run(capsys, "check", "--max-file-size", size, "big.yaml")
    assert (code, out, errors) == (
        1,
        "big.yaml:7:14: nginx:1.25 is not pinned by digest (Pod web, container app)\n",
        [],
    )
    code, _, errors = pin(capsys, "--max-file-size", size, "big.yaml")
    assert (code, errors) == (1, [])
    assert path.read_bytes() == text.replace("nginx:1.25", f"nginx@{A}").encode()


def test_max_file_size_can_also_lower_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file("m.yaml", POD.format("nginx:1.25"))
    size = len(path.read_bytes())
    assert run(capsys, "check", "--max-file-size", str(size), "m.yaml")[0] == 1
    code, _, errors = pin(capsys, "--max-file-size", str(size - 1), "m.yaml")
    assert code == 2
    assert errors == [reported("pin", TOO_LARGE.format("m.yaml", f"{size - 1} bytes"))]
    code, _, errors = run(capsys, "check", "--max-file-size", "1k", "--", "m.yaml")
    assert code == 1 and errors == []


def test_stdin_respects_max_file_size(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    text = big_manifest()
    code, out, err = filter_stdin(monkeypatch, capsysbinary, text.encode(), "-q")
    assert (code, out) == (2, b"")
    assert err == reported("pin", TOO_LARGE.format("<stdin>", "16 MiB")).encode() + b"\n"
    args = ("-q", "--max-file-size", "32M")
    code, out, err = filter_stdin(monkeypatch, capsysbinary, text.encode(), *args)
    assert (code, out, err) == (0, text.replace("nginx:1.25", f"nginx@{A}").encode(), b"")


@pytest.mark.parametrize("value", ["0", "-1", "12X", "abc", "1.5M", "", "32 MB"])
@pytest.mark.parametrize("command", ["check", "pin", "verify"])
def test_a_bad_max_file_size_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    path = write_file("m.yaml", POD.format("nginx:1.25"))
    code, out, errors = run(capsys, command, "--max-file-size", value, "m.yaml")
    assert (code, out) == (2, "")
    assert errors == [f"error: --max-file-size must be {SIZE_FORMS}, not {value!r}."]
    assert path.read_bytes() == POD.format("nginx:1.25").encode()


class _Recording:
    """A binary file that records the size of every read."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sizes: list[int] = []

    def fileno(self) -> int:
        return self.handle.fileno()

    def read(self, size: int) -> bytes:
        self.sizes.append(size)
        return self.handle.read(size)


@pytest.mark.parametrize(("length", "limit"), [(10, GIB), (100, 10), (10, 10), (0, 10)])
def test_a_file_is_read_up_to_one_byte_past_the_limit(length: int, limit: int) -> None:
    path = write_file("m.yaml", bytes(range(256)) * (length // 256) + b"x" * (length % 256))
    with path.open("rb") as handle:
        recording = _Recording(handle)
        data = read_capped(recording, limit)  # type: ignore[arg-type]
    assert data == path.read_bytes()[: limit + 1]
    # One read, of the file's size (plus a byte to see whether it grew), never of the limit.
    assert recording.sizes == [min(length, limit) + 1]


@pytest.mark.parametrize(("length", "limit"), [(100, GIB), (100, 10), (3 * MIB, 2 * MIB)])
def test_a_pipe_is_read_in_chunks_up_to_one_byte_past_the_limit(length: int, limit: int) -> None:
    reader, writer = os.pipe()
    data = os.urandom(length)
    feeder = threading.Thread(target=_feed, args=(writer, data))
    feeder.start()
    with os.fdopen(reader, "rb") as handle:
        recording = _Recording(handle)
        got = read_capped(recording, limit)  # type: ignore[arg-type]
        assert got == data[: limit + 1]
        assert max(recording.sizes) <= READ_CHUNK
        assert handle.read() == data[limit + 1 :]  # the rest was left unread
    feeder.join()


def _feed(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


# --- --jobs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "pin", "verify"])
@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_jobs_must_be_a_positive_whole_number(
    capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    original = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n"
    path = write_file("pod.yaml", original)
    code = main([command, "--jobs", value, "pod.yaml"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert "--jobs" in captured.err and value in captured.err
    assert path.read_text() == original

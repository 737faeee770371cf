"""Bad input, fuzzed: the reference parser, mutated real manifests, and hostile YAML.

- The reference parser, on any string, returns a Reference or raises InvalidReferenceError; a
  parsed reference formats back to the same text, and its canonical form parses to the same
  image (hypothesis).
- Real manifests from the shared corpus, mutated (truncated, bytes flipped, re-indented, tabs,
  deep nesting, huge scalars, lines dropped or repeated): ``pinner check`` and ``pinner pin
  --offline`` never raise, never print a traceback, exit 0, 1 or 2, and pin changes nothing but
  image values (checked without trusting the finder: every changed byte must undo to an image).
- An alias bomb, a 50 MB file, and nesting deep enough to overflow libyaml's C stack finish in a
  child process within bounded time and memory, or are refused with a clear error.

``PINNER_FUZZ_EXAMPLES`` (default 300) and ``PINNER_REFERENCE_EXAMPLES`` (default 1000 per property)
scale the runs; docs/reliability.md quotes a long run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinner.cli import main
from pinner.errors import InvalidReferenceError
from pinner.manifests.scan import scan_paths
from pinner.reference import parse_reference
from tests.support.corpus import corpus_root
from tests.support.kustomize_checks import without_new_digest_keys

REFERENCE_EXAMPLES = int(os.environ.get("PINNER_REFERENCE_EXAMPLES", "1000"))
MUTATION_EXAMPLES = int(os.environ.get("PINNER_FUZZ_EXAMPLES", "300"))
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

# --- the reference parser ------------------------------------------------------------------------

# Built from pieces rather than from_regex, which is slow for these nested patterns.
LOWER = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
PATH_COMPONENT = st.one_of(
    st.builds(
        lambda first, rest: first + "".join(separator + run for separator, run in rest),
        LOWER,
        st.lists(st.tuples(st.sampled_from([".", "_", "__", "-", "---"]), LOWER), max_size=3),
    ),
    st.integers(240, 260).map(lambda length: "a" * length),  # around the 255 limit
)
DOMAIN_COMPONENT = st.builds(
    lambda first, middle: first + (middle + first if middle else ""),
    st.text("abcXYZ019", min_size=1, max_size=3),
    st.text("abcXYZ019-", max_size=4),
)
DOMAIN = st.one_of(
    st.builds(
        lambda parts, port: ".".join(parts) + port,
        st.lists(DOMAIN_COMPONENT, min_size=2, max_size=3),
        st.sampled_from(["", ":5000", ":1"]),
    ),
    st.sampled_from(
        [
            *("localhost", "localhost:5000", "[::1]:5000", "127.0.0.1:5000", "docker.io"),
            *("index.docker.io", "Registry.Example", "ghcr.io"),
        ]
    ),
)
TAG = st.one_of(
    st.builds(
        lambda first, rest: first + rest,
        st.sampled_from("aZ9_"),
        st.text("abcXYZ0189_.-", max_size=12),
    ),
    st.integers(126, 129).map(lambda length: "t" * length),  # around the 128 limit
)
DIGEST = st.builds(
    lambda hex_: f"sha256:{hex_}", st.text("0123456789abcdef", min_size=64, max_size=64)
)
REFERENCE_TEXT = st.builds(
    lambda domain, path, tag, digest: (
        (f"{domain}/" if domain else "")
        + "/".join(path)
        + (f":{tag}" if tag else "")
        + (f"@{digest}" if digest else "")
    ),
    st.one_of(st.just(""), DOMAIN),
    st.lists(PATH_COMPONENT, min_size=1, max_size=4),
    st.one_of(st.none(), TAG),
    st.one_of(st.none(), DIGEST),
)
# Near-misses: grammatical references with a character inserted, replaced or dropped.
NEAR_MISS = st.builds(
    lambda text, index, char, how: (
        text[:index] + char + text[index + (how == "replace") :]
        if how != "drop"
        else text[:index] + text[index + 1 :]
    ),
    REFERENCE_TEXT,
    st.integers(0, 300),
    st.sampled_from([*"/:@._-A ZéÀ\t\n[]", "", "\x00", "//", "::", "@@"]),
    st.sampled_from(["insert", "replace", "drop"]),
)


@settings(FUZZ, max_examples=REFERENCE_EXAMPLES)
@given(st.one_of(st.text(), REFERENCE_TEXT, NEAR_MISS))
def test_any_string_parses_or_raises_the_parsers_error(text: str) -> None:
    with contextlib.suppress(InvalidReferenceError):
        parse_reference(text)


@settings(FUZZ, max_examples=REFERENCE_EXAMPLES)
@given(st.one_of(REFERENCE_TEXT, NEAR_MISS))
def test_a_parsed_reference_formats_back_and_its_canonical_form_parses(text: str) -> None:
    try:
        reference = parse_reference(text)
    except InvalidReferenceError:
        return
    assert str(reference) == text
    assert parse_reference(str(reference)) == reference
    canonical = parse_reference(reference.canonical)
    assert canonical.canonical == reference.canonical
    assert canonical.match_key == reference.match_key
    pinned = parse_reference(reference.pinned("sha256:" + "e" * 64, keep_tag=True))
    assert pinned.match_key == reference.match_key and pinned.is_pinned


# --- mutated real manifests ----------------------------------------------------------------------

CORPUS = corpus_root()
SEEDS: list[Path] = (
    []
    if CORPUS is None
    else [
        path
        for path in sorted(CORPUS.rglob("*"))
        if path.suffix in (".yaml", ".yml", ".json")
        and path.is_file()
        and not path.is_symlink()
        and b"image" in path.read_bytes()
    ]
)
needs_corpus = pytest.mark.skipif(not SEEDS, reason="the shared corpus is not beside the repo")
# A digest as pinned; the image name before it runs back to a delimiter. (Searching for the whole
# pin with one regex is quadratic on a megabyte-long scalar.)
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}")
DELIMITERS = frozenset(" \t\r\n'\"{}[],#")


def token_start(text: str, end: int) -> int:
    start = end
    while start > 0 and text[start - 1] not in DELIMITERS:
        start -= 1
    return start


def token_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] not in DELIMITERS:
        end += 1
    return end


def fake_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(parse_reference(image).canonical.encode()).hexdigest()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with digests.txt: a made-up digest for every image the seeds hold."""
    folder = tmp_path_factory.mktemp("fuzz")
    lines = set()
    for scan in scan_paths([str(seed) for seed in SEEDS]):
        for _, reference, _ in scan.images:
            if reference is not None and reference.digest is None:
                lines.add(
                    f"{reference.name}:{reference.tag_or_default}@{fake_digest(str(reference))}"
                )
    (folder / "digests.txt").write_text("\n".join(sorted(lines)) + "\n")
    return folder


def only_images_changed(old: str, new: str) -> bool:
    try:
        return undo_pins(old, new) == old
    except AssertionError:
        return False


def undo_pins(old: str, new: str) -> str:
    """``new`` with every pin pinner made turned back into the image it replaced.

    Each pin is found by its made-up digest; the image it replaced must sit at the same place in
    ``old`` (shifted by earlier pins) and pin to exactly that text. Equal to ``old`` if and only
    if nothing but image values changed.
    """
    pieces, shift, done = [], 0, 0
    for match in DIGEST_RE.finditer(new):
        pin_start = token_start(new, match.start())
        pin = new[pin_start : match.end()]
        start = pin_start - shift
        assert 0 <= start <= len(old), "a pin beyond the old text"
        image = old[start : token_end(old, start)]
        if image == pin:
            continue  # pinned before pinner ran
        assert image, f"a pin where {old[start : start + 40]!r} was"
        name = parse_reference(image).name
        assert pin == f"{name}@{fake_digest(image)}", (image, pin)
        pieces += [new[done:pin_start], image]
        done = match.end()
        shift += len(pin) - len(image)
    pieces.append(new[done:])
    return "".join(pieces)


def test_undo_pins_catches_a_change_outside_an_image() -> None:
    old = "image: nginx:1.27  # web\n"
    pinned = f"image: nginx@{fake_digest('nginx:1.27')}  # web\n"
    assert only_images_changed(old, pinned)
    assert not only_images_changed(old, pinned.replace("# web", "# Web"))
    assert not only_images_changed(old, pinned.replace("image:", "image: "))
    assert not only_images_changed(old, pinned.replace("nginx@", "nginx:1.27@"))


@st.composite
def mutated_seed(draw: st.DrawFn) -> tuple[str, str, bytes]:
    seed = draw(st.sampled_from(SEEDS))
    data = seed.read_bytes()
    kind = draw(st.sampled_from(MUTATIONS))
    lines = data.splitlines(keepends=True) or [b""]
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    line = draw(st.integers(0, len(lines) - 1))
    if kind == "truncate":
        data = data[:at]
    elif kind == "flip-bytes":
        for _ in range(draw(st.integers(1, 8))):
            index = draw(st.integers(0, max(len(data) - 1, 0)))
            data = data[:index] + bytes([draw(st.integers(0, 255))]) + data[index + 1 :]
    elif kind == "indent":
        pad = b" " * draw(st.integers(1, 7))
        chosen = draw(st.sets(st.integers(0, len(lines) - 1), max_size=len(lines)))
        data = b"".join(
            pad + text if i in chosen or not chosen else text for i, text in enumerate(lines)
        )
    elif kind == "tabs":
        data = b"".join(
            re.sub(rb"^( {2})+", lambda m: b"\t" * (len(m.group()) // 2), text)
            if i >= line
            else text
            for i, text in enumerate(lines)
        )
    elif kind == "tab-after-colon":
        data = data.replace(b"image: ", b"image:\t")
    elif kind == "deep-nesting":
        depth = draw(st.sampled_from([10, 500, 999, 1001, 5000, 40000]))
        block = draw(st.booleans())
        nested = (b"- " * depth + b"x") if block else (b"[" * depth + b"]" * depth)
        data = b"".join(lines[:line]) + b"deep: " + nested + b"\n" + b"".join(lines[line:])
    elif kind == "huge-scalar":
        size = draw(st.sampled_from([70_000, 1_000_000]))
        data = b"".join(lines[:line]) + b"huge: " + b"x" * size + b"\n" + b"".join(lines[line:])
    elif kind == "drop-line":
        data = b"".join(lines[:line] + lines[line + 1 :])
    elif kind == "repeat-line":
        data = b"".join(lines[: line + 1] + lines[line:])
    elif kind == "crlf":
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return str(seed.relative_to(CORPUS or seed.parent)), kind, data


MUTATIONS = [
    "truncate",
    "flip-bytes",
    "indent",
    "tabs",
    "tab-after-colon",
    "deep-nesting",
    "huge-scalar",
    "drop-line",
    "repeat-line",
    "crlf",
]
OUTCOMES: dict[str, dict[int, int]] = {}


@needs_corpus
@settings(FUZZ, max_examples=MUTATION_EXAMPLES)
@given(case=mutated_seed() if SEEDS else st.nothing())
def test_mutated_manifests_never_crash_and_change_only_images(
    workspace: Path, case: tuple[str, str, bytes]
) -> None:
    name, kind, data = case
    path = workspace / ("manifest.json" if name.endswith(".json") else "manifest.yaml")
    path.write_bytes(data)
    for command in (["check"], ["pin", "--offline", "--digests", str(workspace / "digests.txt")]):
        code, err = _run([*command, "--no-config", "--quiet", str(path)])
        assert code in (0, 1, 2), (name, kind, command, err)
        assert "Traceback" not in err, (name, kind, err)
        OUTCOMES.setdefault(kind, {}).setdefault(code, 0)
        OUTCOMES[kind][code] += 1
    after = path.read_bytes()
    if after != data:
        old, new = data.decode("utf-8"), after.decode("utf-8")
        # A kustomization's entries gain digest keys (tests/e2e/test_corpus_kustomize.py checks
        # those on their own): take them out, then only image values may differ.
        assert undo_pins(old, without_new_digest_keys(new)) == old, (name, kind)


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture(scope="module", autouse=True)
def _report_outcomes() -> Iterator[None]:
    yield
    if OUTCOMES:
        summary = ", ".join(
            f"{kind} {dict(sorted(codes.items()))}" for kind, codes in sorted(OUTCOMES.items())
        )
        print(f"\nfuzz outcomes (command runs by exit code): {summary}")


# --- hostile YAML, measured in a child process ---------------------------------------------------

# The child's own peak (VmHWM, KiB): ru_maxrss would also count the pages of this test process it
# was forked from, which grows with the suite (the fork for preexec_fn copies all of it).
MEASURED = """
import sys, time
from pinner.cli import main
started = time.monotonic()
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    rss = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
sys.stderr.write(f"\\nMEASURED {rss} {time.monotonic() - started:.2f}\\n")
sys.exit(code)
"""
MEMORY_LIMIT = 2 * 1024**3
A = "sha256:" + "a" * 64


def run_measured(
    folder: Path, *args: str, stdin: bytes | None = None
) -> tuple[int, str, float, float]:
    """Exit code, stderr, peak memory (MiB) and seconds of ``pinner ARGS`` in a limited child."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        preexec_fn=limit,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
    measured = re.search(r"MEASURED (\d+) ([\d.]+)", err)
    assert measured is not None, err[-2000:]
    return result.returncode, err, int(measured.group(1)) / 1024, float(measured.group(2))


def laughs(indent: str, levels: int = 9, width: int = 9) -> list[str]:
    """Billion laughs: anchors l0..l8, each a list of 9 aliases of the one before (9**9 leaves
    when expanded), and merge keys m0..m8 merging 9 copies of the one before."""
    lines = [f"{indent}l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [
        f"{indent}l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]"
        for level in range(1, levels)
    ]
    lines.append(f"{indent}m0: &m0 {{image: nginx:1.27, name: bomb}}")
    lines += [
        f"{indent}m{level}: &m{level} {{<<: [" + ", ".join([f"*m{level - 1}"] * width) + "]}"
        for level in range(1, levels)
    ]
    return lines


def alias_bomb() -> str:
    """The bomb in every place the finder walks: metadata, the pod spec, merged containers, a
    custom kind searched by shape, and a List of a thousand aliases of one object."""
    pod = [
        *("apiVersion: v1", "kind: Pod", "metadata:", "  name: bomb", "  annotations:"),
        *laughs("    "),
        "spec:",
        "  laughs: *l8",
        "  containers:",
        "  - <<: *m8",
        "    args: *l8",
        "  initContainers:",
        "  - &c {name: debug, image: busybox:1.36, args: *l8}",
        "  ephemeralContainers: [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    ]
    rollout = [
        *("apiVersion: argoproj.io/v1alpha1", "kind: Rollout", "metadata:", "  name: rollout"),
        "  annotations:",
        *laughs("    "),
        "spec:",
        "  strategy: {canary: {steps: *l8}}",
        "  template:",
        "    spec:",
        "      containers: [{name: app, image: redis:7, args: *l8}]",
        "      volumes: *l8",
    ]
    listing = [
        *("apiVersion: v1", "kind: List", "metadata:", "  annotations:"),
        *laughs("    "),
        "items:",
        "- &obj {kind: Pod, metadata: {name: p, labels: *l8}, spec: {containers: [*m8]}}",
        *(["- *obj"] * 1000),
    ]
    return "\n---\n".join("\n".join(doc) for doc in (pod, rollout, listing)) + "\n"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "digests.txt").write_text(
        f"nginx:1.27@{A}\nbusybox:1.36@{A}\nredis:7@{A}\n", encoding="utf-8"
    )
    return tmp_path


def test_an_alias_bomb_is_pinned_in_bounded_time_and_memory(hostile: Path) -> None:
    path = hostile / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    code, err, mib, seconds = run_measured(
        hostile, "pin", "--no-config", "--offline", "--digests", "digests.txt", "bomb.yaml"
    )
    assert code == 1, err[-2000:]
    text = path.read_text()
    # Each anchored image is written once, its aliases follow it; the Rollout's m0 is only an
    # annotation, not an image.
    assert text.count(f"image: nginx@{A}") == 2 and text.count("image: nginx:1.27") == 1
    assert text.count(f"image: busybox@{A}") == 1 and text.count(f"image: redis@{A}") == 1
    assert mib < 300 and seconds < 20, (mib, seconds)


HUGE_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: app\n    image: nginx:1.27\n"
)


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_50_mb_manifest_is_refused_quickly(hostile: Path, via: str) -> None:
    data = (HUGE_POD + "---\n") * (50 * 1024 * 1024 // (len(HUGE_POD) + 4) + 1)
    path = hostile / "huge.yaml"
    path.write_text(data, encoding="utf-8")
    args = ["pin", "--no-config", "--offline", "--digests", "digests.txt"]
    if via == "file":
        code, err, mib, seconds = run_measured(hostile, *args, "huge.yaml")
        shown = "huge.yaml"
    else:
        code, err, mib, seconds = run_measured(hostile, *args, "-", stdin=data.encode())
        shown = "<stdin>"
    assert code == 2
    assert (
        f"error: {shown}: larger than 16 MiB (the --max-file-size limit), more than pinner "
        "reads. Raise --max-file-size (or max_file_size in .pinner.yaml), split it, or exclude it "
        "with --exclude. The file was not changed."
    ) in err
    assert path.read_text() == data
    assert mib < 250 and seconds < 10, (mib, seconds)


NESTING = {
    "flow-100k": ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than 1000 levels"),
    "block-30k": ("- " * 30_000 + "x\n", "nested more than 1000 levels"),
    "indented-3k": (
        "".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "x\n",
        "nested more than 1000 levels",
    ),
    "lists-in-lists": (
        "apiVersion: v1\nkind: List\nitems:\n- "
        + "{kind: List, items: [" * 3000
        + "]}" * 3000
        + "\n",
        "nested more than 1000 levels",
    ),
    "merge-chain": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  annotations:\n    a0: &a0 {x: '1'}\n"
        + "".join(f"    a{i}: &a{i} {{<<: *a{i - 1}, k{i}: v}}\n" for i in range(1, 3000))
        + "spec:\n  containers:\n  - <<: *a2999\n    name: c\n    image: nginx:1.27\n",
        "merge keys (<<) are nested more than 100 levels deep",
    ),
    "flow-json-with-colons": (
        # pinner falls back to the pure-Python parser for `{a: b:c}`; it recurses per level.
        "x: " + "[{a: b:c, d: " * 600 + "1" + "}]" * 600 + "\n",
        "collections are nested too deeply",
    ),
}


@pytest.mark.parametrize("case", NESTING)
def test_deep_nesting_is_refused_not_a_crash(hostile: Path, case: str) -> None:
    """libyaml's composer recurses in C: at ~20,000 levels it overflowed the stack (SIGSEGV)."""
    text, problem = NESTING[case]
    (hostile / "deep.yaml").write_text(text, encoding="utf-8")
    for command in (["check"], ["pin", "--offline", "--digests", "digests.txt"]):
        code, err, mib, seconds = run_measured(hostile, *command, "--no-config", "deep.yaml")
        assert code == 2, err[-2000:]
        assert problem in err, err[-2000:]
        # pin says it left the file alone; check, which never changes a file, does not.
        assert ("The file was not changed." in err) == (command[0] == "pin"), err[-2000:]
        assert mib < 300 and seconds < 20, (mib, seconds)
    assert (hostile / "deep.yaml").read_text() == text


# --- what the fuzzing found, kept as plain regressions ------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"\x01 Copyright\napiVersion: v1\n",
            "m.yaml:1: invalid YAML: character #x0001 is not allowed in YAML (control characters "
            "are not allowed). Fix the syntax.",
        ),
        (
            # Found by a long run: the ConfigMap is skimmed, whose syntax check met it first.
            b"\x01# x\n" + HUGE_POD.encode() + b"---\napiVersion: v1\nkind: ConfigMap\n"
            b"metadata:\n  name: c\ndata:\n  a: " + b"x" * 500 + b"\n",
            "m.yaml:1: invalid YAML: character #x0001 is not allowed in YAML (control characters "
            "are not allowed). Fix the syntax.",
        ),
        (
            HUGE_POD.encode() + b"    args: [\x07]\n",
            "m.yaml:9: invalid YAML: character #x0007 is not allowed in YAML (control characters "
            "are not allowed). Fix the syntax.",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "pin"])
def test_a_control_character_is_invalid_yaml_not_a_crash(
    hostile: Path, data: bytes, message: str, command: str
) -> None:
    (hostile / "m.yaml").write_bytes(data)
    os.chdir(hostile)
    extra = ["--offline", "--digests", "digests.txt"] if command == "pin" else []
    code, err = _run([command, "--no-config", *extra, "m.yaml"])
    assert code == 2
    assert f"error: {message}" in err
    assert ("The file was not changed." in err) == (command == "pin")
    assert (hostile / "m.yaml").read_bytes() == data

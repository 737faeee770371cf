""".pinner.yaml: where it is found, how flags override it, and its exact error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinner.config.file import Given, find_config, parse_config
from pinner.config.settings import load_settings, merge
from pinner.errors import ConfigError
from pinner.kinds import Rule
from pinner.reference import Reference
from pinner.settings import Settings
from tests.support.cli import run_cli, without_summaries

pytestmark = pytest.mark.usefixtures("work_tree")

A = "sha256:" + "a" * 64
MIB = 1024 * 1024
POD = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: {}\n"
FULL = """\
# every key pinner reads
exempt: ['registry.k8s.io/pause*']
keep_tag: true
platform: linux/arm64
mirrors: {docker.io: mirror.gcr.io}
insecure_registries: [localhost:5000]
gcloud_hosts: [registry.example.com]
concurrency: 4
exclude: ['charts/**']
max_file_size: 32M
rules:
- kind: Rollout
  apiVersion: argoproj.io/v1alpha1
  podSpec: spec.template.spec
- kind: Prometheus
  images: [spec.image, spec.thanos.image]
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines other than the timed summary line."""
    code, out, err = run_cli(capsys, *args)
    return code, out, without_summaries(err)


# --- the file's contents --------------------------------------------------------------------


def test_every_key_is_read() -> None:
    assert parse_config(FULL, ".pinner.yaml") == Given(
        display=".pinner.yaml",
        exempt=("registry.k8s.io/pause*",),
        keep_tag=True,
        platform="linux/arm64",
        mirrors=(("docker.io", "mirror.gcr.io"),),
        insecure_registries=("localhost:5000",),
        gcloud_hosts=("registry.example.com",),
        concurrency=4,
        exclude=("charts/**",),
        max_file_size=32 * MIB,
        rules=(
            Rule("Rollout", "argoproj.io/v1alpha1", pod_spec=("spec", "template", "spec")),
            Rule("Prometheus", images=(("spec", "image"), ("spec", "thanos", "image"))),
        ),
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "~\n", "exempt:\n"])
def test_empty_files_and_empty_values_set_nothing(text: str) -> None:
    assert parse_config(text, ".pinner.yaml") == Given(display=".pinner.yaml")


SIZE_FORMS = (
    "a byte count (at least 1), or a whole number followed by K, M or G (binary: KiB, MiB, GiB; "
    "any case), such as 32M or 1G"
)
ERRORS = {
    "unknown key, with a suggestion": (
        "exempt: [nginx]\nkeep_tag: false\n\nexlude: [x]\n",
        ".pinner.yaml:4: unknown key 'exlude' (did you mean 'exclude'?).",
    ),
    "unknown key, no close match": (
        "colour: red\n",
        ".pinner.yaml:1: unknown key 'colour'; pinner reads: concurrency, exclude, exempt, "
        "gcloud_hosts, helm_digest_in_tag, helm_shapes, insecure_registries, keep_tag, "
        "max_file_size, mirrors, platform, rules.",
    ),
    "a string where a list belongs": (
        "exempt: nginx\n",
        ".pinner.yaml:1: 'exempt' must be a list of strings, not 'nginx'. Write it as "
        "exempt: ['registry.k8s.io/pause*'].",
    ),
    "a mapping in a list": (
        "exclude:\n- docs/**\n- {a: b}\n",
        ".pinner.yaml:3: 'exclude' must be a list of strings, but this item is a mapping. Write "
        "it as exclude: ['charts/**'].",
    ),
    "yes is not a boolean": (
        "keep_tag: yes\n",
        ".pinner.yaml:1: 'keep_tag' must be true or false, not 'yes'.",
    ),
    "a quoted number": (
        "concurrency: '8'\n",
        ".pinner.yaml:1: 'concurrency' must be a whole number from 1 to 64, not '8'.",
    ),
    "too many at once": (
        "concurrency: 1000\n",
        ".pinner.yaml:1: 'concurrency' must be a whole number from 1 to 64, not '1000'.",
    ),
    "a size with an unknown unit": (
        "max_file_size: 12X\n",
        f".pinner.yaml:1: 'max_file_size' must be {SIZE_FORMS}, not '12X'.",
    ),
    "a size of zero": (
        "exempt: []\nmax_file_size: 0\n",
        f".pinner.yaml:2: 'max_file_size' must be {SIZE_FORMS}, not '0'.",
    ),
    "a negative size": (
        "max_file_size: -1\n",
        f".pinner.yaml:1: 'max_file_size' must be {SIZE_FORMS}, not '-1'.",
    ),
    "a size that is a word": (
        "max_file_size: abc\n",
        f".pinner.yaml:1: 'max_file_size' must be {SIZE_FORMS}, not 'abc'.",
    ),
    "a size that is a list": (
        "max_file_size: [32M]\n",
        f".pinner.yaml:1: 'max_file_size' must be {SIZE_FORMS}, not a list.",
    ),
    "a list where a string belongs": (
        "platform: [linux/amd64]\n",
        ".pinner.yaml:1: 'platform' must be a string, not a list. Write it as platform: 'value'.",
    ),
    "a mirror with a path": (
        "mirrors:\n  docker.io: mirror.example.com/hub\n",
        ".pinner.yaml:2: the mirror of 'docker.io' must be a host[:port] such as "
        "'mirror.gcr.io', not 'mirror.example.com/hub': it holds a path ('/'); write "
        "host[:port] only. Write it as mirrors: "
        "{docker.io: 'mirror.gcr.io'}.",
    ),
    "a key set twice": (
        "exempt: [a]\nexempt: [b]\n",
        ".pinner.yaml:2: 'exempt' is set twice. Keep one of them.",
    ),
    "a list at the top": (
        "- exempt\n",
        ".pinner.yaml:1: the configuration must be a mapping of settings such as "
        "'exempt: [...]'. pinner reads: concurrency, exclude, exempt, gcloud_hosts, "
        "helm_digest_in_tag, helm_shapes, insecure_registries, keep_tag, max_file_size, "
        "mirrors, platform, rules.",
    ),
    "invalid YAML": (
        "exempt: [nginx\n",
        # The same message as a manifest's: where the bracket left open starts.
        ".pinner.yaml:2: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
        "sequence that starts on line 1). Fix the syntax.",
    ),
    "rules is a mapping": (
        "rules: {kind: Rollout}\n",
        ".pinner.yaml:1: 'rules' must be a list of rules, not a mapping. Write each rule as "
        "'- kind: Rollout' followed by 'podSpec: spec.template.spec' or "
        "'images: [spec.image]'.",
    ),
    "rule key misspelt": (
        "rules:\n- kind: Rollout\n  podspec: spec.template.spec\n",
        ".pinner.yaml:3: unknown key 'podspec' in rule 1 (did you mean 'podSpec'?). A rule "
        "takes kind, apiVersion, podSpec, images.",
    ),
    "rule without a kind": (
        "rules:\n- kind: A\n  podSpec: spec\n- podSpec: spec.template.spec\n",
        ".pinner.yaml:4: rule 2 has no 'kind'. Name the kind it applies to, e.g. kind: Rollout.",
    ),
    "rule without a place": (
        "rules:\n- kind: Rollout\n",
        ".pinner.yaml:2: rule 1 says neither 'podSpec' nor 'images'. Give the path of a pod "
        "spec (podSpec: spec.template.spec) or of image fields (images: [spec.image]).",
    ),
    "rule images not a list": (
        "rules:\n- kind: Prometheus\n  images: spec.image\n",
        ".pinner.yaml:3: 'images' must be a list of strings, not 'spec.image'. Write it as "
        "images: [spec.image].",
    ),
    "rule path with an empty part": (
        "rules:\n- kind: Prometheus\n  images:\n  - spec.image\n  - spec..image\n",
        ".pinner.yaml:5: 'images' must hold dotted paths such as spec.image, not 'spec..image'.",
    ),
}


@pytest.mark.parametrize("text, message", ERRORS.values(), ids=ERRORS.keys())
def test_errors_name_the_key_and_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, ".pinner.yaml")
    assert str(caught.value) == message


def test_a_bad_file_stops_every_command_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text("exempt: [nginx]\nkeep_tag: false\n\nexlude: [x]\n")
    Path("pod.yaml").write_text(POD.format("nginx:1.25"))
    expected = ["error: .pinner.yaml:4: unknown key 'exlude' (did you mean 'exclude'?)."]
    for command in (["check"], ["pin", "--offline"], ["policy"], ["digest", "nginx"]):
        assert run(capsys, *command) == (2, "", expected), command
    assert Path("pod.yaml").read_text() == POD.format("nginx:1.25")


# --- where the file is found ---------------------------------------------------------------


def test_found_by_walking_up_to_the_work_tree_top(tmp_path: Path) -> None:
    config = tmp_path / ".pinner.yaml"
    config.write_text("exempt: [nginx]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == config
    settings = load_settings(Given(), cwd=deep)
    assert settings.exempt == ("nginx",)
    assert settings.config == "../../.pinner.yaml"


def test_the_nearest_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".pinner.yaml").write_text("exempt: [outer]\n")
    inner = tmp_path / "team" / ".pinner.yaml"
    inner.parent.mkdir()
    inner.write_text("exempt: [inner]\n")
    assert find_config(tmp_path / "team") == inner


def test_the_search_stops_at_the_top_of_the_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".pinner.yaml").write_text("exempt: [outside]\n")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / ".git").write_text("gitdir: ../elsewhere\n")  # a worktree or submodule
    assert find_config(repo / "sub") is None
    (repo / ".pinner.yaml").write_text("exempt: [inside]\n")  # checked before stopping
    assert find_config(repo / "sub") == repo / ".pinner.yaml"


def test_no_file_anywhere_means_defaults(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    assert load_settings(Given(), cwd=tmp_path) == Settings()


def test_config_flag_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text("exempt: [nginx:1.25]\n")
    Path("strict.yaml").write_text("exempt: []\n")
    Path("pod.yaml").write_text(POD.format("nginx:1.25"))
    assert run(capsys, "check", "pod.yaml")[0] == 0  # the discovered file exempts it
    code, out, _ = run(capsys, "check", "--config", "strict.yaml", "pod.yaml")
    assert code == 1
    assert out == "pod.yaml:7:12: nginx:1.25 is not pinned by digest (Pod web, container app)\n"
    assert run(capsys, "check", "--no-config", "pod.yaml")[0] == 1


def test_config_flag_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--config", "missing.yaml") == (
        2,
        "",
        [
            "error: missing.yaml: cannot read the configuration file (No such file or "
            "directory). Check the path, or run with --no-config to ignore configuration files."
        ],
    )
    Path("bad.yaml").write_text("keep_tag: 1\n")
    assert run(capsys, "pin", "--config", "bad.yaml") == (
        2,
        "",
        ["error: bad.yaml:1: 'keep_tag' must be true or false, not '1'."],
    )
    assert run(capsys, "check", "--config", "bad.yaml", "--no-config") == (
        2,
        "",
        ["error: --config and --no-config contradict each other; give one of them."],
    )


# --- precedence: flags over the file ---------------------------------------------------------


def test_merge_flags_replace_single_values_and_extend_lists() -> None:
    file = parse_config(FULL, ".pinner.yaml")
    flags = Given(
        exempt=("nginx", "registry.k8s.io/pause*"),
        keep_tag=False,
        platform="linux/amd64",
        mirrors=(("docker.io", "hub.internal:5000"), ("quay.io", "quay.internal")),
        insecure_registries=("127.0.0.1:5000",),
        gcloud_hosts=("gcr.example.com",),
        concurrency=2,
        exclude=("docs/**",),
        max_file_size=64 * MIB,
    )
    settings = merge(file, flags)
    assert settings == Settings(
        exempt=("registry.k8s.io/pause*", "nginx"),  # the file's first, no duplicates
        keep_tag=False,
        platform="linux/amd64",
        mirrors=(("docker.io", "hub.internal:5000"), ("quay.io", "quay.internal")),
        insecure_registries=frozenset({"localhost:5000", "127.0.0.1:5000"}),
        gcloud_hosts=frozenset({"registry.example.com", "gcr.example.com"}),
        concurrency=2,
        exclude=("charts/**", "docs/**"),
        max_file_size=64 * MIB,
        rules=file.rules,
        config=".pinner.yaml",
    )


def test_merge_without_flags_keeps_the_file() -> None:
    file = parse_config(FULL, ".pinner.yaml")
    settings = merge(file, Given())
    assert (settings.keep_tag, settings.platform, settings.concurrency) == (
        True,
        "linux/arm64",
        4,
    )
    assert settings.max_file_size == 32 * MIB
    assert merge(Given(".pinner.yaml"), Given()).max_file_size == 16 * MIB


def test_check_exempt_flag_adds_to_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text("exempt: [nginx:1.25]\n")
    Path("a.yaml").write_text(POD.format("nginx:1.25"))
    Path("b.yaml").write_text(POD.format("redis:7"))
    code, out, _ = run(capsys, "check", "a.yaml", "b.yaml")
    assert (code, out) == (
        1,
        "b.yaml:7:12: redis:7 is not pinned by digest (Pod web, container app)\n",
    )
    assert run(capsys, "check", "--exempt", "redis:*", "a.yaml", "b.yaml")[:2] == (0, "")


def test_pin_keep_tag_flag_beats_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".pinner.yaml").write_text("keep_tag: true\n")
    Path("digests.txt").write_text(f"nginx:1.25@{A}\n")
    pod = Path("pod.yaml")
    offline = ["pin", "--offline", "--digests", "digests.txt"]
    pod.write_text(POD.format("nginx:1.25"))
    assert run(capsys, *offline, "pod.yaml")[0] == 1
    assert pod.read_text() == POD.format(f"nginx:1.25@{A}")
    pod.write_text(POD.format("nginx:1.25"))
    assert run(capsys, *offline, "--no-keep-tag", "pod.yaml")[0] == 1
    assert pod.read_text() == POD.format(f"nginx@{A}")


def test_pin_passes_registry_settings_from_file_and_flags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Settings] = []

    def fake_resolve(
        references: list[Reference], settings: Settings, progress: object = None
    ) -> tuple[dict[tuple[str, str, str], str], dict[tuple[str, str, str], object]]:
        seen.append(settings)
        return {ref.match_key: A for ref in references}, {}

    monkeypatch.setattr("pinner.cli.resolve.resolve_online", fake_resolve)
    Path(".pinner.yaml").write_text(FULL)
    Path("pod.yaml").write_text(POD.format("nginx:1.25"))
    flags = ["--platform", "linux/amd64", "--mirror", "quay.io=quay.internal"]
    flags += ["--insecure-registry", "127.0.0.1:5000", "--concurrency", "2"]
    assert run(capsys, "pin", "--dry-run", *flags, "pod.yaml")[0] == 1
    # The run's one Settings reaches the registry as it is: the registry's part of it.
    assert [
        (s.platform, s.insecure_registries, s.mirrors, s.gcloud_hosts, s.concurrency) for s in seen
    ] == [
        (
            "linux/amd64",
            frozenset({"localhost:5000", "127.0.0.1:5000"}),
            (("docker.io", "mirror.gcr.io"), ("quay.io", "quay.internal")),
            frozenset({"registry.example.com"}),
            2,
        )
    ]


def test_bad_mirror_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "pin", "--mirror", "docker.io", "--offline") == (
        2,
        "",
        ["error: --mirror takes REGISTRY=HOST[:PORT], not 'docker.io'."],
    )


# --- max_file_size ---------------------------------------------------------------------------


def big_manifest() -> str:
    """17 MiB: a Pod, then comment lines. Built per test, not kept: test_fuzz measures
    children forked from this process."""
    return POD.format("nginx:1.25") + ("# " + "x" * 1021 + "\n") * (17 * 1024)


TOO_LARGE = (
    "error: big.yaml: larger than {} (the --max-file-size limit), more than pinner reads. Raise "
    "--max-file-size (or max_file_size in .pinner.yaml), split it, or exclude it with --exclude."
)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("33554432", 32 * MIB),
        ("32M", 32 * MIB),
        ("32m", 32 * MIB),
        ("32MiB", 32 * MIB),
        ("'32 mib'", 32 * MIB),
        ('"64K"', 64 * 1024),
        ("1KiB", 1024),
        ("2G", 2 * 1024 * MIB),
        ("2gib", 2 * 1024 * MIB),
        ("1", 1),
    ],
)
def test_max_file_size_forms(text: str, size: int) -> None:
    assert parse_config(f"max_file_size: {text}\n", ".pinner.yaml").max_file_size == size


@pytest.mark.parametrize(
    "command", [["check"], ["pin", "--offline", "--digests", "digests.txt"]], ids=["check", "pin"]
)
def test_max_file_size_in_the_file_raises_the_limit(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    text = big_manifest()
    Path("digests.txt").write_text(f"nginx:1.25@{A}\n")
    big = Path("big.yaml")
    big.write_text(text)
    refused = TOO_LARGE.format("16 MiB")
    if command[0] == "pin":
        refused += " The file was not changed."
    assert run(capsys, *command, "big.yaml") == (2, "", [refused])
    assert big.read_text() == text
    Path(".pinner.yaml").write_text("max_file_size: 32M\n")
    assert run(capsys, *command, "big.yaml")[::2] == (1, [])
    if command[0] == "pin":
        assert big.read_text() == text.replace("nginx:1.25", f"nginx@{A}")


def test_max_file_size_flag_beats_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    text = big_manifest()
    big = Path("big.yaml")
    big.write_text(text)
    Path(".pinner.yaml").write_text("max_file_size: 1K\n")
    assert run(capsys, "check", "big.yaml") == (2, "", [TOO_LARGE.format("1 KiB")])
    assert run(capsys, "check", "--max-file-size", "32M", "big.yaml")[::2] == (1, [])
    Path(".pinner.yaml").write_text("max_file_size: 1G\n")
    assert run(capsys, "check", "big.yaml")[::2] == (1, [])
    assert run(capsys, "check", "--max-file-size", "16M", "big.yaml") == (
        2,
        "",
        [TOO_LARGE.format("16 MiB")],
    )
    # --no-config drops the file's limit: the default applies.
    assert run(capsys, "check", "--no-config", "big.yaml")[::2] == (2, [TOO_LARGE.format("16 MiB")])
    assert big.read_text() == text


def test_a_bad_max_file_size_in_the_file_stops_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path(".pinner.yaml").write_text("exempt: []\nmax_file_size: 12X\n")
    Path("pod.yaml").write_text(POD.format("nginx:1.25"))
    expected = [f"error: .pinner.yaml:2: 'max_file_size' must be {SIZE_FORMS}, not '12X'."]
    for command in (["check"], ["pin", "--offline"], ["verify"]):
        assert run(capsys, *command, "pod.yaml") == (2, "", expected), command
    # A valid flag does not excuse a bad file: the file is the repository's, and it is wrong.
    assert run(capsys, "check", "--max-file-size", "32M", "pod.yaml") == (2, "", expected)
    assert Path("pod.yaml").read_text() == POD.format("nginx:1.25")

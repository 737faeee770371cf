"""Scan throughput (check and offline pin against YAML loaders) and growth with the file count.

pinner runs in this process through its command line (``pinner.cli.main``), so the figures
include discovery, reading, finding, the policy, the report and, for ``pin``, the atomic writes.
The baselines only read and parse the same files (listed in advance, so they do not pay for the
walk), which flatters them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _ruamel_yaml import CParser
from ruamel.yaml import YAML
from ruamel.yaml.cyaml import CSafeLoader

from benchmarks.common import Sizes, Summary, Table, fake_digest, ratio, run_pinner
from benchmarks.measure import median_seconds, settled_copy, timed
from benchmarks.synth import image_pool, write_tree
from pinner.manifests.cpus import usable_cpus
from pinner.manifests.scan import PARALLEL_MIN_BYTES, PARALLEL_MIN_FILES, scan_paths
from pinner.manifests.walk import discover
from pinner.manifests.workers import can_fork
from pinner.sizes import format_size

CHECK = ["check", "--no-config", "--quiet", "--format", "json"]
PIN = ["pin", "--offline", "--no-config", "--quiet", "--format", "json"]
# (row label suffix, flags): pinner's default (worker processes for a large tree), then one process.
RUNS: tuple[tuple[str, list[str]], ...] = (("", []), (", one process (--jobs 1)", ["--jobs", "1"]))
ROUNDTRIP_SAMPLE_BYTES = 2_000_000  # a round-trip load reads ~0.4 MB/s: sample big trees


class BareComposer(CParser):  # type: ignore[misc]
    """libyaml's composer with tag resolution off: the least work that yields node positions."""

    def descend_resolver(self, *args: object) -> None:
        pass

    def ascend_resolver(self, *args: object) -> None:
        pass

    def resolve(self, *args: object) -> str:
        return ""


def read_texts(paths: list[Path]) -> list[str]:
    texts = []
    for path in paths:
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def roundtrip_load(paths: list[Path]) -> None:
    yaml = YAML()  # the round-trip loader, as a comment-preserving rewriter would use it
    for text in read_texts(paths):
        try:
            list(yaml.load_all(text))
        except Exception:
            continue


def compose_with(loader: type[CParser]) -> Callable[[list[Path]], None]:
    def compose(paths: list[Path]) -> None:
        for text in read_texts(paths):
            parser = loader(text)
            try:
                while parser.check_node():
                    parser.get_node()
            except Exception:
                continue
            finally:
                parser.dispose()

    return compose


def manifest_paths(root: Path) -> list[Path]:
    return [path for _, path in discover([str(root)])]


def digest_file(root: Path, target: Path) -> Path:
    """Every tagged image under ``root`` with a made-up digest: pin needs no registry."""
    lines = set()
    for scan in scan_paths([str(root)]):
        for _, reference, _ in scan.images:
            if reference is not None and reference.digest is None:
                lines.add(
                    f"{reference.name}:{reference.tag_or_default}@{fake_digest(reference.canonical)}"
                )
    target.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return target


def _throughput_row(
    table: Table,
    label: str,
    paths: list[Path],
    pinner_seconds: float,
    baselines: dict[str, float],
    size: int,
) -> dict[str, float]:
    mbps = {name: size / seconds / 1e6 for name, seconds in baselines.items()}
    mbps["pinner"] = size / pinner_seconds / 1e6
    table.add(
        label,
        len(paths),
        f"{size / 1e6:.2f}",
        f"{mbps['pinner']:.2f}",
        f"{mbps['roundtrip']:.2f}",
        ratio(mbps["pinner"], mbps["roundtrip"]),
        f"{mbps['safe']:.2f}",
        ratio(mbps["pinner"], mbps["safe"]),
        f"{mbps['bare']:.2f}",
        ratio(mbps["pinner"], mbps["bare"]),
    )
    return mbps


def throughput(sizes: Sizes, work: Path, corpus: Path | None, summary: Summary) -> Table:
    table = Table(
        "Scan throughput (MB/s; × = pinner's throughput over the baseline's)",
        [
            "workload",
            "files",
            "MB",
            "pinner",
            "ruamel round-trip",
            "×",
            "libyaml compose (CSafeLoader)",
            "×",
            "libyaml compose, no tag resolution",
            "×",
        ],
    )
    synthetic = work / "synthetic"
    write_tree(synthetic, sizes.synthetic_files, image_pool(300))
    workloads: list[tuple[str, Path | None]] = [
        (
            "corpus",
            corpus / sizes.corpus_subfolder if corpus and sizes.corpus_subfolder else corpus,
        ),
        ("synthetic tree", synthetic),
    ]
    for name, root in workloads:
        if root is None:
            for suffix, _ in RUNS:
                for command in ("check", "pin --offline"):
                    table.add(f"{command}, {name}{suffix}", *["n/a (no corpus)"] * 9)
            for target in (
                f"check ≥10× ruamel round-trip ({name})",
                f"stretch: check ≥ libyaml compose ({name})",
                f"pin --offline ≥10× ruamel round-trip ({name})",
            ):
                summary.add(target, "n/a (no corpus)", None)
            continue
        paths = manifest_paths(root)
        size = sum(path.stat().st_size for path in paths)
        baselines = _baselines(paths, size, sizes.repeats)
        digests = digest_file(root, work / f"digests-{name.replace(' ', '-')}.txt")
        # The default reads a large tree in one worker process per CPU; --jobs 1 is the same
        # run in this process alone, shown so the gain from the second core is not hidden.
        runs: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
        for suffix, jobs in RUNS:
            check_seconds = median_seconds(
                partial(run_pinner, [*CHECK, *jobs, str(root)], (0, 1, 2)),
                sizes.repeats,
                warmup=1,
            )
            pin_seconds = _pin_seconds(root, work / "pin-copy", digests, sizes.repeats, jobs)
            runs[suffix] = (
                _throughput_row(
                    table, f"check, {name}{suffix}", paths, check_seconds, baselines, size
                ),
                _throughput_row(
                    table, f"pin --offline, {name}{suffix}", paths, pin_seconds, baselines, size
                ),
            )
        (check, pin), (check_alone, pin_alone) = (runs[suffix] for suffix, _ in RUNS)
        one = "one process:"
        summary.add(
            f"check ≥10× ruamel round-trip ({name})",
            f"{ratio(check['pinner'], check['roundtrip'])} "
            f"({one} {ratio(check_alone['pinner'], check_alone['roundtrip'])})",
            check["pinner"] >= 10 * check["roundtrip"],
        )
        summary.add(
            f"stretch: check ≥ libyaml compose ({name})",
            f"{ratio(check['pinner'], check['safe'])} CSafeLoader, "
            f"{ratio(check['pinner'], check['bare'])} bare "
            f"({one} {ratio(check_alone['pinner'], check_alone['safe'])}, "
            f"{ratio(check_alone['pinner'], check_alone['bare'])})",
            check["pinner"] >= check["safe"],
        )
        summary.add(
            f"pin --offline ≥10× ruamel round-trip ({name})",
            f"{ratio(pin['pinner'], pin['roundtrip'])} "
            f"({one} {ratio(pin_alone['pinner'], pin_alone['roundtrip'])})",
            pin["pinner"] >= 10 * pin["roundtrip"],
        )
    table.notes.append(
        "pinner runs its command line in-process (discovery, reading, finding, policy, report; "
        "pin also plans and writes every file atomically, with fsync). The baselines read and "
        "parse the same files, listed in advance. The round-trip load of a tree bigger than "
        f"{ROUNDTRIP_SAMPLE_BYTES / 1e6:.0f} MB is timed on an evenly spread sample of its files "
        "(its MB/s is what is compared). Medians of the runs; the round-trip load runs once. "
        f"By default pinner reads a tree of {PARALLEL_MIN_FILES} files and "
        f"{format_size(PARALLEL_MIN_BYTES)} or more in one worker process per CPU "
        f"({usable_cpus()} here); the baselines use one. The --jobs 1 rows are pinner in one "
        "process too."
    )
    if not can_fork():
        table.notes.append(
            "This run could not fork worker processes (another thread was alive, or not Linux), "
            "so the default rows ran in one process too."
        )
    return table


def _baselines(paths: list[Path], size: int, repeats: int) -> dict[str, float]:
    """Seconds each baseline takes for all of ``paths`` (``size`` bytes)."""
    sample = paths
    if size > ROUNDTRIP_SAMPLE_BYTES:
        step = max(1, round(size / ROUNDTRIP_SAMPLE_BYTES))
        sample = paths[::step]
    sample_size = sum(path.stat().st_size for path in sample)
    roundtrip = timed(lambda: roundtrip_load(sample)) * size / sample_size
    return {
        "roundtrip": roundtrip,
        "safe": median_seconds(lambda: compose_with(CSafeLoader)(paths), repeats, warmup=1),
        "bare": median_seconds(lambda: compose_with(BareComposer)(paths), repeats),
    }


def _pin_seconds(root: Path, copy: Path, digests: Path, repeats: int, jobs: list[str]) -> float:
    """Median seconds of ``pin --offline`` on a fresh copy of ``root``; checks that it pinned."""
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        settled_copy(root, copy)
        arguments = [*PIN, *jobs, "--digests", str(digests), str(copy)]
        times.append(timed(partial(run_pinner, arguments, (1, 2))))
        changed = sum(
            1
            for path in manifest_paths(root)
            if path.read_bytes() != (copy / path.relative_to(root)).read_bytes()
        )
        if changed < len(manifest_paths(root)) // 20:
            raise AssertionError(f"pin --offline changed only {changed} files under {root}")
    shutil.rmtree(copy, ignore_errors=True)
    times = sorted(times[1:])
    return times[len(times) // 2]


def scale_files(sizes: Sizes, work: Path, summary: Summary) -> tuple[Table, Path]:
    """``check`` time against the number of files; returns the table and the largest tree."""
    table = Table(
        "Scale: check time against the number of files",
        ["files", "MB", "seconds", "ms per file", "ms per MB"],
    )
    per_file = []
    largest = work
    for count in sizes.scale_files:
        root = work / f"scale-{count}"
        stats = write_tree(root, count, image_pool(300), seed=7)
        seconds = median_seconds(partial(run_pinner, [*CHECK, str(root)], (0, 1)), sizes.repeats)
        per_file.append(seconds / count)
        table.add(
            f"files ×{count // sizes.scale_files[0]} ({count})",
            f"{stats.size / 1e6:.1f}",
            f"{seconds:.2f}",
            f"{seconds / count * 1000:.2f}",
            f"{seconds / stats.size * 1e9:.0f}",
        )
        largest = root
    growth = per_file[-1] / per_file[0]
    summary.add(
        "linear in files",
        f"time per file at {sizes.scale_files[-1]} files is {growth:.2f}× that at "
        f"{sizes.scale_files[0]}",
        growth <= 1.5,
    )
    return table, largest

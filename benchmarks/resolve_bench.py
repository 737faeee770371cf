"""Resolution throughput against the real registry on 127.0.0.1, and growth with the image count.

Every pinner run pins a fresh copy of a tree that names each tag twice, then the registry's
access log must show exactly one HEAD per distinct reference and no manifest GET, and every
file must hold the digest the registry has for its tag.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.common import Sizes, Summary, Table, ratio
from benchmarks.measure import child_env, process_cpu_seconds, run_child, settled_copy, timed
from benchmarks.registry_bench import (
    TAGS_PER_REPOSITORY,
    count_manifest_requests,
    delaying_proxy,
    sample,
    seed_images,
    skopeo_seconds_per_image,
)
from benchmarks.synth import write_resolution_tree
from pinner.cli import main as pinner_main
from tests.support.registry_server import RegistryServer

PIN = ["pin", "--no-config", "--quiet", "--format", "json"]
IMAGE_LINE = re.compile(r"image: (\S+)")


class Run(NamedTuple):
    seconds: float  # wall time
    pinner_cpu: float  # CPU seconds of pinner (all its threads)
    registry_cpu: float  # CPU seconds of docker-registry meanwhile


class Resolution:
    """A registry seeded once, and pin runs against it."""

    def __init__(self, server: RegistryServer, pushed: dict[str, str], work: Path) -> None:
        self.server = server
        self.pushed = pushed
        self.work = work

    def tree(self, name: str, references: Sequence[str]) -> Path:
        root = self.work / "trees" / name
        if not root.exists():
            write_resolution_tree(root, references)
        return root

    def digest(self, reference: str) -> str:
        """The digest pushed for ``reference``, whichever host (registry or proxy) it names."""
        host = reference.partition("/")[0]
        return self.pushed[reference.replace(host, self.server.host, 1)]

    def registry_cpu(self) -> float:
        assert self.server.process is not None
        return process_cpu_seconds(self.server.process.pid)

    def resolve(self, tree: Path, references: Sequence[str], extra: Sequence[str] = ()) -> Run:
        """``pin --dry-run`` in this process: scan, resolve and plan, no writes.

        The digests pinner found come back in its JSON report (``--dry-run`` writes no lock
        either) and are checked.
        """
        report = io.StringIO()
        mark = self.server.log_mark()
        arguments = [*PIN, "--dry-run", *extra, str(tree)]

        def pin_once() -> None:
            report.seek(0)
            report.truncate()
            with contextlib.redirect_stdout(report), contextlib.redirect_stderr(io.StringIO()):
                code = pinner_main(arguments)
            if code != 1:
                raise RuntimeError(f"pinner {' '.join(arguments)} exited {code}")

        registry_before, cpu_before = self.registry_cpu(), time.process_time()
        seconds = timed(pin_once)
        pinner_cpu = time.process_time() - cpu_before
        registry_cpu = self.registry_cpu() - registry_before
        self.check_requests(references, mark)
        changes = json.loads(report.getvalue())["changes"]
        found = {change["image"]: change["new_image"].rsplit("@", 1)[1] for change in changes}
        for reference in set(references):
            if found.get(reference) != self.digest(reference):
                raise AssertionError(f"pinner found {found.get(reference)} for {reference}")
        return Run(seconds, pinner_cpu, registry_cpu)

    def pin_command(self, tree: Path, references: Sequence[str]) -> Run:
        """``python -m pinner pin`` as a command: start-up, resolution and writes."""
        copy = self.work / "pinned"
        settled_copy(tree, copy)
        mark = self.server.log_mark()
        command = [sys.executable, "-m", "pinner", *PIN, str(copy)]
        registry_before = self.registry_cpu()
        child = run_child(command, child_env(self.work / "pycache"))
        registry_cpu = self.registry_cpu() - registry_before
        self.check_requests(references, mark)
        self.check_files(tree, copy)
        return Run(child.seconds, child.cpu_seconds, registry_cpu)

    def check_requests(self, references: Sequence[str], mark: int) -> None:
        distinct = len(set(references))
        heads, gets = count_manifest_requests(self.server, mark)
        if (heads, gets) != (distinct, 0):
            raise AssertionError(
                f"{heads} HEAD and {gets} GET manifest requests for {distinct} distinct "
                "references; expected one HEAD each and no GET"
            )

    def check_files(self, tree: Path, copy: Path) -> None:
        for original in tree.iterdir():
            written = (copy / original.name).read_text(encoding="utf-8")
            before = IMAGE_LINE.findall(original.read_text(encoding="utf-8"))
            for reference, image in zip(before, IMAGE_LINE.findall(written), strict=True):
                digest = self.digest(reference)
                if image != f"{reference.rpartition(':')[0]}@{digest}":
                    raise AssertionError(f"{original.name}: {reference} became {image}")


def resolution(sizes: Sizes, work: Path, summary: Summary) -> tuple[Table, Table]:
    count = sizes.resolution_tags
    with RegistryServer("anonymous") as server:
        pushed = seed_images(server, max(count, *sizes.scale_images))
        bench = Resolution(server, pushed, work)
        references = list(pushed)[:count]
        tree = bench.tree("main", references)
        concurrent = min(
            (bench.resolve(tree, references) for _ in range(sizes.repeats)),
            key=lambda run: run.seconds,
        )
        sequential = bench.resolve(tree, references, ["--concurrency", "1"])
        command = bench.pin_command(tree, references)
        sampled = sample(references, sizes.skopeo_sample)
        skopeo = skopeo_seconds_per_image(sampled, pushed) * count
        with delaying_proxy(server, sizes.latency_ms) as proxy:
            far = [reference.replace(server.host, proxy, 1) for reference in references]
            far_tree = bench.tree("proxied", far)
            far_concurrent = bench.resolve(far_tree, far)
            far_sequential = bench.resolve(far_tree, far, ["--concurrency", "1"])
            far_command = bench.pin_command(far_tree, far)
            far_sampled = sample(far, sizes.skopeo_sample)
            far_pushed = {reference: bench.digest(reference) for reference in far_sampled}
            far_skopeo = skopeo_seconds_per_image(far_sampled, far_pushed) * count
        files = sum(1 for _ in tree.iterdir())
        table = Table(
            f"Resolution: {count} distinct tags, docker-registry on 127.0.0.1",
            [
                "run",
                "seconds",
                "references/s",
                "CPU s: pinner",
                "CPU s: registry",
                "× slower than pinner's default",
            ],
        )
        delay = f"{sizes.latency_ms:.0f} ms"
        skopeo_label = (
            f"skopeo inspect, one process per image ({len(sampled)} timed, median × {count})"
        )
        proxied = f"via a {delay} round-trip proxy:"
        loopback_rows: list[tuple[str, Run | float]] = [
            ("pinner pin --dry-run (default concurrency), in-process", concurrent),
            ("pinner pin --dry-run --concurrency 1, in-process", sequential),
            ("pinner pin as a command: start-up, resolution, files written", command),
            (skopeo_label, skopeo),
        ]
        proxied_rows: list[tuple[str, Run | float]] = [
            (f"{proxied} pinner pin --dry-run", far_concurrent),
            (f"{proxied} pinner pin --dry-run --concurrency 1", far_sequential),
            (f"{proxied} pinner pin as a command", far_command),
            (f"{proxied} {skopeo_label}", far_skopeo),
        ]
        # CPU is shown on loopback only: through the proxy, its own process shares the cores.
        for rows, base, show_cpu in (
            (loopback_rows, concurrent, True),
            (proxied_rows, far_concurrent, False),
        ):
            for label, run in rows:
                seconds = run.seconds if isinstance(run, Run) else run
                cpu = ("", "")
                if show_cpu and isinstance(run, Run):
                    cpu = (f"{run.pinner_cpu:.2f}", f"{run.registry_cpu:.2f}")
                table.add(
                    label,
                    f"{seconds:.2f}",
                    f"{count / seconds:.0f}",
                    *cpu,
                    ratio(seconds, base.seconds),
                )
        # Without waiting, a lookup is CPU work on both sides; the machine's cores cap how much
        # of it can overlap, whatever the client does.
        cores = os.cpu_count() or 1
        cpu_per_lookup = (sequential.pinner_cpu + sequential.registry_cpu) / count
        ceiling = sequential.seconds / (cpu_per_lookup * count / cores)
        table.notes.append(
            f"The tags are in repositories of {TAGS_PER_REPOSITORY}; each is named twice, in "
            f"{files} Deployment files. Every pinner run sent exactly {count} HEAD requests for "
            f"the {count} distinct references and no manifest GET (asserted from the "
            "registry's access log), and every digest it found (its JSON report) or wrote is "
            "the one pushed. `--dry-run` rows time the resolver (scan, resolve, plan; no "
            "writes). skopeo's per-image median is extrapolated to all references. The proxy "
            "(benchmarks/proxy.py, its own process) delays each request to model a network "
            "round trip to the same registry; the proxied rows compare with the proxied "
            "default run. CPU columns: pinner's process (all threads) and docker-registry's, "
            "from the kernel's accounting."
        )
        table.notes.append(
            f"On loopback nothing waits: one lookup one at a time costs "
            f"{sequential.registry_cpu / count * 1000:.2f} ms of registry CPU and "
            f"{sequential.pinner_cpu / count * 1000:.2f} ms of pinner CPU, and {cores} cores can "
            f"overlap at most {cores} such lookups, so no client can beat its own sequential run "
            f"by more than {ceiling:.1f}× here. With a network round trip lookups wait, and "
            "concurrency pays."
        )
        summary.add(
            "resolution ≥20× skopeo per image (pinner as a command, writes included; loopback)",
            ratio(skopeo, command.seconds),
            skopeo >= 20 * command.seconds,
        )
        summary.add(
            f"resolution ≥20× skopeo per image (pinner as a command; {delay} round trip)",
            ratio(far_skopeo, far_command.seconds),
            far_skopeo >= 20 * far_command.seconds,
        )
        summary.add(
            "resolution ≥5× pinner --concurrency 1 (loopback)",
            f"{ratio(sequential.seconds, concurrent.seconds)} (CPU-bound: at most "
            f"{ceiling:.1f}× on {cores} cores)",
            sequential.seconds >= 5 * concurrent.seconds,
        )
        summary.add(
            f"resolution ≥5× pinner --concurrency 1 ({delay} round trip)",
            ratio(far_sequential.seconds, far_concurrent.seconds),
            far_sequential.seconds >= 5 * far_concurrent.seconds,
        )
        scale = scale_images(bench, sizes, summary)
    return table, scale


def scale_images(bench: Resolution, sizes: Sizes, summary: Summary) -> Table:
    table = Table(
        "Scale: `pin --dry-run` time against the number of distinct images (registry on 127.0.0.1)",
        ["images", "seconds", "ms per image", "references/s"],
    )
    per_image = []
    for count in sizes.scale_images:
        references = list(bench.pushed)[:count]
        tree = bench.tree(f"scale-{count}", references)
        seconds = min(bench.resolve(tree, references).seconds for _ in range(sizes.repeats))
        per_image.append(seconds / count)
        table.add(
            f"images ×{count // sizes.scale_images[0]} ({count})",
            f"{seconds:.2f}",
            f"{seconds / count * 1000:.2f}",
            f"{count / seconds:.0f}",
        )
    growth = per_image[-1] / per_image[0]
    summary.add(
        "linear in distinct images",
        f"time per image at {sizes.scale_images[-1]} images is {growth:.2f}× that at "
        f"{sizes.scale_images[0]}",
        growth <= 1.5,
    )
    return table

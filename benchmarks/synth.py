"""Synthetic manifests for the benchmarks: realistic multi-document Kubernetes YAML.

A tree mixes what real repositories hold: Deployments with comments and several containers,
StatefulSets, CronJobs, Services, ConfigMaps with embedded files, RBAC, and big
CustomResourceDefinitions whose OpenAPI schema (no image anywhere) is most of their bytes.
Everything is deterministic for a given seed, so two runs read the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PINNED_DIGEST = "sha256:" + "5" * 64


@dataclass(frozen=True)
class TreeStats:
    files: int
    size: int  # bytes
    sites: int  # image values written


def image_pool(count: int, host: str = "registry.example.com") -> list[str]:
    """``count`` distinct tagged images over a few repositories and registries."""
    images = []
    for index in range(count):
        if index % 7 == 0:
            images.append(f"{('nginx', 'redis', 'postgres', 'busybox')[index % 4]}:1.{index}")
        else:
            images.append(f"{host}/team{index % 13}/service{index % 29}:v{index}")
    return images


def pinned(images: Sequence[str]) -> list[str]:
    """The same images, pinned by digest: a tree where ``check`` finds nothing to report."""
    return [f"{image.split(':')[0]}@{PINNED_DIGEST}" for image in images]


def _image_line(rng: random.Random, indent: str, image: str) -> str:
    style = rng.random()
    if style < 0.1:
        return f'{indent}image: "{image}"\n'
    if style < 0.15:
        return f"{indent}image: '{image}'\n"
    if style < 0.3:
        return f"{indent}image: {image}  # bumped by the release job\n"
    if style < 0.35:
        return f"{indent}image: {image.split('@')[0].split(':')[0]}@{PINNED_DIGEST}\n"
    return f"{indent}image: {image}\n"


def _container(rng: random.Random, name: str, image: str, indent: str) -> str:
    lines = [f"{indent}- name: {name}\n", _image_line(rng, indent + "  ", image)]
    if rng.random() < 0.5:
        lines.append(f'{indent}  args: ["--port=8080", "--log-level=info"]\n')
    lines.append(f"{indent}  ports:\n{indent}  - containerPort: {8000 + rng.randrange(100)}\n")
    lines.append(f"{indent}  env:\n")
    for variable in range(rng.randrange(1, 6)):
        lines.append(f"{indent}  - name: SETTING_{variable}\n{indent}    value: 'on'\n")
    lines.append(
        f"{indent}  resources:\n{indent}    requests: {{cpu: 100m, memory: 128Mi}}\n"
        f"{indent}    limits:\n{indent}      memory: 256Mi\n"
    )
    if rng.random() < 0.6:
        lines.append(
            f"{indent}  readinessProbe:\n{indent}    httpGet: {{path: /healthz, port: 8080}}\n"
            f"{indent}    periodSeconds: 10\n"
        )
    return "".join(lines)


def _pod_spec(rng: random.Random, images: Sequence[str], indent: str) -> str:
    parts = []
    if rng.random() < 0.3:
        parts.append(f"{indent}initContainers:\n")
        parts.append(_container(rng, "migrate", rng.choice(images), indent))
    parts.append(f"{indent}containers:\n")
    for index in range(rng.randrange(1, 4)):
        parts.append(_container(rng, f"app-{index}", rng.choice(images), indent))
    parts.append(
        f"{indent}volumes:\n{indent}- name: config\n{indent}  configMap: {{name: settings}}\n"
    )
    return "".join(parts)


def deployment(rng: random.Random, name: str, images: Sequence[str]) -> str:
    kind = rng.choice(("Deployment", "Deployment", "StatefulSet", "DaemonSet"))
    return (
        f"# {name}: served behind the shared ingress; owned by the platform team.\n"
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
        f"  labels:\n    app.kubernetes.io/name: {name}\n    app.kubernetes.io/part-of: shop\n"
        f"  annotations:\n    example.com/owner: platform  # who to page\n"
        f"spec:\n  replicas: {rng.randrange(1, 5)}\n"
        f"  selector:\n    matchLabels: {{app: {name}}}\n"
        f"  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n"
        f"      serviceAccountName: {name}\n" + _pod_spec(rng, images, "      ")
    )


def cronjob(rng: random.Random, name: str, images: Sequence[str]) -> str:
    return (
        f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n"
        f'  schedule: "*/15 * * * *"\n  jobTemplate:\n    spec:\n      template:\n'
        f"        spec:\n          restartPolicy: OnFailure\n"
        + _pod_spec(rng, images, "          ")
    )


def service(rng: random.Random, name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\n"
        f"spec:\n  type: ClusterIP\n  selector:\n    app: {name}\n  ports:\n"
        f"  - name: http\n    port: 80\n    targetPort: {8000 + rng.randrange(100)}\n"
    )


def configmap(rng: random.Random, name: str) -> str:
    body = "".join(
        f"    key{index} = value-{rng.randrange(10**6)}  ; setting {index}\n"
        for index in range(rng.randrange(5, 40))
    )
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-settings\n"
        f"data:\n  LOG_LEVEL: info\n  app.ini: |\n    [server]\n{body}"
    )


def rbac(name: str) -> str:
    return (
        f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n---\n"
        f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\n"
        f"rules:\n- apiGroups: ['']\n  resources: [configmaps, secrets]\n"
        f"  verbs: [get, list, watch]\n"
    )


def _schema(rng: random.Random, depth: int, indent: str) -> str:
    lines = []
    for index in range(rng.randrange(3, 7)):
        field = f"field{depth}x{index}"
        lines.append(f"{indent}{field}:\n")
        lines.append(
            f"{indent}  description: {field} configures how the controller reconciles this "
            f"part of the resource; see the operator guide, section {depth}.{index}, for "
            "the defaults and the accepted values.\n"
        )
        if depth < 3 and rng.random() < 0.5:
            lines.append(f"{indent}  type: object\n{indent}  properties:\n")
            lines.append(_schema(rng, depth + 1, indent + "    "))
        else:
            kind = rng.choice(("string", "integer", "boolean"))
            lines.append(f"{indent}  type: {kind}\n")
    return "".join(lines)


def crd(rng: random.Random, name: str, target_size: int) -> str:
    """A CustomResourceDefinition of about ``target_size`` bytes, with no image in it."""
    head = (
        f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        f"  name: {name}s.example.com\n  annotations:\n    controller-gen.kubebuilder.io/version: "
        f"v0.14.0\nspec:\n  group: example.com\n  names:\n    kind: {name.title()}\n"
        f"    plural: {name}s\n  scope: Namespaced\n  versions:\n"
    )
    parts = [head]
    size = len(head)
    version = 0
    while size < target_size:
        block = (
            f"  - name: v{version}\n    served: true\n    storage: {str(version == 0).lower()}\n"
            f"    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n"
            + _schema(rng, 0, "          ")
        )
        parts.append(block)
        size += len(block)
        version += 1
    return "".join(parts)


def manifest_file(rng: random.Random, index: int, images: Sequence[str]) -> str:
    """One file's text: usually a workload with its Service, sometimes other objects."""
    name = f"svc-{index}"
    roll = rng.random()
    if roll < 0.03:
        return crd(rng, f"widget{index}", rng.randrange(20_000, 60_000))
    if roll < 0.13:
        return configmap(rng, name)
    if roll < 0.2:
        return rbac(name)
    if roll < 0.3:
        return cronjob(rng, name, images)
    documents = [deployment(rng, name, images), service(rng, name)]
    if rng.random() < 0.3:
        documents.append(configmap(rng, name))
    return "---\n".join(documents)


def write_tree(root: Path, files: int, images: Sequence[str], seed: int = 1) -> TreeStats:
    """Write ``files`` manifests under ``root`` (100 per folder); returns what was written."""
    rng = random.Random(seed)
    size = sites = 0
    for index in range(files):
        folder = root / f"app{index // 100:03d}"
        if index % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        text = manifest_file(rng, index, images)
        data = text.encode()
        (folder / f"m{index:05d}.yaml").write_bytes(data)
        size += len(data)
        sites += text.count("image: ")
    return TreeStats(files, size, sites)


def write_big_manifest(path: Path, target_size: int, images: Sequence[str], seed: int = 2) -> int:
    """One multi-document stream of about ``target_size`` bytes; returns its size."""
    rng = random.Random(seed)
    size = 0
    index = 0
    with path.open("w", encoding="utf-8") as stream:
        while size < target_size:
            text = manifest_file(rng, index, images)
            if index:
                text = "---\n" + text
            stream.write(text)
            size += len(text.encode())
            index += 1
    return size


def write_resolution_tree(root: Path, references: Sequence[str], uses: int = 2) -> int:
    """Deployments naming each reference ``uses`` times (2 containers per file); file count."""
    sequence = [reference for _ in range(uses) for reference in references]
    root.mkdir(parents=True, exist_ok=True)
    count = 0
    for start in range(0, len(sequence), 2):
        pair = sequence[start : start + 2]
        containers = "".join(
            f"      - name: c{index}\n        image: {image}  # tag, to be pinned\n"
            for index, image in enumerate(pair)
        )
        (root / f"d{count:05d}.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{count}\nspec:\n"
            f"  template:\n    spec:\n      containers:\n{containers}",
            encoding="utf-8",
        )
        count += 1
    return count

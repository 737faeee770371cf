"""Where images live, as data: the built-in workload kinds, and the rules for custom resources.

``WORKLOAD_KINDS`` is one table for everything that must agree on the kinds: the finder walks
each kind's pod-spec path, the Gatekeeper policy reads the same paths and matches the same kinds
in their API groups, and the documentation's table of where pinner looks is tested against it.
A ``Rule`` (from ``.pinner.yaml``) adds a place in a custom resource. ``NO_POD_SPEC_KINDS`` and
``is_builtin_group`` tell the finder which objects are not worth searching for a pod spec by
shape. No imports of pinner.
"""

from __future__ import annotations

from typing import NamedTuple


class WorkloadKind(NamedTuple):
    group: str  # the API group; "" is the core group (apiVersion: v1)
    pod_spec: tuple[str, ...]  # the path from the object to its pod spec


_TEMPLATE = ("spec", "template", "spec")
WORKLOAD_KINDS: dict[str, WorkloadKind] = {
    "Pod": WorkloadKind("", ("spec",)),
    "PodTemplate": WorkloadKind("", ("template", "spec")),
    "ReplicationController": WorkloadKind("", _TEMPLATE),
    "ReplicaSet": WorkloadKind("apps", _TEMPLATE),
    "Deployment": WorkloadKind("apps", _TEMPLATE),
    "StatefulSet": WorkloadKind("apps", _TEMPLATE),
    "DaemonSet": WorkloadKind("apps", _TEMPLATE),
    "Job": WorkloadKind("batch", _TEMPLATE),
    "CronJob": WorkloadKind("batch", ("spec", "jobTemplate", *_TEMPLATE)),
}


class Rule(NamedTuple):
    """An extra place where images live in a custom resource (from ``.pinner.yaml``)."""

    kind: str
    api_version: str | None = None
    pod_spec: tuple[str, ...] | None = None
    images: tuple[tuple[str, ...], ...] = ()

    def matches(self, kind: str, api_version: str) -> bool:
        return self.kind == kind and self.api_version in (None, api_version)


# Built-in kinds that never embed a pod spec: not worth walking in search of one.
NO_POD_SPEC_KINDS = frozenset(
    {
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Namespace",
        "CustomResourceDefinition",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "Ingress",
        "IngressClass",
        "NetworkPolicy",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "StorageClass",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "PriorityClass",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
        "Lease",
        "Event",
        "Kustomization",
    }
)
# API groups of the kinds above that do not end in ".k8s.io"; "" is the core group (v1).
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "extensions"})


def is_builtin_group(api_version: str) -> bool:
    """Whether ``api_version`` belongs to Kubernetes itself (``v1``, ``apps/v1``, ``*.k8s.io``)."""
    group = api_version.rpartition("/")[0]
    return group in BUILTIN_GROUPS or group.endswith(".k8s.io")

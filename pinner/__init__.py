"""pinner: pin every container image in Kubernetes manifests to an immutable digest."""

__version__ = "0.1.0"

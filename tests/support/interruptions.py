"""A batch of writes interrupted part-way, as a Ctrl-C between two files would interrupt it."""

from __future__ import annotations

import os

import pytest

import pinner.manifests.staging


def interrupt_rename(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """The writer's ``number``th rename (from 1) raises KeyboardInterrupt instead: its copy is
    linked but not renamed into place. The renames before it happen."""
    real = os.rename
    calls = 0

    def rename(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == number:
            raise KeyboardInterrupt
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pinner.manifests.staging.os, "rename", rename)

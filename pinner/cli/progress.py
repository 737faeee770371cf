"""A one-line progress bar on standard error, for people watching a terminal.

Silent unless standard error is a terminal, and silent in CI (``CI`` set to anything but
``false`` or ``0``) and with ``--quiet``: logs should hold results, not carriage returns. Written
by hand with ``\\r`` so the check path needs no terminal library.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1  # a faster bar costs more than it tells


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


class Progress:
    """Draws ``label [#####-----] done/total``; ``stage`` gives the callback for one phase."""

    def __init__(self, stream: TextIO | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream  # None: silent
        self._clock = clock
        self._lock = threading.Lock()  # the resolver reports from its worker threads
        self._drawn = 0  # length of the line on screen, to blank it
        self._last = float("-inf")

    @classmethod
    def for_terminal(cls, quiet: bool) -> Progress:
        stream = sys.stderr
        shown = not quiet and not in_ci() and stream.isatty()
        return cls(stream if shown else None)

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def stage(self, label: str) -> Callable[[int, int], None]:
        def update(done: int, total: int) -> None:
            self.update(label, done, total)

        return update

    def update(self, label: str, done: int, total: int) -> None:
        if self._stream is None:
            return
        with self._lock:
            now = self._clock()
            # Always draw the first and the last state; throttle what lies between.
            if 0 < done < total and now - self._last < REDRAW_SECONDS:
                return
            self._last = now
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            line = f"{label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total}"
            self._write(f"\r{line.ljust(self._drawn)}")
            self._drawn = len(line)

    def finish(self) -> None:
        """Blank the bar so the summary starts on a clean line."""
        if self._stream is None or not self._drawn:
            return
        with self._lock:
            self._write(f"\r{' ' * self._drawn}\r")
            self._drawn = 0

    def _write(self, text: str) -> None:
        assert self._stream is not None
        self._stream.write(text)
        self._stream.flush()

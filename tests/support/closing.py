"""The ``with`` protocol of the harness's servers and clients, written once."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_Self = TypeVar("_Self", bound="ClosedOnExit")


class ClosedOnExit:
    """``with thing:`` starts the thing (``start``: by default there is nothing to start) and
    always closes it on the way out, whatever happened inside."""

    def start(self: _Self) -> _Self:
        return self

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

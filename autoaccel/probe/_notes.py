"""Why something is unknown: each probe step runs through :class:`Notes`.

A failing read becomes ``None`` plus one line a user can act on, so one broken source
(a missing file, a driver call the card does not support) never costs the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Notes:
    """The notes of one probe, in the order they were found, without repeats."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)

    def attempt(self, what: str, read: Callable[[], T]) -> T | None:
        """``read()``, or ``None`` and the note ``"<what>: <why>"`` when it raises."""
        try:
            return read()
        except Exception as error:
            self.add(f"{what}: {describe(error)}")
            return None


def describe(error: BaseException) -> str:
    """A short reason for ``error``, in words (no traceback)."""
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"{error.filename} not found"
    if isinstance(error, PermissionError) and error.filename:
        return f"{error.filename}: permission denied"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or type(error).__name__}"
    # Notes are one line each: pydantic and others explain over several.
    text = next(iter(str(error).strip().splitlines()), "")
    if isinstance(error, ImportError):
        return text or "cannot be imported"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__

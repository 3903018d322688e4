"""Progress bars (tqdm) for uploads, downloads and waits, with one switch to turn them off.

By default a bar shows only when standard error is a terminal, so scripts, notebooks' logs and CI
output stay quiet. ``set_progress(False)`` turns every bar off, ``set_progress(True)`` forces
them on, ``set_progress(None)`` restores the default. A session may override the switch
(``login(..., progress=False)``).
"""

from __future__ import annotations

import threading
from typing import Any

from tqdm.auto import tqdm

__all__ = ["ProgressBar", "get_progress", "resolve", "set_progress"]

_lock = threading.Lock()
_enabled: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Show progress bars always (True), never (False) or only on a terminal (None, the default)."""
    global _enabled
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"set_progress takes True, False or None, not {enabled!r}")
    with _lock:
        _enabled = enabled


def get_progress() -> bool | None:
    """The switch as :func:`set_progress` left it."""
    return _enabled


def resolve(override: bool | None) -> bool | None:
    """The setting for one bar: a session's ``override`` wins over the global switch."""
    return _enabled if override is None else override


class ProgressBar:
    """A tqdm bar that is never shown when disabled, and closes once.

    ``enabled`` is a session's setting: True or False decide; None defers to the global switch
    (:func:`set_progress`), whose None means "only on a terminal" (tqdm's ``disable=None``).
    """

    def __init__(
        self, description: str, total: float | None, unit: str = "B", enabled: bool | None = None
    ) -> None:
        enabled = resolve(enabled)
        options: dict[str, Any] = {
            "desc": description,
            "total": total,
            "leave": False,
            "disable": None if enabled is None else not enabled,
        }
        if unit == "B":
            options.update(unit="B", unit_scale=True, unit_divisor=1024)
        else:
            options.update(unit=unit)
        self._bar = tqdm(**options)
        self._closed = False

    def update(self, amount: float) -> None:
        """Move the bar on by ``amount``."""
        if amount:
            self._bar.update(amount)

    def set(self, value: float) -> None:
        """Move the bar to ``value`` (it never goes back)."""
        if value > self._bar.n:
            self._bar.update(value - self._bar.n)

    def reset(self, total: float | None = None) -> None:
        """Start again from zero (a transfer restarted from its beginning)."""
        self._bar.reset(total=total)

    def describe(self, text: str) -> None:
        """Change the bar's label."""
        self._bar.set_description_str(text, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if not self._closed:
            self._closed = True
            self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

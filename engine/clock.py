"""Time, injected: the engine reads the clock only through a ``Clock``.

Tests and the test-only ``/_stepwell/clock`` endpoint move an offset forward instead of
sleeping through a Wait state or a visibility timeout.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time plus an adjustable offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        """Epoch seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward (tests only); returns the new offset."""
        with self._lock:
            self._offset += seconds
            return self._offset

    @property
    def offset(self) -> float:
        """Seconds this clock runs ahead of the wall clock."""
        return self._offset

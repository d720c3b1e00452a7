"""An in-memory provider, for tests and for embedding: keeps the scrubbed events it receives."""

from __future__ import annotations

import threading
from typing import Any

from .._fork import renew_after_fork
from .base import TelemetryProvider


class MemoryProvider(TelemetryProvider):
    name = "memory"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock")

    def send_event(self, event: dict[str, Any]) -> bool:
        with self._lock:
            self.events.append(event)
        return True

    def destination(self) -> str:
        return "memory (this process only)"

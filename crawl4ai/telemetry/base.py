"""``from crawl4ai.telemetry.base import TelemetryProvider``: where Crawl4AI's docs and users
import the provider interface from. The contract itself lives in
:mod:`crawl4ai.telemetry.providers.base`."""

from __future__ import annotations

from .providers.base import DeliveryResult, ScrubbedException, TelemetryProvider

__all__ = ["TelemetryProvider", "DeliveryResult", "ScrubbedException"]

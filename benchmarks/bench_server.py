"""Crawl4AI's real API server with the add-on vs the same server with it switched off
(``CRAWL4AI_TELEMETRY_HOOK=0``): request latency, p50 and p95. Goal: within 5 %.

Both servers run at once, as the image runs them (tests/server/crawl4ai_server.py: gunicorn with
the supervisord.conf command line, the image's environment, Redis, Chromium), and the rounds
alternate between them, so a noisy machine slows both alike. Two requests: ``GET /health``
(the middleware's cost with nothing else around it) and ``POST /crawl`` of a small raw page
(a whole crawl through the patched crawl4ai). Skipped, saying why, without Redis or Chromium.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import main, row  # noqa: E402

ROUNDS = 12
PER_ROUND = {"/health": 40, "/crawl": 6}
PAGE = {"urls": ["raw:<html><body><h1>Title</h1><p>" + "Some words here. " * 50
                 + '</p><a href="https://example.com/a">a link</a></body></html>']}


def _timed(server, path: str) -> float:
    start = time.perf_counter()
    status, _ = (server.request("GET", path) if path == "/health"
                 else server.request("POST", path, PAGE))
    elapsed = time.perf_counter() - start
    assert status == 200, (path, status)
    return elapsed * 1e3


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench_request_latency() -> None:
    from tests.server.crawl4ai_server import Redis, requirements, start

    missing = requirements()
    if missing is not None:
        print(f"(skipped: {missing})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        redis = Redis(Path(tmp) / "redis")
        servers = {}
        try:
            servers["ours"] = start(Path(tmp) / "ours", redis)
            servers["off"] = start(Path(tmp) / "off", redis, CRAWL4AI_TELEMETRY_HOOK="0")
            samples: dict[tuple[str, str], list[float]] = {
                (side, path): [] for side in servers for path in PER_ROUND}
            for path in PER_ROUND:  # warm both: the browser pool, first-request imports
                for server in servers.values():
                    _timed(server, path)
            for round_ in range(ROUNDS):
                order = ("ours", "off") if round_ % 2 == 0 else ("off", "ours")
                for side in order:
                    for path, count in PER_ROUND.items():
                        samples[(side, path)] += [_timed(servers[side], path) for _ in range(count)]
        finally:
            for server in servers.values():
                server.stop()
            redis.stop()
    for path in PER_ROUND:
        ours, off = samples[("ours", path)], samples[("off", path)]
        row(f"API server {path} p50, vs add-on off", statistics.median(ours),
            statistics.median(off), "ms", "<= 1.05x")
        row(f"API server {path} p95, vs add-on off", _percentile(ours, 0.95),
            _percentile(off, 0.95), "ms", "<= 1.05x")


MEASURES = {"request_latency": bench_request_latency}

if __name__ == "__main__":
    sys.exit(main(MEASURES))

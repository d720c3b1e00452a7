"""A real HTTP server on 127.0.0.1 that speaks Sentry's envelope protocol and records envelopes.

sentry-sdk's own transport posts to it exactly as it would post to sentry.io. Modes: ``ok``
(200), ``error`` (500), ``hang`` (accepts the connection, never answers). Every request's raw
body is kept, decompressed, so privacy tests can search the exact bytes that arrived.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    return body


def parse_envelope(raw: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """(envelope headers, [(item headers, payload bytes)]) per the envelope spec."""
    lines = raw.split(b"\n", 1)
    headers = json.loads(lines[0] or b"{}")
    rest = lines[1] if len(lines) > 1 else b""
    items = []
    while rest.strip():
        item_header_line, _, rest = rest.partition(b"\n")
        item_headers = json.loads(item_header_line)
        length = item_headers.get("length")
        if length is not None:
            payload, rest = rest[:length], rest[length + 1:]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_headers, payload))
    return headers, items


class SentryServer:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._hung: list[Any] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                raw = _decompress(body, self.headers.get("Content-Encoding", ""))
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "raw": raw, "time": time.time()}
                    )
                if server.mode == "hang":
                    server._hung.append(self.connection)
                    time.sleep(60)
                    return
                status = 500 if server.mode == "error" else 200
                answer = b'{"id":"ok"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SentryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/42"

    def raw_bodies(self) -> list[bytes]:
        with self._lock:
            return [r["raw"] for r in self.requests]

    def events(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.raw_bodies():
            _, items = parse_envelope(raw)
            for item_headers, payload in items:
                if item_headers.get("type") == "event":
                    out.append(json.loads(payload))
        return out

    def wait_for_events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if len(events) >= count:
                return events
            time.sleep(0.02)
        return self.events()

"""Your own FastAPI server with ``init_server(app)``: a real app served by uvicorn on 127.0.0.1,
real HTTP requests. A crawl4ai bug escaping a handler is reported (level ``error``: the server
answers and goes on) — on by default only where the server says it is ours — and re-raised
unchanged; the handlers' own code is the user's and is not reported; nothing from the request
ever reaches the report server. (Crawl4AI's own server, run as its image runs it:
test_crawl4ai_server.py.)"""

from __future__ import annotations

import http.client
import json
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request

from crawl4ai import telemetry, utils
from crawl4ai.telemetry.integrations.server import TelemetryMiddleware, init_server
from crawl4ai.telemetry.pipeline import get_pipeline
from tests.crawl4ai.crawling import recompiled

SECRETS = ("SECRET-PATH-1a", "SECRET-QUERY-2b", "SECRET-AUTH-3c", "SECRET-COOKIE-4d",
           "SECRET-HEADER-5e", "SECRET-BODY-6f", "secret-host.example", "SECRET-AGENT-7g")


class Served:
    """An app, its uvicorn server on 127.0.0.1, and what passed through it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.raised: list[BaseException] = []   # what the handlers raised
        self.escaped: list[BaseException] = []  # what came out of the middleware stack
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                     log_level="critical", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> Served:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self._server.started
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers or {})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


# Two one-line bugs in crawl4ai's real ``generate_content_hash`` (compiled under its own file and
# line), which the handlers below call with what the client sent.
_HASH_LINE = "return xxhash.xxh64(content.encode()).hexdigest()"
KEY_BUG = recompiled(utils.generate_content_hash, _HASH_LINE, "return {'mode': 1}[content]")
VALUE_BUG = recompiled(utils.generate_content_hash, _HASH_LINE, "return int(content)")


def make_app() -> tuple[FastAPI, list[BaseException]]:
    app = FastAPI()
    raised: list[BaseException] = []

    @app.post("/crawl/{job}")
    async def crawl(job: str, request: Request) -> dict[str, str]:
        payload = await request.json()
        try:
            return {"result": KEY_BUG(payload["url"])}
        except KeyError as exc:
            raised.append(exc)
            raise

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, str]:
        payload = await request.json()
        try:
            return {"result": VALUE_BUG(f"{payload['url']} {request.headers['authorization']}")}
        except ValueError as exc:
            raised.append(exc)
            raise

    @app.post("/mine")
    async def mine(request: Request) -> dict[str, str]:
        payload = await request.json()
        try:
            return {"result": payload["options"]["mode"]}  # the user's bug: "options" is optional
        except KeyError as exc:
            raised.append(exc)
            raise

    @app.get("/fetch")
    async def fetch() -> dict[str, str]:
        exc = ConnectionRefusedError(111, "Connect call failed")
        raised.append(exc)
        raise exc

    return app, raised


def escape_recorder(served: Served) -> None:
    class Recorder:  # outermost: sees what the telemetry middleware lets through
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                served.escaped.append(exc)
                raise

    served.app.add_middleware(Recorder)


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Served] = []

    def start(app: FastAPI) -> Served:
        served = Served(app)
        escape_recorder(served)
        started.append(served.start())
        return served

    yield start
    for served in started:
        served.stop()


def secret_request(served: Served, path: str = "/crawl/SECRET-PATH-1a?api_key=SECRET-QUERY-2b") -> int:
    return served.request(
        "POST", path,
        body={"url": "https://secret-host.example/page?token=SECRET-BODY-6f", "depth": 2},
        headers={"Authorization": "Bearer SECRET-AUTH-3c", "Cookie": "session=SECRET-COOKIE-4d",
                 "X-Api-Key": "SECRET-HEADER-5e", "User-Agent": "SECRET-AGENT-7g",
                 "Content-Type": "application/json"},
    )


def test_handler_errors_are_reported_without_request_data_and_reraised(serve, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    app, raised = make_app()
    assert init_server(app)  # the server's init: on by default, nobody has said no
    served = serve(app)
    assert secret_request(served) == 500
    assert secret_request(served, "/echo?api_key=SECRET-QUERY-2b") == 500
    assert telemetry.flush(10)

    # Re-raised unchanged, and the traceback the server logs has no telemetry frame in it.
    assert len(served.escaped) == 2 and all(a is b for a, b in zip(served.escaped, raised, strict=True))
    for exc in served.escaped:
        assert not any("integrations/server.py" in f.filename
                       for f in traceback.extract_tb(exc.__traceback__))

    events = sentry_server.wait_for_events(2)
    assert sorted(e["exception"]["values"][-1]["type"] for e in events) == ["KeyError", "ValueError"]
    for event in events:
        exc = event["exception"]["values"][-1]
        assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("asgi", True)
        assert event["level"] == "error"  # the server answered 500 and goes on serving
        assert exc["stacktrace"]["frames"][-1]["function"] == "generate_content_hash"
        assert event["environment"] == "api_server"
        assert event["contexts"]["telemetry"] == {"operation": "request", "component": "asgi"}
        assert "request" not in event
    raw = b"".join(sentry_server.raw_bodies())
    for secret in (*SECRETS, "127.0.0.1", str(served.port)):
        assert secret.encode() not in raw, secret


@pytest.mark.parametrize("request_to", [("GET", "/fetch"), ("POST", "/mine")])
def test_site_failures_and_the_handlers_own_bugs_are_not_reported(serve, sentry_server, monkeypatch,
                                                                   request_to):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    app, _ = make_app()
    assert init_server(app)
    served = serve(app)
    method, path = request_to
    assert served.request(method, path, body={"url": "https://example.com"}) == 500
    assert telemetry.flush(10)
    assert len(served.escaped) == 1
    assert sentry_server.events() == []


@pytest.mark.parametrize(("env", "reported"), [
    ({"CRAWL4AI_DOCKER": "true"}, True),
    ({"CRAWL4AI_API_SERVER": "true"}, True),
    # Any other container (this machine has /.dockerenv) is not our server: nothing is sent
    # until a person says yes.
    ({"CRAWL4AI_TELEMETRY_ENVIRONMENT": "container"}, False),
    ({"CRAWL4AI_DOCKER": "true", "CRAWL4AI_TELEMETRY": "0"}, False),
])
def test_on_by_default_only_where_the_server_says_it_is_ours(serve, sentry_server, monkeypatch, env, reported):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app, _ = make_app()
    app.add_middleware(TelemetryMiddleware)  # the middleware alone, no init call
    served = serve(app)
    assert secret_request(served) == 500
    assert telemetry.flush(10)
    assert len(served.escaped) == 1
    if reported:
        assert len(sentry_server.wait_for_events(1)) == 1
    else:
        assert sentry_server.events() == []  # flushed: nothing was ever queued
        # Seen and stopped by the gate (the container), or never looked at (telemetry off).
        expected = 0 if env.get("CRAWL4AI_TELEMETRY") == "0" else 1
        assert get_pipeline().stats["not_consented"] == expected


def test_init_does_nothing_while_telemetry_is_off_by_env(serve, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "0")
    app, _ = make_app()
    assert init_server(app) is False
    assert not any(m.cls is TelemetryMiddleware for m in app.user_middleware)
    served = serve(app)
    assert secret_request(served) == 500
    assert telemetry.flush(10)
    assert sentry_server.events() == []

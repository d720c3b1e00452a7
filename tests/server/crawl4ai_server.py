"""Crawl4AI's real API server (crawl4ai_server/, v0.9.2) run as its image runs it: Redis as in
``supervisord.conf`` (loopback, a password), then gunicorn with the image's command line and
environment in a copy of ``/app``, with this add-on installed and nothing else added.

Redis and Chromium come from Debian (the ``redis`` and ``chromium`` recipes of the justfile, which
``just test`` depends on); without them the tests skip with that reason. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import child_env
from tests.server.image import app_folder, gunicorn_command, image_env, install_browser

START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0
#: The operator's API token (entrypoint.sh reads it from a secret or the environment); also a
#: planted secret: it travels in every request's Authorization header.
API_TOKEN = "SECRET-TOKEN-0a1b2c3d4e5f"
REDIS_PASSWORD = "SECRET-REDIS-9z8y7x"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout:.0f} s")


def _stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def requirements() -> str | None:
    """Why the real server cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (`just redis`, as root: apt-get install redis-server)"
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        return "Chromium is not installed (`just chromium`)"
    return None


class Redis:
    """redis-server as supervisord.conf starts it: loopback, a password, its own folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--loglevel", "warning", "--bind", "127.0.0.1", "--port", str(self.port),
             "--requirepass", REDIS_PASSWORD, "--dir", str(folder), "--save", ""],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, 30)

    def stop(self) -> None:
        _stop(self.process)


class Server:
    """One gunicorn master (and its one uvicorn worker) serving Crawl4AI's app on 127.0.0.1."""

    def __init__(self, app_dir: Path, home: Path, redis: Redis, **env: str) -> None:
        self.port = free_port()
        self.home = home
        self.app_dir = app_dir
        self.run_env = env  # what `docker run -e` gave the container
        bind = f"127.0.0.1:{self.port}"
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        environment = image_env(child_env(home), redis_port=redis.port,
                                redis_password=REDIS_PASSWORD, bind=bind,
                                CRAWL4AI_API_TOKEN=API_TOKEN, **env)
        environment.pop("CRAWL4AI_TELEMETRY_ENVIRONMENT", None)
        self.log = home / f"gunicorn-{self.port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                gunicorn_command(gunicorn, bind), cwd=app_dir, env=environment,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            _wait_for_port(self.port, self.process, START_TIMEOUT)
            deadline = time.monotonic() + START_TIMEOUT
            while self.get("/health")[0] != 200:  # the lifespan (browser, queue) is done
                assert time.monotonic() < deadline, self.output()
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers={"Authorization": f"Bearer {API_TOKEN}",
                                  "Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            return self.request("GET", path)
        except OSError:
            return 0, b""

    def terminate(self, timeout: float = 60.0) -> float:
        """SIGTERM to the master, as supervisord and ``docker stop`` send it; seconds to exit."""
        start = time.monotonic()
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout)
        return time.monotonic() - start

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except OSError:
                pass
        _stop(self.process)


def outbox_entries(home: Path) -> list[Any]:
    """The server's outbox records (state, occurrences, carried), read from its home."""
    from crawl4ai.telemetry.outbox import LocalOutbox

    return LocalOutbox(str(home / ".crawl4ai" / "telemetry" / "outbox")).entries()


def outbox(home: Path) -> list[dict[str, Any]]:
    """The server's kept reports (state and exact bytes), read from its home like `reports`."""
    from crawl4ai.telemetry.outbox import LocalOutbox

    box = LocalOutbox(str(home / ".crawl4ai" / "telemetry" / "outbox"))
    return [{"state": e.state, "event": json.loads(box.read(e.event_id))} for e in box.entries()]


def start(tmp: Path, redis: Redis, **env: str) -> Server:
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    if not install_browser(home):
        pytest.skip("Chromium is not installed (`just chromium`)")
    app_dir = tmp / "app"
    if not app_dir.exists():
        app_folder(app_dir)
    return Server(app_dir, home, redis, **env)

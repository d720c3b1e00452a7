"""A real Bugsink (a self-hosted, Sentry-protocol error tracker) on 127.0.0.1, for end-to-end tests.

Bugsink is started from the installed ``bugsink`` package: SQLite in a temporary folder, its own
migrations, Django's server bound to 127.0.0.1 only, events digested synchronously (no worker
process), and no outbound network (phone-home off, no dogfood DSN, a dummy email backend).
A full-access API token comes from its ``create_auth_token`` management command; the team, the
project (and so the DSN) are created, and stored events read back, through its REST API.

One process does the setup and then serves, so Django starts once (~10 s in all, mostly the
migrations); use it as a session fixture.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

SETTINGS = '''
import os
from bugsink.settings.default import *  # noqa: F401,F403
from bugsink.settings.default import DATABASES

_DIR = os.environ["BUGSINK_TEST_DIR"]
SECRET_KEY = os.environ["BUGSINK_TEST_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
DATABASES["default"]["NAME"] = os.path.join(_DIR, "db.sqlite3")
DATABASES["snappea"]["NAME"] = os.path.join(_DIR, "snappea.sqlite3")
SENTRY_DSN = None  # Bugsink does not report its own errors anywhere
SNAPPEA = {"TASK_ALWAYS_EAGER": True}  # digest inside the request: no worker, no waiting
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
BUGSINK = {
    "BASE_URL": "http://127.0.0.1:" + os.environ["BUGSINK_TEST_PORT"],
    "SINGLE_USER": True,
    "SINGLE_TEAM": True,
    "USER_REGISTRATION": "CB_NOBODY",
    "PHONEHOME": False,
    "INGEST_STORE_BASE_DIR": os.path.join(_DIR, "ingestion"),
}
'''

# Migrate, print a full-access token, then serve (Django's own server, no autoreload).
LAUNCHER = '''
import io, sys
from contextlib import redirect_stdout
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
out = io.StringIO()
with redirect_stdout(out):
    call_command("create_auth_token")
print("TOKEN " + out.getvalue().strip(), flush=True)
call_command("runserver", "127.0.0.1:" + sys.argv[1], use_reloader=False, use_threading=True)
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bugsink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.dsn = ""
        self.project_id: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._log = directory / "bugsink.log"

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> Bugsink:
        (self.directory / "bugsink_test_settings.py").write_text(textwrap.dedent(SETTINGS))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "DJANGO_"))}
        env.update(
            PYTHONPATH=str(self.directory), DJANGO_SETTINGS_MODULE="bugsink_test_settings",
            BUGSINK_TEST_DIR=str(self.directory), BUGSINK_TEST_PORT=str(self.port),
            BUGSINK_TEST_SECRET=secrets.token_hex(32), PYTHONUNBUFFERED="1",
            CRAWL4AI_TELEMETRY_HOOK="0",
        )
        log = open(self._log, "w")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(self.port)], env=env, cwd=self.directory,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        deadline = time.monotonic() + timeout
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()  # blocks until migrations are done (or it died)
        if not line.startswith("TOKEN "):
            self.stop()
            raise RuntimeError(f"Bugsink did not start: {line!r}\n{self._log.read_text()[-3000:]}")
        self.token = line.split()[1]
        while time.monotonic() < deadline:
            try:
                self.api("GET", "projects/")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if self._proc.poll() is not None:
                    raise RuntimeError(f"Bugsink exited:\n{self._log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("Bugsink did not answer in time")
        team = self.api("POST", "teams/", {"name": "crawl4ai"})
        project = self.api("POST", "projects/", {"team": team["id"], "name": "crawl4ai-telemetry"})
        self.project_id = int(project["id"])
        self.dsn = self.api("GET", f"projects/{self.project_id}/")["dsn"]
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        if self._proc is not None and self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Bugsink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the REST API -----------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/api/canonical/0/{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def issues(self) -> list[dict[str, Any]]:
        return self.api("GET", f"issues/?project={self.project_id}")["results"]

    def events(self) -> list[dict[str, Any]]:
        """Every stored event of the project, in full (``data`` is the event as stored)."""
        out = []
        for issue in self.issues():
            for summary in self.api("GET", f"events/?issue={issue['id']}")["results"]:
                out.append(self.api("GET", f"events/{summary['id']}/"))
        return out

    def wait_for_events(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        events = self.events()
        while len(events) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            events = self.events()
        return events

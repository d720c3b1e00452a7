"""Planted secrets never leave the machine: what a whole process could give away.

One child interpreter runs a user script that lives in a folder named with a canary, started with
canary command-line arguments and canary environment variables. It logs canary lines, then fails
three ways nobody catches: in a thread, in an asyncio task and in the main thread (through
``sys.excepthook``). Sentry's Excepthook, Threading and Asyncio integrations route those errors
into our pipeline (as in a process we own), and the reports go through the real sentry-sdk
transport to the local server. Every test below searches those bytes and the child's outbox.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crawl4ai.telemetry import build_report
from tests.conftest import child_env
from tests.privacy.canary import (
    assert_absent,
    assert_only_placeholders,
    canary,
    outbox_blobs,
    server_blobs,
    word_count,
)
from tests.support.sentry_server import SentryServer

CHILD = '''
import asyncio, getpass, logging, os, socket, sys, threading

from crawl4ai import telemetry
from crawl4ai.telemetry.pipeline import get_pipeline
from crawl4ai.telemetry.providers.sentry import install_global_integrations

telemetry.enable()
logging.basicConfig(level=logging.INFO)
log = logging.getLogger("crawler")
log.info("starting with %s", os.environ["C4A_PRIVACY_CANARY"])
log.warning("arguments %s", sys.argv[1:])


class Job:
    def __init__(self, secret):
        self.secret = secret

    def run(self):
        local_secret = self.secret  # a local and a self attribute
        raise RuntimeError("thread job failed")


async def task_job():
    await asyncio.sleep(0)
    raise LookupError("task job failed")  # SOURCE_CANARY


async def main():
    # Inside a running loop, so that Sentry's Asyncio integration can patch it.
    ok = install_global_integrations(
        lambda exc, mech: get_pipeline().capture(exc, mechanism=mech, handled=False))
    assert ok, "global integrations not installed"
    thread = threading.Thread(target=Job(sys.argv[2]).run)
    thread.start()
    thread.join()
    task = asyncio.get_running_loop().create_task(task_job())
    await asyncio.wait([task])


asyncio.run(main())
log.error("about to fail for %s", os.environ["API_KEY"])
raise ValueError(
    f"crawl failed on {socket.gethostname()} as {getpass.getuser()} in {os.getcwd()} "
    f"home {os.path.expanduser('~')} with {sys.argv[1:]!r}"
)
'''


@dataclass
class Child:
    canaries: dict[str, str]
    result: subprocess.CompletedProcess[str]
    events: list[dict]
    blobs: dict[str, bytes]
    script_dir: Path
    home: Path
    extra: dict[str, str] = field(default_factory=dict)

    def event_with(self, exception_type: str) -> dict:
        for event in self.events:
            if event["exception"]["values"][-1]["type"] == exception_type:
                return event
        raise AssertionError(f"no report of {exception_type}; child stderr:\n{self.result.stderr[-3000:]}")


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory) -> Child:
    canaries = {k: canary() for k in ("dir", "file", "argv", "argv_self", "env", "env_key", "source")}
    script_dir = tmp_path_factory.mktemp(canaries["dir"])
    script = script_dir / f"{canaries['file']}_crawl.py"
    script.write_text(CHILD.replace("SOURCE_CANARY", canaries["source"]))
    home = tmp_path_factory.mktemp("home")
    with SentryServer() as server:
        env = child_env(
            home,
            CRAWL4AI_SENTRY_DSN=server.dsn,
            CRAWL4AI_TELEMETRY_ENVIRONMENT="library",
            CRAWL4AI_TELEMETRY_EXIT_TIMEOUT="15",
            C4A_PRIVACY_CANARY=canaries["env"],
            API_KEY=canaries["env_key"],
        )
        result = subprocess.run(
            [sys.executable, str(script), f"--token={canaries['argv']}", canaries["argv_self"]],
            cwd=script_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=90,
        )
        events = server.wait_for_events(3, timeout=15)
        blobs = {**server_blobs(server), **outbox_blobs(home)}
    return Child(canaries, result, events, blobs, script_dir, home)


def test_uncaught_exception_is_reported_without_secrets(child):
    assert child.result.returncode != 0 and "ValueError: crawl failed on" in child.result.stderr
    event = child.event_with("ValueError")
    value = event["exception"]["values"][-1]
    assert value["mechanism"]["type"] == "excepthook" and value["mechanism"]["handled"] is False
    assert event["level"] == "fatal"
    assert value["value"].startswith("<str> <host> <str> <user> <str> <path> <str> ~ <str> [<str>, <str>]")
    assert_only_placeholders(value["value"])
    assert len(child.events) == 3, [e["exception"]["values"][-1]["type"] for e in child.events]
    assert_absent(child.blobs, *child.canaries.values())


def test_uncaught_exception_in_a_thread(child):
    value = child.event_with("RuntimeError")["exception"]["values"][-1]
    assert value["mechanism"]["type"] == "threading" and value["value"] == "<str>"
    assert_absent(child.blobs, child.canaries["argv_self"])


def test_uncaught_exception_in_an_asyncio_task(child):
    value = child.event_with("LookupError")["exception"]["values"][-1]
    assert value["mechanism"]["type"] == "asyncio" and value["value"] == "<str>"
    assert_absent(child.blobs, child.canaries["source"])


def test_command_line_arguments_are_never_sent(child):
    assert child.canaries["argv"] in child.result.stderr  # the child really had them (it logged them)
    assert_absent(child.blobs, child.canaries["argv"], child.canaries["argv_self"], "--token")


def test_environment_variables_are_never_sent(child):
    assert_absent(child.blobs, child.canaries["env"], child.canaries["env_key"], "C4A_PRIVACY_CANARY",
                  "API_KEY", "LITELLM_LOCAL_MODEL_COST_MAP", "CRAWL4_AI_BASE_DIRECTORY")


def test_script_path_and_source_lines_are_never_sent(child):
    for event in child.events:
        for value in event["exception"]["values"]:
            for frame in value.get("stacktrace", {}).get("frames", []):
                assert "__main__" not in json.dumps(frame)
    assert_absent(child.blobs, child.canaries["dir"], child.canaries["file"], child.canaries["source"],
                  str(child.script_dir), "local_secret", "self.secret")


def test_log_lines_before_the_crash_are_never_sent(child):
    assert "starting with" in child.result.stderr and "about to fail" in child.result.stderr
    assert_absent(child.blobs, "starting with", "about to fail", child.canaries["env"], child.canaries["env_key"])
    for event in child.events:
        assert "breadcrumbs" not in event and "logentry" not in event and "logger" not in event


def test_host_user_and_home_are_never_sent(child):
    assert_absent(child.blobs, str(child.home), str(child.script_dir))
    try:
        raise ValueError("static")
    except ValueError as exc:
        baseline = build_report(exc).payload()
    for blob in child.blobs.values():
        for name in {socket.gethostname(), getpass.getuser()}:
            if len(name) >= 2:  # a short common name ("vm", "root") may occur by chance: compare
                assert word_count(name, blob) <= word_count(name, baseline), f"{name!r} was sent"
    real_home = os.path.expanduser("~")
    if len(real_home) > 1:
        assert_absent(child.blobs, real_home + "/")


def test_installed_package_lists_are_never_sent(child):
    for event in child.events:
        assert "modules" not in event and "packages" not in event.get("sdk", {})
        assert "integrations" not in event.get("sdk", {})
    # Installed here, but no report has any reason to name them.
    assert_absent(child.blobs, "questionary", "pexpect", "hypothesis", "nbclient", "ipywidgets")

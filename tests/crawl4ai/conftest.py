"""Fixtures for crawls with the real crawl4ai (see :mod:`tests.crawl4ai.crawling`)."""

from __future__ import annotations

import socket
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.crawl4ai.browser import Chromium, find_chromium
from tests.crawl4ai.crawling import Reports, Site
from tests.support.bugsink import Bugsink


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


@pytest.fixture
def refused_url() -> str:
    """A port nothing listens on: the connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def integration(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The crawl4ai integration, installed (the post-import hook normally did it already).
    Tests run as a library process (no TTY, not CI)."""
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_NO_CLOUD_NOTICE", "1")
    from crawl4ai.telemetry.integrations import crawl4ai as integration

    assert integration.install()
    yield integration
    integration.install()  # a test may have uninstalled it


@pytest.fixture
def reports(integration: types.ModuleType) -> Reports:
    return Reports(integration)


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bugsink]:
    """A real Bugsink on 127.0.0.1 (SQLite in a temporary folder), started once per session."""
    with Bugsink(tmp_path_factory.mktemp("bugsink")) as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One real Chromium per test process (browser tests share an xdist group: one in all)."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (`just chromium` installs Debian's as root)")
    browser = Chromium(executable)
    yield browser
    browser.close()


@pytest.fixture
def labelled(reports: Reports, record_property: Any) -> Iterator[Any]:
    """``labelled(subsystem, label)`` with label "bug", "operational" or "user": after the test,
    how many reports it made is recorded for the session's table (tests/conftest.py)."""
    labels: list[tuple[str, str]] = []
    yield lambda subsystem, label: labels.append((subsystem, label))
    events = reports.events() if labels else []
    # Every message of every report (causes included): the session measures how much of them
    # the scrubber kept (tests/conftest.py, "placeholder share").
    messages = [value.get("value", "") for event in events
                for value in event.get("exception", {}).get("values", [])]
    for subsystem, label in labels:
        record_property("labelled", {"subsystem": subsystem, "label": label,
                                     "reports": len(events), "messages": messages})

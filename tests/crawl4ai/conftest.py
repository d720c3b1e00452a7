"""Fixtures for crawls with the real crawl4ai (see :mod:`tests.crawl4ai.crawling`)."""

from __future__ import annotations

import socket
import types
from collections.abc import Iterator

import pytest

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

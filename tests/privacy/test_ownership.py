"""Whose code is a frame: decided by distribution (Crawl4AI's dependency closure), never by where a
file is installed. A user's own package installed with a real ``pip install`` is the user's, and
no name of it leaves in a report."""

from __future__ import annotations

import importlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crawl4ai.telemetry import build_report, cache, ownership
from crawl4ai.telemetry.pipeline import caches
from tests.privacy.canary import assert_absent, canary


@pytest.fixture
def user_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A small crawler package of the user's, built and installed by pip into a folder named
    ``site-packages`` that is on ``sys.path``: where ``pip install .`` would have put it."""
    names = {"dist": canary("acme"), "cls": "Acme" + canary("Widget"), "func": canary("harvest"),
             "error": "Acme" + canary("Failure")}
    source = tmp_path / "src"
    package = source / names["dist"]
    package.mkdir(parents=True)
    (source / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [project]
        name = "{names['dist']}"
        version = "1.0"
    """))
    (package / "__init__.py").write_text(textwrap.dedent(f"""
        import json

        class {names['error']}(RuntimeError):
            pass

        class {names['cls']}:
            def {names['func']}(self, text):
                return json.loads(text, object_hook=self.hook)

            def hook(self, obj):
                raise {names['error']}("{names['func']} could not use {names['cls']}")
    """))
    target = tmp_path / "lib" / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=240,
    )
    assert (target / names["dist"] / "__init__.py").exists()
    monkeypatch.syspath_prepend(str(target))
    module = importlib.import_module(names["dist"])
    yield module, names
    sys.modules.pop(names["dist"], None)


def _failure(module, names):
    widget = getattr(module, names["cls"])()
    try:
        getattr(widget, names["func"])('{"a": 1}')
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("the user's package did not raise")


def test_a_pip_installed_user_package_is_user_code(user_package):
    module, names = user_package
    assert ownership.owner_of_module(module.__name__).origin == ownership.USER
    exc = _failure(module, names)
    tb, owners = exc.__traceback__, []
    while tb is not None:
        owners.append(ownership.owner_of_frame(tb.tb_frame).origin)
        tb = tb.tb_next
    # this test, the package's method, json (stdlib), the package's hook
    assert owners[1] == ownership.USER and owners[-1] == ownership.USER
    assert ownership.STDLIB in owners


def test_no_name_of_a_pip_installed_user_package_leaves(user_package, reporting):
    module, names = user_package
    exc = _failure(module, names)
    payload = build_report(exc).payload()
    assert b'"filename":"json/decoder.py"' in payload, "the stdlib's frames should stay"
    assert b"<user code>(RuntimeError)" in payload
    from crawl4ai import telemetry

    telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    assert_absent({**sent.blobs, "build_report": payload}, *names.values())


def test_known_code_is_known_by_distribution():
    import crawl4ai.async_webcrawler
    import httpx
    import pydantic

    assert ownership.owner_of_module("crawl4ai.async_webcrawler").origin == ownership.CRAWL4AI
    assert ownership.owner_of_module(crawl4ai.async_webcrawler.__name__).file == "crawl4ai/async_webcrawler.py"
    assert ownership.owner_of_module(httpx.__name__) == ownership.Owner(ownership.LIBRARY, "httpx/__init__.py")
    assert ownership.owner_of_module(pydantic.__name__).origin == ownership.LIBRARY
    assert ownership.owner_of_module("json").origin == ownership.STDLIB
    assert ownership.owner_of_module("builtins").origin == ownership.STDLIB
    assert ownership.owner_of_module("crawl4ai.telemetry.raw_event").origin == ownership.TELEMETRY
    # pytest is installed in this venv, but crawl4ai does not need it: not a known library.
    assert ownership.owner_of_module("pytest").origin == ownership.USER


def test_a_file_that_only_borrows_a_known_name_is_user_code(tmp_path):
    for shadow in (tmp_path / "httpx" / "_client.py", tmp_path / "crawl4ai" / "async_webcrawler.py",
                   tmp_path / "requests.py"):
        assert ownership.owner_of_file(str(shadow), "httpx._client").origin == ownership.USER
    for typed in ("<stdin>", "<string>", "<ipython-input-3-abc>", ""):
        assert ownership.owner_of_file(typed, "__main__").origin == ownership.USER
    assert ownership.owner_of_file("<frozen importlib._bootstrap>").origin == ownership.STDLIB


def _rebuild() -> None:
    """What the worker does around a process's first report: load the cache, build, store."""
    ownership._reset_for_tests()
    caches._forget_for_tests()
    caches.load()
    ownership.prepare()
    caches.store()


def test_the_index_on_disk_is_private_and_names_nothing(home):
    _rebuild()
    path = Path(cache.path_of("code-index"))
    assert path.is_relative_to(home / ".crawl4ai" / "telemetry")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    for name in ("httpx", "pydantic", "litellm", "playwright", "site-packages", str(home)):
        assert name not in text


@pytest.mark.parametrize("tamper", ["garbage", "world-readable", "wrong origin", "symlink"])
def test_a_tampered_index_on_disk_is_ignored(home, tmp_path, tamper):
    _rebuild()
    path = Path(cache.path_of("code-index"))
    header, payload = path.read_bytes().split(b"\n", 1)
    data = json.loads(payload)
    if tamper == "garbage":
        path.write_text("{not json")
    elif tamper == "world-readable":
        # Every file known to be a user's (an empty index would say so too) but readable by all:
        # even with a correct digest, someone else may have written it.
        cache.store("code-index", {})
        os.chmod(path, 0o644)
    elif tamper == "wrong origin":
        path.write_bytes(header + b"\n" + json.dumps({key: "stdlib" for key in data}).encode())
    else:
        elsewhere = tmp_path / "elsewhere.json"
        cache.store("code-index", {})
        elsewhere.write_bytes(path.read_bytes())
        os.chmod(elsewhere, 0o600)
        path.unlink()
        path.symlink_to(elsewhere)
    ownership._reset_for_tests()
    caches._forget_for_tests()
    caches.load()
    assert ownership.owner_of_module("httpx").origin == ownership.LIBRARY


# -- an error at Crawl4AI's call into the user's code is the user's -----------------------------

_CALLER = """
def run_strategy(strategy, url):
    return strategy.crawl(url, "config", "extra")

def read_setting(config):
    return config.cache_mode

def parse_title(page):
    return page.title.strip()
"""


class UserStrategy:
    def crawl(self, url):  # one argument fewer than crawl4ai passes
        return url


class UserConfig:
    pass


def _raised(function, *args) -> BaseException:
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("no error")


def test_a_wrong_signature_or_a_missing_attribute_at_crawl4ais_call_is_the_users():
    import crawl4ai.async_webcrawler as module

    from crawl4ai.telemetry.integrations import crawl4ai as integration
    from tests.crawl4ai.crawling import crawl4ai_helper

    run_strategy = crawl4ai_helper(module, _CALLER, "run_strategy")
    read_setting = crawl4ai_helper(module, _CALLER, "read_setting")
    parse_title = crawl4ai_helper(module, _CALLER, "parse_title")
    wrong_signature = _raised(run_strategy, UserStrategy(), "https://example.com")
    missing_attribute = _raised(read_setting, UserConfig())
    crawl4ai_bug = _raised(parse_title, type("Page", (), {"title": None})())
    assert integration.classify(wrong_signature)[0] == integration.USER_CODE
    assert integration.classify(missing_attribute)[0] == integration.USER_CODE
    assert integration.classify(crawl4ai_bug)[0] == integration.BUG
    # And the report of such an error names none of the user's code.
    message = build_report(wrong_signature).event["exception"]["values"][-1]["value"]
    assert "UserStrategy" not in message and message.startswith("<user code>() takes")

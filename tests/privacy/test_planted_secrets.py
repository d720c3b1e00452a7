"""Planted secrets never leave the machine: every way data could ride along with an error, in
this process. Each test plants fresh canaries where a real crawl could carry them, reports through
the real pipeline and sentry-sdk transport, and searches every byte the server received and every
file of the local outbox. Each also checks the report arrived, so a lost report cannot pass.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import getpass
import json
import logging
import os
import socket
import sys
import threading
from urllib.parse import quote

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import build_report
from tests.privacy.canary import assert_absent, assert_only_placeholders, canary, word_count

# Exception groups and notes exist from Python 3.11 on; on 3.10 there is nothing to leak.
needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups and notes are 3.11+")
ExceptionGroup = getattr(builtins, "ExceptionGroup", Exception)  # noqa: A001


def _report(exc: BaseException, context: dict | None = None) -> None:
    telemetry.capture_exception(exc, context)


def _raise(exc: BaseException) -> None:
    raise exc


def _capture(exc: BaseException, context: dict | None = None) -> BaseException:
    try:
        _raise(exc)
    except BaseException as caught:  # noqa: BLE001 - the point is to report it
        _report(caught, context)
        return caught
    raise AssertionError("unreachable")


def _message(event: dict) -> str:
    return event["exception"]["values"][-1].get("value", "")


# -- what is in the message ------------------------------------------------------------------


def test_urls_in_any_form_are_never_sent(reporting):
    c = [canary() for _ in range(12)]
    forms = [
        f"https://{c[0]}.example.com/{c[1]}?q={c[2]}#frag",
        f"{c[3]}.example.org/path/{c[4]}",
        f"http://admin:{c[5]}@proxy.{c[6]}.net:8080/",
        quote(f"https://{c[7]}.example.com/x?y=1", safe=""),
        f"https://bücher-{c[8]}.de/straße",
        f"visit xn--{c[9]}-kva.de today",
        f"//{c[10]}.cdn.example.com/lib.js",
        f"www.{c[11]}.com",
    ]
    _capture(ValueError("Failed to parse " + " and ".join(forms) + ": unexpected character at line 3"))
    sent = reporting.collect(1)
    message = _message(sent.event_with("ValueError"))
    assert message.count("<url>") >= 5 and message.endswith("<number>")
    assert_only_placeholders(message)
    assert_absent(sent.blobs, *c)


def test_request_and_response_data_are_never_sent(reporting):
    c = [canary() for _ in range(5)]
    body = json.dumps({"query": c[0], "page": 2})
    response = f"HTTP/1.1 403 Forbidden\nContent-Type: text/html\n\n<html><body>{c[1]} denied</body></html>"
    _capture(RuntimeError(f"POST failed with body {body!r}; got {response!r}; form={c[2]}&user={c[3]}"),
             {"request": {"body": c[4]}, "response": c[1], "operation": "fetch"})
    sent = reporting.collect(1)
    assert sent.event_with("RuntimeError")["contexts"]["telemetry"] == {"operation": "fetch"}
    assert_absent(sent.blobs, *c)


def test_headers_are_never_sent(reporting):
    c = [canary() for _ in range(6)]
    headers = {"User-Agent": "crawler", "Authorization": f"Bearer {c[0]}", "X-Api-Key": c[1],
               "Referer": f"https://{c[2]}.example.com/"}
    text = "\n".join(f"{k}: {v}" for k, v in headers.items())
    _capture(RuntimeError(f"Connection refused.\n{text}\nheaders={headers!r}\nX-Forwarded-For: {c[3]}"),
             {"headers": headers, "operation": "fetch", "component": c[4] + "." + c[5] + ".com"})
    sent = reporting.collect(1)
    assert_only_placeholders(_message(sent.event_with("RuntimeError")))
    assert_absent(sent.blobs, *c)


def test_cookies_are_never_sent(reporting):
    c = [canary() for _ in range(5)]
    _capture(RuntimeError(f"Connection reset by peer. Cookie: sessionid={c[0]}; theme={c[1]}\n"
                          f"Set-Cookie: token={c[2]}; Path=/; HttpOnly\ncookies={ {'sid': c[3]}!r}"),
             {"cookies": {"sid": c[4]}})
    sent = reporting.collect(1)
    assert_only_placeholders(_message(sent.event_with("RuntimeError")))
    assert_absent(sent.blobs, *c)


def test_tokens_and_keys_are_never_sent(reporting):
    # Raised from this test (user code): only words known code contains survive the allowlist.
    c = [canary() for _ in range(11)]
    jwt = ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=")
                   for p in ({"alg": "HS256"}, {"sub": c[4]})) + "." + c[5]
    basic = base64.b64encode(f"user:{c[6]}".encode()).decode()
    tokens = [
        f"sk-proj-{c[0]}Xy91",
        f"AKIA{c[1][:16].upper()}",
        f"ghp_{c[2]}{c[2]}",
        f"xoxb-1234-{c[3]}",
        jwt,
        f"Authorization: Basic {basic}",
        f"password={c[7]}",
        f"{{'api_key': '{c[8]}'}}",
        f"access_token: {c[9]}",
        "".join(reversed(c[10])) + "Q7x9ZkW2" + c[10].upper() + "93",  # long high-entropy
    ]
    _capture(PermissionError("Provider refused the key; tried " + " , ".join(tokens)))
    sent = reporting.collect(1)
    assert_only_placeholders(_message(sent.event_with("PermissionError")))
    assert_absent(sent.blobs, *c[:10], c[10].upper())


def test_crawled_content_is_never_sent(reporting):
    c = [canary() for _ in range(8)]
    page = f"<!DOCTYPE html><html><head><title>{c[0]}</title></head><body><div class='post'><p>{c[1]}</p></div></body></html>"
    markdown = f"# {c[2]}\n\nSee [{c[3]}](https://example.com/a) and **{c[4]}**."
    prose = " ".join(["The quick brown fox jumps over the lazy dog"] * 6) + f" {c[5]}."
    _capture(ValueError(f"LLM did not return valid JSON: {prose}"))
    _capture(RuntimeError(f"Failed to extract from {page}"))
    _capture(LookupError(f"No match in\n{markdown}\nnor in {c[6]!r} nor in &lt;p&gt;{c[7]}&lt;/p&gt;"))
    sent = reporting.collect(3)
    assert_only_placeholders(_message(sent.event_with("ValueError")))
    # "extract" is kept only where known code on the stack contains the word.
    assert _message(sent.event_with("RuntimeError")).endswith("<markup>")
    assert_only_placeholders(_message(sent.event_with("RuntimeError")))
    assert_absent(sent.blobs, *c)


def test_ip_addresses_are_never_sent(reporting):
    ips = ["203.0.113.77", "198.51.100.23:8080", "2001:db8:85a3::8a2e:370:7334", "[fe80::1ff:fe23:4567:890a]:443",
           "::ffff:192.0.2.128"]
    _capture(ConnectionError("Cannot reach " + ", ".join(ips)))
    sent = reporting.collect(1)
    assert _message(sent.event_with("ConnectionError")).count("<ip>") == 5
    assert_absent(sent.blobs, "203.0.113.77", "198.51.100.23", "8a2e:370:7334", "fe80::1ff", "192.0.2.128")


def test_host_names_are_never_sent(reporting):
    c = [canary() for _ in range(4)]
    hostname = socket.gethostname()
    _capture(ConnectionError(f"Cannot connect to host {c[0]}.internal.example.com:443 ssl:default; "
                             f"db-{c[1]}.corp.lan down; hostname={c[2]}; connect to host {c[3]}:5432; "
                             f"this machine is {hostname}"))
    sent = reporting.collect(1)
    assert_only_placeholders(_message(sent.event_with("ConnectionError")))
    assert_absent(sent.blobs, *c)
    _assert_names_absent(sent, [hostname], planted_in="ConnectionError")


def test_user_names_are_never_sent(reporting):
    user = getpass.getuser()
    c = canary()
    _capture(PermissionError(f"user {user} may not write /home/{c}/out and C:\\Users\\{c}x\\out"))
    sent = reporting.collect(1)
    assert_absent(sent.blobs, c)
    _assert_names_absent(sent, [user], planted_in="PermissionError")


def _assert_names_absent(sent, names: list[str], planted_in: str) -> None:
    """A machine's own name may be a short common word ("vm", "root"): it must not occur in the
    planted report more often than in a report of the same kind that never contained it."""
    planted = json.dumps(sent.event_with(planted_in)).encode()
    try:
        raise ValueError("static")
    except ValueError as exc:
        baseline = build_report(exc).payload()
    for name in names:
        if len(name) < 2:
            continue
        assert word_count(name, planted) <= word_count(name, baseline), f"{name!r} found in the report"


def test_home_directory_paths_are_never_sent(reporting, home):
    c = [canary() for _ in range(3)]
    real_home = os.path.expanduser("~")
    _capture(FileNotFoundError(2, "No such file or directory", f"{home}/{c[0]}/data.json"))
    _capture(OSError(f"cannot read {real_home}/{c[1]} nor ~/{c[2]}/x nor {home}"))
    sent = reporting.collect(2)
    assert_absent(sent.blobs, *c, str(home))
    assert _message(sent.event_with("FileNotFoundError")) == "[Errno <number>] No such file or directory: '<path>'"


# -- where else data could sit ---------------------------------------------------------------


def test_exception_args_reprs_are_never_sent(reporting):
    c = [canary() for _ in range(6)]

    class Rejected(Exception):
        def __init__(self, page: str, payload: dict) -> None:
            super().__init__(page, payload, [c[2]], c[3].encode())
            self.page = page

    _capture(Rejected(c[0], {"k": c[1]}))
    _capture(KeyError(c[4]))
    _capture(ValueError(c[5] + "'s page"))  # an apostrophe in data is not a quote
    sent = reporting.collect(3)
    assert sent.event_with("<user code>(Exception)")
    assert _message(sent.event_with("KeyError")) == "<str>"
    assert_absent(sent.blobs, *c[:5])


@needs_311
def test_notes_are_never_sent(reporting):
    c = [canary() for _ in range(3)]
    exc = RuntimeError("crawl failed")
    exc.add_note(f"while crawling https://{c[0]}.example.com/")
    exc.add_note(f"as {c[1]}@{c[2]}.org")
    _capture(exc)
    sent = reporting.collect(1)
    assert _message(sent.event_with("RuntimeError")) == "<str>\n<str> <url>\n<str> <email>"
    assert_absent(sent.blobs, *c)


def test_chained_exceptions_are_never_sent(reporting):
    c = [canary() for _ in range(4)]
    try:
        try:
            try:
                raise OSError(f"connect to {c[0]}.example.com failed")
            except OSError as low:
                raise ConnectionError(f"fetch https://{c[1]}.example.com") from low
        except ConnectionError:
            raise RuntimeError(f"crawl of '{c[2]}' failed; cookie={c[3]}")  # noqa: B904 - implicit context
    except RuntimeError as top:
        _report(top)
    sent = reporting.collect(1)
    event = sent.event_with("RuntimeError")
    assert Sent_types(event) == ["OSError", "ConnectionError", "RuntimeError"]
    assert_absent(sent.blobs, *c)


def Sent_types(event: dict) -> list[str]:  # noqa: N802 - reads like the other helpers' output
    return [v["type"] for v in event["exception"]["values"]]


@needs_311
def test_grouped_exceptions_are_never_sent(reporting):
    c = [canary() for _ in range(4)]
    inner = ExceptionGroup("inner", [KeyError(c[0]), ValueError(f"bad {c[1]}@example.com")])
    note = TypeError("x")
    note.add_note(f"https://{c[2]}.example.com")
    group = ExceptionGroup(f"2 crawls failed at /srv/{c[3]}/run", [inner, note])
    _capture(group)
    sent = reporting.collect(1)
    types = Sent_types(sent.event_with("ExceptionGroup"))
    assert {"ExceptionGroup", "KeyError", "ValueError", "TypeError"} <= set(types)
    assert_absent(sent.blobs, *c)


def test_local_variables_self_and_source_lines_are_never_sent(reporting):
    c = [canary() for _ in range(4)]

    class Crawler:
        def __init__(self) -> None:
            self.api_key = c[0]

        def run(self, url: str) -> None:
            page_text = c[2]  # noqa: F841 - a local that must not travel
            raise RuntimeError("extraction failed")  # the source line itself carries a canary: cnsourcelinecanary

    try:
        Crawler().run(f"https://{c[1]}.example.com/")
    except RuntimeError as exc:
        _report(exc)
    sent = reporting.collect(1)
    event = sent.event_with("RuntimeError")
    assert all(f == {"filename": "<user code>", "in_app": False}
               for f in event["exception"]["values"][-1]["stacktrace"]["frames"])
    assert_absent(sent.blobs, *c, "cnsourcelinecanary", "extraction failed\")")


def test_log_lines_are_never_sent(reporting, caplog):
    c = [canary() for _ in range(2)]
    log = logging.getLogger("tests.privacy.app")
    log.warning("fetching %s", c[0])
    try:
        raise ValueError("parse failed")
    except ValueError as exc:
        log.exception("failed with %s", c[1])
        _report(exc)
    sent = reporting.collect(1)
    assert c[0] in caplog.text  # the log line really was emitted
    assert_absent(sent.blobs, *c)


def test_context_dict_keeps_only_telemetry_keys(reporting):
    c = [canary() for _ in range(7)]
    context = {"operation": f"https://{c[0]}.example.com/x", "component": "fetcher", "stage": f"{c[1]}@example.com",
               "url": c[2], "headers": {"Cookie": c[3]}, "html": f"<p>{c[4]}</p>", "cookies": c[5],
               "custom": c[6], "occurrences": 2}
    _capture(RuntimeError("fetch failed"), context)
    sent = reporting.collect(1)
    # Values are enumerated: a free string or a number under an allowed key goes too.
    assert "telemetry" not in sent.event_with("RuntimeError")["contexts"]
    assert_absent(sent.blobs, *c)


# -- every way an error is seen --------------------------------------------------------------


def test_every_decorator_and_context_manager(reporting):
    c = [canary() for _ in range(8)]

    def sync_job(url: str) -> None:
        raise ValueError(f"sync failed for {url}")

    async def async_job(url: str) -> None:
        raise KeyError(url)

    sync_job.__qualname__ = sync_job.__name__ = f"sync_{c[0]}"  # a user's function name is user source
    async_job.__qualname__ = async_job.__name__ = f"async_{c[1]}"
    decorated = telemetry.telemetry_decorator(operation="extract", url=c[2])(sync_job)
    async_decorated = telemetry.async_telemetry_decorator(async_job)

    with pytest.raises(ValueError):
        decorated(f"https://{c[3]}.example.com")
    with pytest.raises(KeyError):
        asyncio.run(async_decorated(f"https://{c[4]}.example.com"))
    with pytest.raises(LookupError):
        with telemetry.telemetry_context("scrape", url=c[5]):
            raise LookupError(f"no element in '{c[6]}'")

    async def in_async_context() -> None:
        async with telemetry.async_telemetry_context("fetch", cookies=c[7]):
            raise TimeoutError(f"timeout on {c[7]}.example.com")

    with pytest.raises(TimeoutError):
        asyncio.run(in_async_context())
    sent = reporting.collect(4)
    decorator_event = sent.event_with("ValueError")
    assert decorator_event["exception"]["values"][-1]["mechanism"]["type"] == "decorator"
    assert decorator_event["contexts"]["telemetry"] == {
        "operation": "extract", "function": "<user code>", "module": "<user code>"}
    assert sent.event_with("LookupError")["contexts"]["telemetry"] == {"operation": "scrape"}
    assert_absent(sent.blobs, *c)


def test_threads(reporting):
    c = [canary() for _ in range(2)]

    @telemetry.telemetry_decorator
    def worker(url: str) -> None:
        raise ValueError(f"worker failed on {url}")

    def manual(url: str) -> None:
        try:
            raise RuntimeError(f"manual failure at {url}")
        except RuntimeError as exc:
            telemetry.capture_exception(exc, {"url": url})

    def swallow(fn, arg):
        try:
            fn(arg)
        except ValueError:
            pass

    threads = [threading.Thread(target=swallow, args=(worker, f"https://{c[0]}.example.com/")),
               threading.Thread(target=manual, args=(f"http://{c[1]}.example.org",))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    sent = reporting.collect(2)
    assert sent.event_with("ValueError") and sent.event_with("RuntimeError")
    assert_absent(sent.blobs, *c)


async def test_asyncio_tasks(reporting):
    c = [canary() for _ in range(3)]

    @telemetry.async_telemetry_decorator
    async def crawl(url: str) -> None:
        await asyncio.sleep(0)
        raise ConnectionError(f"reset by {url}")

    async def guarded(url: str) -> None:
        async with telemetry.async_telemetry_context("task"):
            await asyncio.sleep(0)
            raise OSError(f"no route to {url}")

    tasks = [asyncio.create_task(crawl(f"https://{c[0]}.example.com")),
             asyncio.create_task(guarded(f"{c[1]}.example.net:8443")),
             asyncio.create_task(crawl(f"https://{c[2]}.example.com"))]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    # Two failures of one bug: one report that counts both (neither URL is in it).
    sent = await asyncio.to_thread(reporting.collect, 2)
    assert sent.event_with("ConnectionError") and sent.event_with("OSError")
    assert sent.event_with("ConnectionError")["contexts"]["telemetry"]["occurrences"] == 2
    assert_absent(sent.blobs, *c)

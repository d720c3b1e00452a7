"""The scrubber rebuilds a report from an allowlist: whatever it does not know is dropped (and
counted), never passed. It is pure: the input is untouched and the same input gives the same
report; scrubbing a scrubbed report changes nothing."""

from __future__ import annotations

import copy
from collections import Counter

from crawl4ai.telemetry.scrub import scrub_event

RAW = {
    "event_id": "0123456789abcdef0123456789abcdef",
    "timestamp": "2024-05-01T10:00:00Z",
    "platform": "python",
    "level": "error",
    "release": "crawl4ai@0.9.5",
    "environment": "library",
    "server_name": "build-box-7.corp.example.com",
    "modules": {"requests": "2.31.0", "internal-secret-pkg": "1.0"},
    "extra": {"sys.argv": ["crawl.py", "--key", "abc"]},
    "breadcrumbs": {"values": [{"message": "GET https://example.com"}]},
    "request": {"url": "https://example.com", "headers": {"Cookie": "a=b"}},
    "logentry": {"message": "log line"},
    "threads": {"values": [{"id": 1}]},
    "user": {"email": "me@example.com", "id": "42", "ip_address": "203.0.113.9", "username": "alice"},
    "sdk": {"name": "crawl4ai.telemetry", "version": "0.1.0", "packages": [{"name": "pypi:requests"}],
            "integrations": ["logging"]},
    "tags": {"environment": "library", "crawl4ai_version": "0.9.5", "hostname": "build-box-7",
             "python_version": "3.11.7", "url": "https://example.com"},
    "contexts": {
        "runtime": {"name": "CPython", "version": "3.11.7", "build": "/home/alice/.pyenv/…"},
        "os": {"name": "Linux", "release": "6.5.0", "kernel_version": "#1 SMP build-box-7"},
        "crawl4ai": {"version": "0.9.5", "telemetry_version": "0.1.0", "environment": "library", "cwd": "/srv/x"},
        "device": {"arch": "x86_64"},
        "trace": {"trace_id": "abc"},
        "telemetry": {"operation": "extract", "url": "https://example.com", "occurrences": 3},
    },
    "exception": {"values": [{
        "type": "ValueError",
        "value": "bad https://example.com/x",
        "module": None,
        "thread_id": 7,
        "mechanism": {"type": "decorator", "handled": True, "data": {"url": "https://example.com"},
                      "exception_id": 0},
        "stacktrace": {"frames": [
            {"filename": "/home/alice/app/crawl.py", "abs_path": "/home/alice/app/crawl.py",
             "function": "main", "module": "__main__", "lineno": 3,
             "context_line": "crawl('https://example.com')", "pre_context": ["x"], "post_context": ["y"],
             "vars": {"token": "abc"}, "in_app": True},
            {"filename": "crawl4ai/async_webcrawler.py", "abs_path": "/venv/lib/crawl4ai/async_webcrawler.py",
             "module": "crawl4ai.async_webcrawler", "function": "AsyncWebCrawler.arun", "lineno": 120,
             "vars": {"url": "https://example.com"}, "context_line": "raise", "in_app": True},
        ]},
    }]},
    "fingerprint": ["ValueError", "crawl4ai.async_webcrawler:AsyncWebCrawler.arun", "https://example.com"],
}


def test_unknown_fields_are_dropped_at_every_level_and_counted():
    removed: Counter[str] = Counter()
    event = scrub_event(copy.deepcopy(RAW), removed)
    assert set(event) == {"event_id", "timestamp", "platform", "level", "release", "environment",
                          "exception", "contexts", "tags", "user", "fingerprint", "sdk"}
    assert event["user"] == {"email": "me@example.com"}
    assert event["sdk"] == {"name": "crawl4ai.telemetry", "version": "0.1.0"}
    assert event["tags"] == {"environment": "library", "crawl4ai_version": "0.9.5", "python_version": "3.11.7"}
    assert event["contexts"] == {
        "runtime": {"name": "CPython", "version": "3.11.7"},
        "os": {"name": "Linux", "release": "6.5.0"},
        "crawl4ai": {"version": "0.9.5", "telemetry_version": "0.1.0", "environment": "library"},
        "telemetry": {"operation": "extract", "occurrences": 3},
    }
    value = event["exception"]["values"][0]
    assert value == {
        "type": "ValueError",
        "value": "<str> <url>",  # no code on the stack writes "bad {}": its words go too
        "mechanism": {"type": "decorator", "handled": True, "exception_id": 0},
        "stacktrace": {"frames": [
            {"filename": "<user code>", "in_app": False},
            {"filename": "crawl4ai/async_webcrawler.py", "module": "crawl4ai.async_webcrawler",
             "function": "AsyncWebCrawler.arun", "lineno": 120, "in_app": True},
        ]},
    }
    assert event["fingerprint"] == ["ValueError", "crawl4ai.async_webcrawler:AsyncWebCrawler.arun"]
    assert removed["field"] >= 7 and removed["user"] == 3 and removed["context"] >= 3
    assert removed["path"] == 1 and removed["frame_data"] >= 8 and removed["url"] == 1


def test_scrubbing_is_pure_and_idempotent():
    raw = copy.deepcopy(RAW)
    first = scrub_event(raw)
    assert raw == RAW  # the input is not modified
    assert scrub_event(copy.deepcopy(RAW)) == first  # same input, same report
    assert scrub_event(first) == first  # Sentry's before_send runs it again


def test_anything_that_is_not_a_report_becomes_an_empty_one():
    assert scrub_event(None) == {}  # type: ignore[arg-type]
    assert scrub_event({"exception": "x", "contexts": [], "user": "me", "fingerprint": "f"}) == {
        "platform": "python", "level": "error", "contexts": {}, "tags": {}}


def test_fields_with_free_shapes_keep_only_enumerated_or_known_values():
    """A field whose shape would fit any word (a mechanism's name, a kernel's release, a frame's
    function under a known module) keeps only what is enumerated or what known code defines."""
    event = copy.deepcopy(RAW)
    event["contexts"]["os"] = {"name": "Linux", "release": "6.1.0-cnsecretbox-x86_64"}
    value = event["exception"]["values"][0]
    value["mechanism"]["type"] = "cnsecretmech"
    value["stacktrace"]["frames"][1]["function"] = "AsyncWebCrawler.cnsecretfn"
    event["fingerprint"] = ["ValueError", "crawl4ai.async_webcrawler:cnsecretfp",
                            "crawl4ai.async_webcrawler:AsyncWebCrawler.arun"]
    out = scrub_event(event)
    assert out["contexts"]["os"] == {"name": "Linux", "release": "6.1.0-x86_64"}
    assert "type" not in out["exception"]["values"][0]["mechanism"]
    assert out["exception"]["values"][0]["stacktrace"]["frames"][1] == {"filename": "<user code>", "in_app": False}
    assert out["fingerprint"] == ["ValueError", "crawl4ai.async_webcrawler:AsyncWebCrawler.arun"]
    assert "cnsecret" not in repr(out)


def test_every_capture_point_names_an_operation_and_a_mechanism_the_scrubber_keeps():
    from crawl4ai.telemetry.integrations.crawl4ai.points import CAPTURE_POINTS, PROCESS_MECHANISMS
    from crawl4ai.telemetry.scrub import schema

    names = {p.mechanism for p in CAPTURE_POINTS} | set(PROCESS_MECHANISMS)
    assert names <= schema.MECHANISMS
    assert names <= schema.OPERATIONS


def test_a_string_that_claims_to_equal_every_allowed_value_is_judged_by_its_content():
    class Agreeable(str):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, str)  # equal to every allowed word: the trick under test

        def __hash__(self) -> int:
            return hash("crawl")

    event = {"contexts": {"telemetry": {"operation": Agreeable("cnsecretop"), "stage": "fetch"}}}
    out = scrub_event(event)
    assert out["contexts"]["telemetry"] == {"stage": "fetch"}
    assert "cnsecret" not in repr(out)

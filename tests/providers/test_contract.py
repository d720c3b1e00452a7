"""The provider contract: both documented shapes receive reports through the real pipeline, a
provider plugged in at runtime is used and shown, and nothing unscrubbed ever reaches one."""

from __future__ import annotations

import json
import os

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import providers
from crawl4ai.telemetry.base import DeliveryResult, ScrubbedException, TelemetryProvider
from tests.conftest import run_python
from tests.privacy.canary import assert_absent, canary


class SeedStyle(TelemetryProvider):
    """The docs' first example: only ``send_exception``, returning nothing."""

    def __init__(self):
        self.received = []

    def send_exception(self, exc, context=None):
        self.received.append((exc, context))


class EventStyle(TelemetryProvider):
    name = "events"

    def __init__(self):
        self.events = []

    def send_event(self, event):
        self.events.append(event)
        return True

    def destination(self):
        return "events at collector.invalid"


@pytest.fixture(autouse=True)
def no_runtime_provider():
    yield
    providers.use(None)


def fail(kind: type[Exception] = RuntimeError, message: str = "boom") -> None:
    try:
        raise kind(message)
    except kind as exc:
        telemetry.capture_exception(exc)


def consent_always(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()


def _blobs_of(exc: BaseException, context) -> dict[str, bytes]:
    """Everything a provider could read from what it was handed."""
    blobs = {"context": json.dumps(context, default=repr).encode()}
    hops = 0
    while exc is not None and hops < 10:
        blobs[f"exc[{hops}]"] = "\n".join([
            repr(exc), str(exc), type(exc).__name__, type(exc).__module__, repr(exc.args),
            repr(vars(exc)), json.dumps(getattr(exc, "event", None), default=repr),
            repr(getattr(exc, "__notes__", None)),
        ]).encode()
        assert exc.__traceback__ is None
        exc = exc.__cause__ or exc.__context__
        hops += 1
    return blobs


def test_a_send_exception_only_provider_receives_a_scrubbed_stand_in(home, monkeypatch):
    provider = SeedStyle()
    telemetry.use_provider(provider)
    consent_always(monkeypatch)  # consent is bound to the provider in use: agree after choosing it
    host, token, user = canary("host"), "ghp_" + canary("tk") + "0123456789ABCDEF", canary("usr")
    url = f"https://{user}:pw@{host}.example.com/private?session={canary('q')}"
    path = str(home / canary("dir") / "notes.txt")
    secrets_in_locals = canary("local")  # noqa: F841 - a local the report must not carry

    def crawl():
        try:
            raise ConnectionError(f"cannot reach {host}.internal")
        except ConnectionError as inner:
            raise ValueError(f"failed {url} with {token} for {user}@{host}.org at {path}") from inner

    try:
        crawl()
    except ValueError as exc:
        telemetry.capture_exception(exc, {"operation": "crawl", "url": url, "headers": token,
                                          "component": f"{host}.example.com"})
    assert telemetry.flush(10)
    [(exc, context)] = provider.received
    assert isinstance(exc, ScrubbedException) and isinstance(exc, Exception)
    assert type(exc).__name__ == "ValueError"
    assert type(exc.__cause__).__name__ == "ConnectionError"
    assert context["operation"] == "crawl" and "url" not in context and "headers" not in context
    blobs = _blobs_of(exc, context)
    assert_absent(blobs, host, token, user, url, path, canary_word(path), "secrets_in_locals")
    # The outbox records it as delivered: returning nothing means "accepted".
    counts = telemetry.status()["outbox"]["counts"]
    assert {state: n for state, n in counts.items() if n} == {"sent": 1}


def canary_word(path: str) -> str:
    return os.path.basename(os.path.dirname(path))


def test_a_send_event_provider_keeps_working_and_a_false_keeps_the_report(home, monkeypatch):
    class Refusing(EventStyle):
        def send_event(self, event):
            super().send_event(event)
            return False

    provider = Refusing()
    telemetry.use_provider(provider)
    consent_always(monkeypatch)  # consent is bound to the provider in use: agree after choosing it
    try:
        raise KeyError("missing")
    except KeyError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    [event] = provider.events
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    counts = telemetry.status()["outbox"]["counts"]
    assert {state: n for state, n in counts.items() if n} == {"pending": 1}
    result = provider.deliver(event)
    assert isinstance(result, DeliveryResult) and not result.accepted


def test_use_provider_shows_in_status_and_none_goes_back(home, monkeypatch):
    provider = EventStyle()
    shown = telemetry.use_provider(provider)
    assert (shown["provider"], shown["destination"]) == ("events", "events at collector.invalid")
    telemetry.use_provider(None)
    assert telemetry.status()["destination"] == "local outbox only (no DSN configured)"
    with pytest.raises(TypeError):
        telemetry.use_provider(object())


def test_a_runtime_provider_obeys_consent_like_any_destination(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    provider = EventStyle()
    telemetry.use_provider(provider)
    for consent in ("not_set", "denied"):
        if consent == "denied":
            telemetry.disable()
        fail(RuntimeError, consent)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "0")
    telemetry.enable()
    fail(RuntimeError, "env off")
    assert telemetry.flush(10)
    assert provider.events == []


SCRIPT = r"""
from crawl4ai import telemetry
from crawl4ai.telemetry.base import TelemetryProvider

class Collector(TelemetryProvider):
    name = "collector"
    def __init__(self):
        self.seen = []
    def send_exception(self, exc, context=None):
        self.seen.append(type(exc).__name__)
    def destination(self):
        return "collector in this script"

collector = Collector()
print(telemetry.use_provider(collector)["destination"])
telemetry.enable()
try:
    {}["k"]
except KeyError as e:
    telemetry.capture_exception(e)
telemetry.flush(10)
print(collector.seen)
"""


def test_use_provider_works_from_a_plain_script(home):
    result = run_python(SCRIPT, home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["collector in this script", "['KeyError']"]


def test_built_in_providers_are_found_through_the_entry_points_like_any_other():
    from importlib.metadata import entry_points

    registered = {ep.name: ep.value for ep in entry_points(group=providers.ENTRY_POINT_GROUP)}
    assert {"sentry", "local", "memory"} <= set(registered)
    for name in ("sentry", "local", "memory"):
        cls = providers.load_class(name)
        assert f"{cls.__module__}:{cls.__qualname__}" == registered[name]


def test_an_unknown_provider_keeps_reports_local_and_says_so(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_PROVIDER", "nonexistent")
    status = telemetry.status()
    assert status["provider"] == "local" and status["keeps_locally"]
    assert any("'nonexistent' could not be loaded" in p for p in status["problems"])


def test_the_interface_imports_no_implementation(home):
    # What importing the interface adds to what ``import crawl4ai`` (and its activation) loaded.
    result = run_python(
        "import sys, crawl4ai; before = set(sys.modules); import crawl4ai.telemetry.base; "
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('crawl4ai.telemetry.')))",
        home)
    assert result.returncode == 0, result.stderr
    loaded = set(eval(result.stdout))
    assert "crawl4ai.telemetry.providers.base" in loaded
    assert not loaded & {"crawl4ai.telemetry.providers.sentry", "crawl4ai.telemetry.providers.local",
                         "crawl4ai.telemetry.providers.memory", "crawl4ai.telemetry.report_builder",
                         "crawl4ai.telemetry.scrub", "crawl4ai.telemetry.pipeline"}

"""A word survives only where the raising code's own format string puts it (issue 25).

Each shape below leaked on the vocabulary rule ("does known code contain this word?"): a secret
that is an ordinary word some known code also contains, sitting in the variable part of a
message. Each goes through the real pipeline and sentry-sdk transport to the local server; every
byte it received and every file of the outbox is searched. The over-redaction the vocabulary rule
had (a Playwright ``Response`` shown as ``'<user code>' object``, ``base 10`` as ``base <number>``)
is gone: those holes are proved to be code by the code and by the objects the exception carries.
"""

from __future__ import annotations

import crawl4ai.async_crawler_strategy as strategies
import crawl4ai.extraction_strategy as extraction
import pytest
import yaml
from crawl4ai.async_configs import ProxyConfig

from crawl4ai import telemetry
from crawl4ai.telemetry.report_builder import build_report
from crawl4ai.telemetry.scrub import scrub_event
from tests.crawl4ai.crawling import crawl4ai_helper
from tests.privacy.canary import (
    assert_absent,
    assert_only_placeholders,
    cache_blobs,
    canary,
    word_count,
)


def _capture(function, *args) -> BaseException:
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001 - the point is to report it
        telemetry.capture_exception(exc)
        return exc
    raise AssertionError("it did not fail")


def _value(event: dict) -> str:
    return event["exception"]["values"][-1]["value"]


def _nowhere(sent, *words: str) -> None:
    """None of ``words`` anywhere in what left, as a whole word in any case, nor encoded."""
    for name, blob in sent.blobs.items():
        for word in words:
            assert word_count(word, blob) == 0, f"{word!r} left in {name}"
    assert_absent(sent.blobs, *(w for w in words if len(w) >= 6))


@pytest.mark.parametrize("password", ["service", "access", "default", "format"])
def test_a_proxy_password_that_is_a_word_of_crawl4ai_is_not_kept(reporting, password):
    """crawl4ai's proxy parser echoes the string it rejects: ``<ip>:<user> <password>``."""
    _capture(ProxyConfig.from_string, f"10.0.0.7:8080:operator {password}")
    sent = reporting.collect(1)
    value = _value(sent.events[0])
    assert value.startswith("Invalid proxy string format: <"), value  # the template's text stays
    assert_only_placeholders(value.removeprefix("Invalid proxy string format: "))
    assert "operator" not in value and value.count(password) == ("format" in password)


def test_a_yaml_config_line_with_a_password_is_not_kept(reporting):
    """PyYAML's scanner echoes the user's config line; its password is a word crawl4ai writes."""
    config = "browser:\n  headless: true\n  login: operator chromium: x\n"
    exc = _capture(yaml.safe_load, config)
    assert "chromium" in str(exc)  # the raw message does carry the line
    sent = reporting.collect(1)
    _nowhere(sent, "chromium", "operator", "login", "headless")
    value = _value(sent.events[0])
    assert value.startswith("mapping values are not allowed here\n  in \"<"), value  # yaml's own text
    assert ", line <number>, column <number>:" in value


@pytest.fixture
def fetch_schema_page(monkeypatch):
    """crawl4ai's schema generator raises with ``result.error_message`` in its template
    (``f"Failed to fetch URL '{urls[0]}': {result.error_message}"``): that line, run as crawl4ai's."""
    return crawl4ai_helper(extraction, (
        "def generate_schema(urls, result):\n"
        "    if not result.success:\n"
        "        raise Exception(f\"Failed to fetch URL '{urls[0]}': {result.error_message}\")\n"),
        "generate_schema")


@pytest.mark.parametrize("tenant", ["Stable", "Select", "Visit"])
def test_a_hook_message_in_a_result_is_not_kept(reporting, fetch_schema_page, tenant):
    """``result.error_message`` carries a user hook's message: a tenant named with a word."""
    result = type("Result", (), {"success": False,
                                 "error_message": f"on_page_context_created hook: tenant {tenant} refused"})()
    _capture(fetch_schema_page, ["https://shop.example.com/login"], result)
    sent = reporting.collect(1)
    _nowhere(sent, tenant, "tenant", "refused", "hook")
    value = _value(sent.events[0])
    assert value.startswith("Failed to fetch URL '<url>': <"), value  # crawl4ai's template stays
    assert_only_placeholders(value.removeprefix("Failed to fetch URL '<url>': "))


def test_a_passphrase_of_function_words_is_not_kept(reporting):
    passphrase = "did not do it for them"
    _capture(ProxyConfig.from_string, f"10.0.0.7:8080:{passphrase}")
    with pytest.raises(ValueError) as info:
        raise ValueError(passphrase)
    telemetry.capture_exception(info.value)
    sent = reporting.collect(2)
    values = sorted(_value(e) for e in sent.events)
    assert values == ["<str>", "Invalid proxy string format: <ip>:<str>"], values
    assert "did not do it" not in "".join(b.decode("utf-8", "replace") for b in sent.blobs.values())


def test_a_users_pydantic_model_named_with_a_word_is_not_kept(reporting):
    import pydantic

    class Directory(pydantic.BaseModel):
        path: int

    _capture(lambda: Directory(path="not a number"))
    sent = reporting.collect(1)
    _nowhere(sent, "Directory")
    value = _value(sent.events[0])
    assert value.startswith("<number> validation error for <user code>\n"), value
    assert "Input should be a valid integer, unable to parse string as an integer [type=int_parsing" in value


def test_a_playwright_response_is_named_when_the_exception_carries_it():
    """Over-redaction fixed: the class comes from ``AttributeError.obj`` (Playwright's, known
    code) and the attribute from the raising line, which reads ``.status_code``."""
    from playwright.async_api import Response

    read_status = crawl4ai_helper(strategies, (
        "def _handle_http(response):\n"
        "    return response.status_code\n"), "_handle_http")
    with pytest.raises(AttributeError) as info:
        read_status(Response.__new__(Response))
    report = build_report(info.value, environment="library")
    assert _value(report.event) == "'Response' object has no attribute 'status_code'"
    assert scrub_event(report.event) == report.event  # Sentry's before_send changes nothing


def test_a_users_class_of_the_same_name_stays_the_users():
    class Response:  # the user's, named like Playwright's
        pass

    read_status = crawl4ai_helper(strategies, (
        "def _handle_http(response):\n"
        "    return response.status_code\n"), "_handle_http")
    with pytest.raises(AttributeError) as info:
        read_status(Response())
    assert _value(build_report(info.value, environment="library").event) == \
        "'<user code>' object has no attribute 'status_code'"


def test_an_attribute_the_raising_code_does_not_use_is_a_placeholder():
    with pytest.raises(AttributeError) as info:
        getattr(ProxyConfig, "cn" + "secretattr")
    value = _value(build_report(info.value, environment="library").event)
    assert value == "type object 'ProxyConfig' has no attribute '<user code>'", value


def test_int_keeps_its_base():
    """``base 10`` is CPython's default base; another base stays where the raising code writes it."""
    parse_hex = crawl4ai_helper(strategies, "def _handle_http(text):\n    return int(text, 16)\n", "_handle_http")
    with pytest.raises(ValueError) as decimal:
        int("cnsecret")
    with pytest.raises(ValueError) as hexadecimal:
        parse_hex("cnsecret")
    assert _value(build_report(decimal.value, environment="library").event) == \
        "invalid literal for int() with base 10: <str>"
    assert _value(build_report(hexadecimal.value, environment="library").event) == \
        "invalid literal for int() with base 16: <str>"


def test_a_causes_message_in_a_hole_is_aligned_to_its_own_templates():
    def fetch():
        try:
            ProxyConfig.from_string("proxy-a.example.com")
        except ValueError as e:
            raise RuntimeError(f"Failed on navigating ACS-GOTO:\n{e}") from e

    navigate = crawl4ai_helper(strategies, (
        "def _crawl_web(fetch):\n"
        "    try:\n"
        "        fetch()\n"
        "    except Exception as e:\n"
        "        raise RuntimeError(f'Failed on navigating ACS-GOTO: {e}') from e\n"), "_crawl_web")
    with pytest.raises(RuntimeError) as info:
        navigate(lambda: ProxyConfig.from_string("proxy-a.example.com"))
    values = build_report(info.value, environment="library").event["exception"]["values"]
    assert [v["value"] for v in values] == [
        "Invalid proxy string format: <host>",
        "Failed on navigating ACS-GOTO: Invalid proxy string format: <host>"]


def test_the_template_cache_holds_known_code_only(reporting, home, fetch_schema_page):
    """The worker keeps the templates of the code a report ran on disk for the next process: the
    code's own constants, never a message, a hole's value, or a user's code."""
    secret, user_literal = canary(), canary("lit")

    def users_step():
        raise ValueError(f"{user_literal} in the user's own format string")

    def crawl():
        result = type("Result", (), {"success": False, "error_message": secret})()
        try:
            users_step()
        except ValueError:
            fetch_schema_page([f"https://{secret}.example.com/"], result)

    _capture(crawl)
    reporting.collect(1)
    assert telemetry.flush(10)
    blobs = cache_blobs(home)
    assert "cache:message-templates.json" in blobs, sorted(blobs)
    assert b"Failed to fetch URL '" in blobs["cache:message-templates.json"]  # crawl4ai's template
    assert_absent(blobs, secret, user_literal)


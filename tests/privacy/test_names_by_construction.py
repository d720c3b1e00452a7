"""Names in a report are known code's, checked by the scrubber itself: a report is never trusted
to have been built by our own builder (a provider, a re-send, a hand-made event, Sentry's
``before_send``). An exception type, its module, a fingerprint part or a frame that no known code
defines is the user's, whatever shape it has; and the words a report keeps are the ones known
code writes, not the data it compares input with."""

from __future__ import annotations

import copy
import json

import crawl4ai.async_crawler_strategy
from crawl4ai.async_configs import ProxyConfig
from crawl4ai.domain_mapper import DomainMapper

from crawl4ai import telemetry
from crawl4ai.telemetry.scrub import redact_text, scrub_event
from tests.privacy.canary import assert_absent, assert_only_placeholders, canary
from tests.privacy.test_scrub_allowlist import RAW


def _one_value(**value: object) -> dict:
    event = copy.deepcopy(RAW)
    event["exception"]["values"] = [{"value": "failed", **value}]
    event["fingerprint"] = [value.get("type", "ValueError")]
    return event


def test_a_type_name_no_known_code_defines_is_the_users_whatever_module_it_claims():
    c = [canary().capitalize() for _ in range(5)]
    claims = [
        {"type": f"{c[0]}Error", "module": "crawl4ai.async_crawler_strategy"},  # a known module
        {"type": f"{c[1]}Error"},  # no module: claims to be a builtin
        {"type": f"<user code>({c[2]}Error)"},  # a known base nobody defines
        {"type": "ValueError", "module": f"{c[3].lower()}.errors"},  # a user's module
        {"type": f"HTTPCrawlerError.{c[4]}", "module": "crawl4ai.async_crawler_strategy"},
    ]
    blobs = {}
    for i, claim in enumerate(claims):
        out = scrub_event(_one_value(**claim))
        value = out["exception"]["values"][0]
        assert value["type"] in ("<user code>", "ValueError"), value
        assert out.get("fingerprint", []) in ([], ["ValueError"]), out["fingerprint"]
        blobs[f"claim[{i}]"] = json.dumps(out).encode()
    assert_absent(blobs, *(s.lower() for s in c))


def test_a_type_name_known_code_defines_stays():
    """Over-redaction check: a builtin, a crawl4ai class and a user class's known base keep
    their names, and the fingerprint keeps the types the report names."""
    for claim in ({"type": "ValueError"},
                  {"type": "HTTPStatusError", "module": "crawl4ai.async_crawler_strategy"},
                  {"type": "<user code>(HTTPCrawlerError)"},
                  {"type": "<user code>(ConnectionError)"}):
        out = scrub_event(_one_value(**claim))
        assert {k: v for k, v in out["exception"]["values"][0].items() if k in claim} == claim
        assert out["fingerprint"] == [claim["type"]]


def test_a_user_subclass_of_a_crawl4ai_error_inside_a_secret_function_shows_its_base(reporting):
    secret = canary()

    def make(name: str) -> type:
        return type(name, (crawl4ai.async_crawler_strategy.HTTPCrawlerError,), {})

    error = make(f"{secret.capitalize()}Failure")
    error.__qualname__ = f"{secret}_handler.<locals>.{error.__name__}"
    try:
        raise error("crawl failed")
    except error as exc:
        telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    assert sent.events[0]["exception"]["values"][-1]["type"] == "<user code>(HTTPCrawlerError)"
    assert_absent(sent.blobs, secret)


def test_a_frame_keeps_its_file_only_when_its_known_module_and_function_agree():
    secret = canary()
    event = copy.deepcopy(RAW)
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    frames[:] = [
        {"filename": f"{secret}/crawl.py", "lineno": 3},  # a file and nothing to check it by
        {"filename": f"home/{secret}/async_webcrawler.py", "module": "crawl4ai.async_webcrawler",
         "function": "AsyncWebCrawler.arun", "lineno": 9},  # a known module, another file
        {"filename": "crawl4ai/async_webcrawler.py", "module": "crawl4ai.async_webcrawler",
         "function": "AsyncWebCrawler.arun", "lineno": 9, "in_app": True},
    ]
    out = scrub_event(event)
    kept = out["exception"]["values"][0]["stacktrace"]["frames"]
    assert kept[:2] == [{"filename": "<user code>", "in_app": False}] * 2
    assert kept[2]["function"] == "AsyncWebCrawler.arun"
    assert_absent({"report": json.dumps(out).encode()}, secret)


def test_a_kernel_release_keeps_no_long_number():
    event = copy.deepcopy(RAW)
    event["contexts"]["os"] = {"name": "Linux", "release": "6.1.0-5551234567-18-amd64"}
    assert scrub_event(event)["contexts"]["os"]["release"] == "6.1.0-18-amd64"


# -- words: what known code writes, not what it compares input with ------------------------------


class _RefusingLogger:
    """A user's logger that fails with the user's own words in its message."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def error(self, **_: object) -> None:
        raise PermissionError(f"admin staging {self.secret} refused")


def test_a_word_in_a_crawl4ai_table_of_sample_data_is_not_kept(reporting):
    """``crawl4ai.domain_mapper`` lists sub-domains to probe ("admin", "staging"): with it on the
    stack those words of the user's (a login, a host) were kept as if crawl4ai had written them."""
    secret = canary()
    mapper = type("Mapper", (), {})()
    mapper.logger = _RefusingLogger(secret)
    try:
        DomainMapper._log(mapper, "error", "mapping failed")
    except PermissionError as exc:
        telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    value = sent.events[0]["exception"]["values"][-1]
    assert any(f.get("module") == "crawl4ai.domain_mapper" for f in value["stacktrace"]["frames"])
    assert value["value"] == "<str>"  # the user's logger wrote it: none of its words is known code's
    assert_only_placeholders(value["value"])
    assert_absent(sent.blobs, secret)


def test_a_password_that_is_a_module_name_is_not_kept(reporting):
    """A standard-library module's bare name is an ordinary word ("calendar", "turtle")."""
    try:
        ProxyConfig.from_string("calendar turtle")
    except ValueError as exc:
        telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    assert sent.events[0]["exception"]["values"][-1]["value"] == "Invalid proxy string format: <str>"


_VISIT = "    For further information visit "  # pydantic-core's line (the reviewed list's template)


def test_a_documentation_link_keeps_no_long_number_no_port_and_no_escapes():
    """The link's constant part is pydantic-core's template; its holes (version, error type)
    are placeholders, and a link of any other shape is a URL like any other."""
    link = "https://errors.pydantic.dev/2.11/v/int_parsing"
    assert redact_text(_VISIT + link) == _VISIT + "https://errors.pydantic.dev/<number>/v/<str>"
    for planted in ("https://errors.pydantic.dev/2.11/v/5551234567",
                    "https://errors.pydantic.dev:5551/2.11/v/int_parsing",
                    "https://errors.pydantic.dev/2.11/v/%70%61%73%73",  # "pass", in digits only
                    "https://errors.pydantic.dev/2.11/v;70/int_parsing"):
        out = redact_text(_VISIT + planted)
        assert not any(p in out for p in ("5551", "%70", "70", "2.11", "int_parsing")), out


def test_a_kept_documentation_link_never_carries_a_query_or_a_fragment():
    """A user's value after ``?`` or ``#`` of a real documentation link (``…/int_parsing#<value>``)
    is the user's: it is in a hole, whatever the host and path are."""
    link = "https://errors.pydantic.dev/2.11/v/int_parsing"
    c = canary()
    planted = (f"{link}#{c}", f"{link}?{c}", f"{link}?input={c}", f"{link}/?input_value={c}#top",
               f"{link}?#{c}")
    for url in planted:
        assert c not in redact_text(_VISIT + url), url
    event = _one_value(type="ValueError", value=f"Input should be a valid integer. visit {planted[0]}")
    event["exception"]["values"][0]["module"] = "pydantic_core"
    assert_absent({"report": json.dumps(scrub_event(event)).encode()}, c)


def test_function_words_alone_keep_nothing():
    """A passphrase of English function words is the user's like any other text: no template of
    known code put it there (function words stay only beside a name of the reviewed list)."""
    assert redact_text("the cnpage did not load and you can not open it from here") == "<str>"
    assert redact_text("did not do it for them") == "<str>"
    assert redact_text("Page.goto: net::ERR_FAILED at cnpage") == "Page.goto: net::ERR_FAILED at <str>"


def test_versions_the_runtime_and_the_numbers_of_a_report_keep_no_free_text():
    """Fields whose shape is a word or a number keep what they are for: a version's public part
    (a local label is whatever its builder wrote), a runtime's name, a time, a chain index."""
    secret = canary()
    event = copy.deepcopy(RAW)
    event["release"] = f"crawl4ai@0.9.5+{secret}"
    event["tags"].update(crawl4ai_version=f"0.9.5+{secret}.laptop", python_version=f"3.13.0+{secret}")
    event["contexts"]["runtime"] = {"name": secret, "version": "3.11.7"}
    event["contexts"]["crawl4ai"]["version"] = f"0.9.6.dev3+g1a2b3c4.{secret}"
    event["sdk"] = {"name": secret, "version": "0.1.0"}
    event["timestamp"] = 4111111111111111
    event["exception"]["values"][0]["mechanism"]["exception_id"] = 555123456
    out = scrub_event(event)
    assert out["release"] == "crawl4ai@0.9.5"
    assert out["tags"]["crawl4ai_version"] == "0.9.5" and out["tags"]["python_version"] == "3.13.0"
    assert out["contexts"]["runtime"] == {"version": "3.11.7"}
    assert out["contexts"]["crawl4ai"]["version"] == "0.9.6.dev3"
    assert out["sdk"] == {"version": "0.1.0"}
    assert "timestamp" not in out and "exception_id" not in out["exception"]["values"][0]["mechanism"]
    assert_absent({"report": json.dumps(out).encode()}, secret, "4111111111111111", "555123456")
    assert scrub_event(out) == out


def test_a_report_never_loads_a_lazily_loaded_module_of_the_users(tmp_path, monkeypatch):
    """Judging a report asks about every loaded module (whose is it, does it hold a user class's
    known base): it reads what they store, so a lazily loaded module of the user's stays unloaded
    (its code ran on telemetry's thread, when a report's vocabulary read its ``__file__``)."""
    import importlib.util
    import sys

    marker = tmp_path / "loaded"
    source = tmp_path / "lazy_user_module.py"
    source.write_text(f"open({str(marker)!r}, 'w').close()\n")
    spec = importlib.util.spec_from_file_location("lazy_user_module", source)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "lazy_user_module", module)
    spec.loader.exec_module(module)  # lazy: runs on first attribute access
    out = scrub_event(_one_value(type="<user code>(NoLibraryDefinesThisError)"))  # every module read
    assert out["exception"]["values"][0]["type"] == "<user code>"
    assert not marker.exists(), "a report loaded a lazy module"


def test_code_from_exec_notebook_cells_lambdas_partials_and_zip_files_is_the_users(reporting, tmp_path):
    """Every way code runs without a module file of known code is the user's: its file, function
    and module names never leave, whatever they are called."""
    import functools
    import sys
    import zipfile

    c = {k: canary() for k in ("cell", "kernel", "exec", "lambda", "zip", "zipfunc")}
    archive = tmp_path / f"{c['zip']}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{c['zip']}_mod.py", f"def {c['zipfunc']}():\n    raise OSError('zip failed')\n")
    sys.path.insert(0, str(archive))
    try:
        zipped = __import__(f"{c['zip']}_mod")
    finally:
        sys.path.remove(str(archive))
    runs = [
        compile(f"def {c['cell']}():\n    raise ValueError('cell')\n", f"<ipython-input-3-{c['cell']}>", "exec"),
        compile(f"def {c['kernel']}():\n    raise TypeError('kernel')\n",
                f"/tmp/ipykernel_4242/{c['kernel']}.py", "exec"),
        compile(f"def {c['exec']}():\n    raise LookupError('exec')\n", "<string>", "exec"),
    ]  # five types: five bugs, five reports (one type from user code only would be one report)
    functions = []
    for code in runs:
        namespace: dict = {"__name__": "__main__"}
        exec(code, namespace)  # noqa: S102
        functions.append(next(v for k, v in namespace.items() if k.startswith("cn")))
    named_lambda = eval(f"lambda {c['lambda']}: 1 / 0")  # noqa: S307
    functions += [functools.partial(named_lambda, 1), getattr(zipped, c["zipfunc"])]
    for function in functions:
        try:
            function()
        except Exception as exc:  # noqa: BLE001
            telemetry.capture_exception(exc)
    sent = reporting.collect(len(functions))
    for event in sent.events:
        frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
        assert frames[-1] == {"filename": "<user code>", "in_app": False}
    sys.modules.pop(f"{c['zip']}_mod", None)
    assert_absent(sent.blobs, *c.values())


def test_a_user_password_pair_of_code_words_is_a_secret(reporting):
    """``admin:root`` (a proxy's credentials without its host): both halves are words
    crawl4ai's code writes, the pair is a credential; ``ssl:default`` stays where the library
    on the stack writes ``ssl:`` before a value."""
    try:
        ProxyConfig.from_string("admin:root, then admin:root")  # three parts: not host:port
    except ValueError as exc:
        telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    assert sent.events[0]["exception"]["values"][-1]["value"] == "Invalid proxy string format: <secret>, <str> <secret>"
    from tests.privacy.crawl_words import (
        redact_text as crawl_redact,  # aiohttp's "ssl:{1}" on the stack
    )

    message = "Cannot connect to host shop.example.com:443 ssl:default [Connection refused]"
    assert crawl_redact(message) == "Cannot connect to host <host>:<number> ssl:<str> [<str>]"

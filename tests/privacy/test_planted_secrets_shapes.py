"""Planted secrets in shapes no rule was written for never leave the machine.

The allowlist keeps a word only when known code contains it, a name only when known code defines
it. These tests plant data where that promise is easiest to get wrong: a secret spelled one
character at a time (each character alone may be a known word) or made of symbols (no word at
all), names that *claim* to be known code (a context naming a crawl4ai module with a made-up
function, a class made by ``exec`` that says it lives in ``builtins``, code compiled under a
library's file name). Each report goes through the real pipeline and sentry-sdk transport to the
local server; the tests search every byte it received and every file of the outbox.
"""

from __future__ import annotations

import importlib
import random
import re

import pytest
from crawl4ai.async_configs import ProxyConfig

from crawl4ai import telemetry
from tests.privacy.canary import assert_absent, assert_only_placeholders, canary

_rng = random.SystemRandom()


def _report(exc: BaseException, context: dict | None = None) -> None:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - the point is to report it
        telemetry.capture_exception(caught, context)


def _value(event: dict) -> str:
    return event["exception"]["values"][-1]["value"]


def test_a_secret_spelled_one_character_at_a_time_is_never_sent(reporting):
    secret = canary("sp")
    spelled = " ".join(secret)  # "s p x q …": each letter alone is a word some code writes
    # A real crawl4ai failure, so the vocabulary is crawl4ai's own (wide: most letters are in it).
    with pytest.raises(ValueError) as info:
        ProxyConfig.from_string(spelled)
    telemetry.capture_exception(info.value)
    sent = reporting.collect(1)
    value = _value(sent.events[0])
    assert value.startswith("Invalid proxy string format:"), value  # the static text stays
    assert not re.search(r"(?<![\w<])\w(?![\w>])", value), f"single characters kept: {value!r}"
    assert_absent(sent.blobs, secret, spelled, spelled[4:-4])


def test_a_secret_made_of_symbols_is_never_sent(reporting):
    symbols = "".join(_rng.sample("!@#$%^&*+=?|~`\\/", 10))
    word = canary()
    _report(ValueError(f"login rejected for {word} with {symbols}"))
    sent = reporting.collect(1)
    blobs = {name: blob.replace(b"\\\\", b"\\") for name, blob in sent.blobs.items()}  # JSON escapes
    assert_absent(blobs, word, symbols, symbols[:6], symbols[4:])
    assert_only_placeholders(_value(sent.events[0]))  # the user's own format string goes too


def test_punctuation_that_is_structure_stays():
    """Over-redaction check: brackets, arrows and ellipses are how messages read, not data."""
    from tests.privacy.crawl_words import redact_text

    assert redact_text("expected ({}) -> [...] got: ...") == "<str> ({}) -> [...] <str>: ..."
    template = ("expected (", None, ") -> [", None, "] got: ", None)
    assert redact_text("expected (1) -> [a, b] got: x", template=template) == \
        "expected (<number>) -> [<str>, <str>] got: <str>"


def test_a_context_naming_crawl4ai_code_keeps_only_what_crawl4ai_defines(reporting):
    c = [canary() for _ in range(3)]
    _report(RuntimeError("first"), {"module": "crawl4ai.async_webcrawler", "function": f"sk_live_{c[0]}"})
    _report(KeyError("second"), {"module": "crawl4ai.async_webcrawler", "function": f"AsyncWebCrawler.{c[1]}"})
    _report(LookupError("third"), {"module": "crawl4ai.async_webcrawler", "function": "AsyncWebCrawler.arun",
                                   "component": c[2]})
    sent = reporting.collect(3)
    assert sent.event_with("RuntimeError")["contexts"]["telemetry"]["function"] == "<user code>"
    assert sent.event_with("KeyError")["contexts"]["telemetry"]["function"] == "<user code>"
    # A real crawl4ai function stays: it tells the maintainer where the caller was.
    assert sent.event_with("LookupError")["contexts"]["telemetry"] == {
        "module": "crawl4ai.async_webcrawler", "function": "AsyncWebCrawler.arun"}
    assert_absent(sent.blobs, *c)


def test_a_class_made_by_exec_is_the_users_whatever_module_it_claims(reporting):
    secret = canary()
    namespace: dict = {}  # no __name__: the class says it lives in ``builtins``
    exec(f"class {secret.capitalize()}Error(ConnectionError):\n    pass", namespace)  # noqa: S102
    error = namespace[f"{secret.capitalize()}Error"]
    assert error.__module__ == "builtins"
    _report(error("refused"))
    sent = reporting.collect(1)
    event = sent.events[0]
    assert event["exception"]["values"][-1]["type"] == "<user code>(ConnectionError)"
    assert event["fingerprint"][0] == "<user code>(ConnectionError)"
    assert_absent(sent.blobs, secret)


@pytest.mark.parametrize("module", ["httpx._client", "lxml.etree"])
def test_code_compiled_under_a_librarys_file_name_is_the_users(reporting, module):
    """A user's function compiled with a library's file name and module name (code generators,
    templating, a notebook's ``exec``) is still the user's: its name is not in that file. The
    same under a compiled module's name (``lxml.etree``, a ``.so`` with no source to read): only
    what that module really holds counts as its code, never a name it is merely said to have."""
    library = importlib.import_module(module)
    secret = canary()
    source = f"def {secret}_step():\n    raise ValueError('step failed')\n"
    namespace = {"__name__": module}
    exec(compile(source, library.__file__, "exec"), namespace)  # noqa: S102
    try:
        namespace[f"{secret}_step"]()
    except ValueError as exc:
        telemetry.capture_exception(exc)
    sent = reporting.collect(1)
    frames = sent.events[0]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1] == {"filename": "<user code>", "in_app": False}
    assert_absent(sent.blobs, secret)


def test_symbols_in_a_secret_keep_no_part_of_it():
    """The letters between symbols go as unknown words, the symbols as a value."""
    from crawl4ai.telemetry.scrub import redact_text

    secret = canary()  # 14 random letters: neither half is a word any code writes
    text = redact_text(f"rejected {secret[:7]}!@#$%^{secret[7:]}")
    assert secret[:7] not in text and secret[7:] not in text and "!@#" not in text, text


def test_a_url_to_a_site_crawl4ai_names_is_a_url_not_a_documentation_link():
    """Documentation links (pydantic's ``errors.pydantic.dev/…``) come from the libraries on the
    stack; Crawl4AI's literals name sites to crawl and services to call, and a URL to one of them
    is where the user's crawl went."""
    import crawl4ai.async_configs as configs

    from crawl4ai.telemetry.scrub.known_names import words_of_file
    from tests.privacy.crawl_words import redact_text

    hosts = sorted(words_of_file(configs.__file__).link_hosts)
    assert hosts, "crawl4ai.async_configs links to no site any more: pick another module"
    for host in hosts:
        assert redact_text(f"request to https://{host}/api failed",
                           template=("request to ", None, " failed")) == "request to <url> failed"


def test_an_exception_that_fights_back_is_still_reported_and_gives_nothing_away(reporting):
    """Notes that raise, a metaclass that raises for ``__module__``, a module that is no string:
    the report still arrives (nothing is lost) and holds none of it."""
    c = [canary() for _ in range(4)]

    class NotesRaise(Exception):
        @property
        def __notes__(self):
            raise RuntimeError(c[0])

    class Meta(type):
        def __getattribute__(cls, name):
            if name == "__module__":
                raise RuntimeError(c[1])
            return super().__getattribute__(name)

    class ModuleRaise(LookupError, metaclass=Meta):
        pass

    class Hostile:
        def __eq__(self, other):
            raise RuntimeError(c[2])

        __hash__ = object.__hash__

    class ModuleNotText(ConnectionError):
        pass

    ModuleNotText.__module__ = Hostile()
    for exc in (NotesRaise(f"first {c[3]}"), ModuleRaise("second"), ModuleNotText("third")):
        _report(exc)
    sent = reporting.collect(3)
    assert sorted(sent.events[i]["exception"]["values"][-1]["type"] for i in range(3)) == [
        "<user code>(ConnectionError)", "<user code>(Exception)", "<user code>(LookupError)"]
    assert_absent(sent.blobs, *c)

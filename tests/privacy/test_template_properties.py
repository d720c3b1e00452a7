"""Property: a report keeps text only where a template of its code puts it (issue 25).

Thousands of generated reports per run (``PRIVACY_TEMPLATES`` sets how many). Each message is a
real template of Crawl4AI, of a library on a crawl's stack or of CPython, with its holes filled
with words of Crawl4AI's own templates, English function words (``grammar.txt``), random host
names, numbers, class-like names and secrets; raised at the real frame of the code that holds
the template, through causes (whose message may fill a hole of the next), exception groups and
notes. Then, for the scrubbed report:

- no random host, name or secret is anywhere in its bytes, in any encoding (``canary.find_leak``);
- every piece of every message that stayed is accounted for: text of a template of the report's
  code at the place it says (``file:line``), a name of the reviewed list, a builtin, or a name the
  raising code uses; everything else is a placeholder. So a word of Crawl4AI's vocabulary or a
  function word in a hole never stays because of what it is.
"""

from __future__ import annotations

import json
import os
import re

import crawl4ai.async_configs
import crawl4ai.async_crawler_strategy
import crawl4ai.async_webcrawler
import crawl4ai.utils  # noqa: F401 - their templates are drawn below
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawl4ai.telemetry import ownership
from crawl4ai.telemetry.scrub import code, formats, scrub_event, templates
from crawl4ai.telemetry.scrub.align import Hole
from crawl4ai.telemetry.scrub.code import _pools
from tests.privacy.canary import find_leak

CASES = int(os.environ.get("PRIVACY_TEMPLATES", "2000"))
MODULES = ("crawl4ai.async_configs", "crawl4ai.async_crawler_strategy", "crawl4ai.async_webcrawler",
           "crawl4ai.utils", "aiohttp.client_exceptions")
_WORD = re.compile(r"[A-Za-z]{3,}")


def _frames_and_templates() -> list[tuple[dict, tuple]]:
    """(a real known frame, one of its code's one-line templates with a hole)."""
    import aiohttp.client_exceptions  # noqa: F401

    out = []
    for module in MODULES:
        owner = ownership.owner_of_module(module)
        for found in code.module_codes(module):
            line = next(line for _, _, line in found.co_lines() if line is not None)
            key = (module, found.co_qualname, line)
            if code.code_of(key) is not found:
                continue
            frame = {"filename": owner.file, "module": module, "function": found.co_qualname,
                     "lineno": line, "in_app": module.startswith("crawl4ai.")}
            for template, _ in formats.templates_of_code(found):
                literal = "".join(p for p in template if p is not None)
                if None in template and "\n" not in literal and len(_WORD.findall(literal)) >= 2:
                    out.append((frame, template))
    return out


FRAMES_AND_TEMPLATES = _frames_and_templates()
CPYTHON = [tuple(None if isinstance(p, Hole) else p for p in pieces)
           for pieces, where in templates.data_templates()
           if "cpython" in where and any(isinstance(p, Hole) and p.kind in ("value", "n") for p in pieces)
           and not any(isinstance(p, Hole) and p.kind not in ("value", "n") for p in pieces)]
VOCABULARY = sorted({w.lower() for _, t in FRAMES_AND_TEMPLATES for p in t if p for w in _WORD.findall(p)})
GRAMMAR = sorted(templates.grammar_words())
assert len(FRAMES_AND_TEMPLATES) > 100 and len(VOCABULARY) > 100 and CPYTHON

_random_word = st.from_regex(r"cn[a-z]{10}", fullmatch=True)  # found nowhere else: a canary


@st.composite
def fillings(draw, planted: list[str]) -> str:
    """What a hole holds: words some code writes, function words, or data (tracked in ``planted``)."""
    kind = draw(st.sampled_from(["vocabulary", "grammar", "mixed", "host", "number", "name", "secret"]))
    if kind == "vocabulary":
        return " ".join(draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3)))
    if kind == "grammar":
        return " ".join(draw(st.lists(st.sampled_from(GRAMMAR), min_size=1, max_size=5)))
    if kind == "number":
        return str(draw(st.integers(0, 10**9)))
    secret = draw(_random_word)
    planted.append(secret)
    if kind == "host":
        return f"{secret}.{draw(st.sampled_from(['com', 'io', 'internal', 'example.org']))}"
    if kind == "name":
        return secret.capitalize() + draw(st.sampled_from(["Config", "Error", "Directory", ""]))
    if kind == "mixed":
        return f"{draw(st.sampled_from(VOCABULARY))} {secret} {draw(st.sampled_from(GRAMMAR))}"
    return draw(st.sampled_from([f"{secret}", f"sk-{secret}{secret}", f"admin:{secret}", f"{secret}@x.org"]))


@st.composite
def messages(draw, planted: list[str], embed: str | None = None) -> tuple[str, dict]:
    """A filled template, and the frame of the code whose template it is."""
    frame, template = draw(st.sampled_from(FRAMES_AND_TEMPLATES))
    if draw(st.booleans()) and not embed:
        template = draw(st.sampled_from(CPYTHON))
    holes = [i for i, p in enumerate(template) if p is None]
    embedded_at = draw(st.sampled_from(holes)) if embed else None
    text = "".join(p if p is not None else (embed if i == embedded_at else draw(fillings(planted)))
                   for i, p in enumerate(template))
    return text, frame


@st.composite
def reports(draw) -> tuple[dict, list[str]]:
    planted: list[str] = []
    values = []
    message = None
    for index in range(draw(st.integers(1, 3))):
        embed = message if message and draw(st.booleans()) else None
        message, frame = draw(messages(planted, embed))
        text = message
        if draw(st.integers(0, 3)) == 0:  # a note
            text += "\n" + draw(messages(planted))[0]
        mechanism = {"type": "chained" if index else "generic", "handled": True, "exception_id": index}
        if index:
            mechanism.update(parent_id=index - 1, source=draw(st.sampled_from(["__cause__", "__context__"])))
        if draw(st.integers(0, 4)) == 0:
            mechanism["is_exception_group"] = True
        values.append({"type": draw(st.sampled_from(["ValueError", "RuntimeError", "KeyError", "TypeError"])),
                       "value": text, "mechanism": mechanism,
                       "stacktrace": {"frames": [{"filename": "<user code>", "in_app": False}, frame]}})
    event = {"event_id": "b" * 32, "platform": "python", "exception": {"values": values[::-1]}}
    return event, planted


_seen_pools: dict[int, dict[str, str]] = {}


def _literals_at() -> dict[str, str]:
    """Every template's constant text by where it is written (``file:line``); made again only
    when the scrubber has made new pools."""
    if len(_pools) in _seen_pools:
        return _seen_pools[len(_pools)]
    _seen_pools.clear()
    _seen_pools[len(_pools)] = _literals()
    return _seen_pools[len(_pools)]


def _literals() -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for pool in list(_pools.values()):
        for line in pool.patterned:
            out.setdefault(line.where, []).extend(p for p in line.pieces if isinstance(p, str))
        for text, where in pool.exact.items():
            out.setdefault(where, []).append(text)
    from crawl4ai.telemetry.scrub.message import base_pool

    for line in base_pool().patterned:
        out.setdefault(line.where, []).extend(p for p in line.pieces if isinstance(p, str))
    for text, where in base_pool().exact.items():
        out.setdefault(where, []).append(text)
    return {where: "\n".join(texts) for where, texts in out.items()}


_PROVED = ("a name the raising code uses", "one of CPython's builtin", "the class of an object",
           "a module known code has", "a number the raising code writes", "the reviewed list",
           "a name of the reviewed list", "a function word beside", "punctuation", "line break", "cut")


@pytest.mark.timeout(900)  # ~20 s of CPU; a shared, loaded machine stretches it
@settings(max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(reports())
def test_a_message_keeps_only_what_its_code_writes_where_it_writes_it(case):
    event, planted = case
    provenance: list = []
    scrubbed = scrub_event(event, provenance=provenance)
    payload = json.dumps(scrubbed, ensure_ascii=False).encode()
    leaks = [leak for secret in planted if (leak := find_leak(secret, {"report": payload}))]
    assert not leaks, "\n".join(leaks)
    literals = _literals_at()
    for message in provenance:
        for span in message.spans:
            if not span.kept or not span.text.strip():
                continue
            if span.why in literals:
                assert span.text in literals[span.why], (span, message.field)
            else:
                assert span.why.startswith(_PROVED), (span, message.field)

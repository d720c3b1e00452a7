"""The fixed list of mutations `just mutate` applies, one at a time, to a copy of the tree.

Each is a small, deliberate break of a promise in the privacy rules, the consent gate, the
outbox or the host's exit, with the tests that must notice it. A mutation whose ``old`` text is no
longer found exactly once is reported as stale (the code moved): update the mutation, never
drop it silently. A mutation the suite does not kill is a gap in the tests, not in the list.
"""

from __future__ import annotations

from crawl4ai.telemetry._record import Record


class Mutation(Record):
    __slots__ = ("name", "why", "file", "old", "new", "tests")
    name: str
    why: str  # the promise it breaks, as a user would notice it
    file: str  # relative to the repository root
    old: str  # exact text, found exactly once in ``file``
    new: str
    tests: tuple[str, ...]  # what must fail (run with -x: the first failure kills it)


OUTBOX = "crawl4ai/telemetry/outbox.py"
CONSENT = "crawl4ai/telemetry/consent.py"
SETTINGS = "crawl4ai/telemetry/settings.py"
MESSAGE = "crawl4ai/telemetry/scrub/message.py"
ALIGN = "crawl4ai/telemetry/scrub/align.py"
SECTIONS = "crawl4ai/telemetry/scrub/sections.py"
FILES = "crawl4ai/telemetry/_files.py"
PIPELINE = "crawl4ai/telemetry/pipeline/__init__.py"

MUTATIONS: tuple[Mutation, ...] = (
    # -- the outbox ------------------------------------------------------------------------------
    Mutation(
        "outbox: pending pruned first, newest first",
        "a full outbox would delete the reports still waiting to be sent before the settled ones",
        OUTBOX,
        "order = sorted(usable, key=lambda e: (e.state == PENDING, e.created))",
        "order = sorted(usable, key=lambda e: (e.state != PENDING, -e.created))",
        ("tests/providers/test_outbox_bounds.py",),
    ),
    Mutation(
        "outbox: byte cap (MAX_BYTES) ignored",
        "the outbox could grow without bound on disk as long as the count stays under its cap",
        OUTBOX,
        "if count <= MAX_ENTRIES and size <= MAX_BYTES:",
        "if count <= MAX_ENTRIES:",
        ("tests/providers/test_outbox_bounds.py",),
    ),
    Mutation(
        "outbox: count cap (MAX_ENTRIES) ignored",
        "many small reports would pile up for ever",
        OUTBOX,
        "if count <= MAX_ENTRIES and size <= MAX_BYTES:",
        "if size <= MAX_BYTES:",
        ("tests/providers/test_outbox_bounds.py",),
    ),
    Mutation(
        "outbox: withdrawn consent leaves reports pending",
        "a report waiting for delivery would still leave after the user said no",
        OUTBOX,
        "        for entry in entries:\n            self.mark(entry.event_id, state, detail)",
        "        for entry in ():\n            self.mark(entry.event_id, state, detail)",
        ("tests/providers/test_delivery_state.py",),
    ),
    Mutation(
        "outbox: report files readable by everyone",
        "other users of the machine could read the redacted reports (0644 instead of 0600)",
        FILES,
        "os.fchmod(fd, 0o600)",
        "os.fchmod(fd, 0o644)",
        ("tests/providers/test_delivery_state.py",),
    ),
    # -- the consent gate ------------------------------------------------------------------------
    Mutation(
        "consent: CRAWL4AI_TELEMETRY=1 overrides a stored 'denied'",
        "an environment variable would turn sending on over the user's stored 'no'",
        CONSENT,
        'elif stored["consent"] != NOT_SET:',
        'elif stored["consent"] != NOT_SET and not env_forces_on():',
        ("tests/pipeline/test_gate_matrix.py",),
    ),
    Mutation(
        "consent: DO_NOT_TRACK ignored",
        "the cross-tool opt-out would no longer stop anything",
        SETTINGS,
        'dnt = _raw("DO_NOT_TRACK")',
        "dnt = None",
        ("tests/pipeline/test_gate_matrix.py",),
    ),
    Mutation(
        "consent: CRAWL4AI_TELEMETRY=0 ignored",
        "the kill switch would not switch anything off",
        SETTINGS,
        "if word and word not in TRUE_WORDS and word not in LOCAL_WORDS:",
        "if False:",
        ("tests/pipeline/test_gate_matrix.py",),
    ),
    Mutation(
        "consent: 'once' is never used up",
        "agreeing to send the next error would silently send every later one too",
        CONSENT,
        '            section["consent"] = NOT_SET\n            taken.append(True)',
        "            taken.append(True)",
        ("tests/pipeline/test_gate_matrix.py",),
    ),
    Mutation(
        "consent: a 'yes' carries over to a new destination",
        "a consent given for one receiver would send reports to another one",
        CONSENT,
        "if agreed == now or now == THIS_MACHINE:",
        "if True:",
        ("tests/consent/test_destination.py",),
    ),
    Mutation(
        "consent: any container counts as Crawl4AI's server (on by default)",
        "a devcontainer or a Docker-based CI job would send reports nobody agreed to",
        CONSENT,
        "if env in environment.OPT_OUT_ENVIRONMENTS:",
        "if env in (*environment.OPT_OUT_ENVIRONMENTS, environment.CONTAINER):",
        ("tests/pipeline/test_gate_matrix.py",),
    ),
    # -- the privacy rules -----------------------------------------------------------------------
    Mutation(
        "scrub: a documentation link keeps its query and fragment",
        "'…/int_parsing#<a user's value>' would leave the machine unchanged",
        ALIGN,  # a link is kept only as a template's constant text: what follows is a hole's
        '        self._count("str")\n        return "<str>"\n',
        '        self._count("str")\n        return token\n',
        ("tests/privacy/test_names_by_construction.py",),
    ),
    Mutation(
        "scrub: a documentation link keeps its query and fragment (the fuzz property alone)",
        "the same break, which the randomised property must find by itself",
        ALIGN,  # a link is kept only as a template's constant text: what follows is a hole's
        '        self._count("str")\n        return "<str>"\n',
        '        self._count("str")\n        return token\n',
        ("tests/privacy/test_fuzz_allowlist.py",),
    ),
    Mutation(
        "scrub: a run of mixed symbols between words is kept as punctuation",
        "a password of symbols ('!@#$%^') would be sent as written, between its placeholders",
        ALIGN,  # _gap's judge: punctuation stays only while it reads as punctuation
        '            self._count("str")\n            return "<str>"\n',
        '            self._count("str")\n            return symbols\n',
        ("tests/privacy/test_planted_secrets_shapes.py",),
    ),
    Mutation(
        "scrub: a user's frame keeps its file, module and function",
        "the user's own code (paths, module and function names) would appear in reports",
        SECTIONS,
        "        if not _known_frame(clean):",
        "        if False:",
        ("tests/privacy/test_scrub_allowlist.py",),
    ),
    Mutation(
        "scrub: unknown top-level keys pass",
        "request data, breadcrumbs or extra data a builder added would be sent as they are",
        SECTIONS,
        'out = _keep(schema.EVENT, event, state, "field")',
        'out = {**event, **_keep(schema.EVENT, event, state, "field")}',
        ("tests/privacy/test_scrub_allowlist.py",),
    ),
    Mutation(
        "scrub: e-mail addresses are no longer recognised",
        "an address would become an anonymous <str> instead of <email> (or survive where its "
        "words are known)",
        MESSAGE,
        '    Phase("e-mail addresses", emails.RULES),\n',
        "",
        ("tests/privacy/test_redaction_examples.py",),
    ),
    Mutation(
        "scrub: numbers are kept",
        "an account number, a phone or an order id in a message would be sent",
        ALIGN,
        '            self._count("number")\n            return "<number>"\n',
        "            return token\n",
        ("tests/privacy/test_redaction_examples.py",),
    ),
    # -- the host's exit -------------------------------------------------------------------------
    Mutation(
        "exit: keeping past the bound never stops",
        "an exit hook of the host's that fails on and on would hold the process up while each "
        "error is built on its thread",
        PIPELINE,
        "if late and self._kept_late >= settings.EXIT_KEEP_GRACE:",
        "if False:",
        ("tests/hardening/test_host_safety.py",),
    ),
)

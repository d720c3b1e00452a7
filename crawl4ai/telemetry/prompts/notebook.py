"""The first-error prompt in Jupyter and Colab: ipywidgets buttons, or a Markdown snippet.

On the first error in a kernel where nobody has chosen yet, the cell shows "Crawl4AI Error
Detection" with *Send this error* / *Always send errors* / *Don't send*, an optional email field
and a button that shows the exact redacted report. Nothing blocks: the cell goes on (or fails)
as it would, and the error that triggered the prompt is held in memory until the person answers,
so a click minutes later still sends it. Errors raised before the answer wait with it.

Without ipywidgets the cell shows a Markdown snippet with the exact calls instead
(``crawl4ai.telemetry.enable(...)`` / ``disable()``). Either way the person may also decide by
running those calls, or ``crwl telemetry enable`` in a shell: after every cell the held error
follows the stored choice (``enable(once=True)`` sends just that error).

A notebook executed in CI (``CI`` and friends set) shows no prompt: nobody is there to answer.
"""

from __future__ import annotations

import html
import sys
from typing import TYPE_CHECKING, Any

from .. import consent as _consent
from .. import environment as _environment
from .._debug import internal_error

if TYPE_CHECKING:
    from ..pipeline.capture import Capture
    from ..pipeline.sink import ConsentSink
from ._request import ALWAYS, DENY, NO_REPORT, ONCE, REPORT_CAPTION, ConsentRequest, open_request

SURFACE = "notebook"
TITLE = "Crawl4AI Error Detection"
QUESTION = "Help improve Crawl4AI by sending anonymous crash reports?"
WHAT = (
    "A report holds the error type and stack trace (your own code's frames are reduced to "
    "placeholders), the Crawl4AI, Python and OS versions, the environment type, and your email "
    "only if you give one. Never URLs, crawled content, headers, cookies, keys, your file paths, "
    "variables or your source code."
)
INVALID_EMAIL = "That is not a valid email address (or leave it empty)."
DONE = {
    ONCE: "Thank you: this report will be sent. You will be asked again in a later session.",
    ALWAYS: "Thank you: crash reports are on. Turn them off any time with "
            "<code>crawl4ai.telemetry.disable()</code>.",
    DENY: "No crash reports will be sent. Change this any time with "
          "<code>crawl4ai.telemetry.enable()</code>.",
}

_prompt: NotebookPrompt | None = None


def ask(sink: ConsentSink, capture: Capture, decision: Any) -> None:
    """Show the prompt for ``capture`` (or hold it for the prompt already shown)."""
    global _prompt
    shell = _shell()
    if shell is None or _environment.is_ci():
        sink.decide(capture, None)
        return
    request = open_request(sink, capture, decision, SURFACE)
    if request is None:
        return
    _follow_choices_made_elsewhere(shell, request)
    from IPython.display import Markdown, display

    try:
        import ipywidgets
    except ImportError:
        ipywidgets = None
    if ipywidgets is not None:
        _prompt = NotebookPrompt(request, ipywidgets)
        display(_prompt.widget)
    else:
        display(Markdown(snippet(request)))


def current_prompt() -> NotebookPrompt | None:
    """The widget prompt shown in this kernel, if any (to click its buttons from code)."""
    return _prompt


class NotebookPrompt:
    """The ipywidgets form: ``buttons`` (``once``/``always``/``deny``/``show``), ``email``,
    ``message`` and ``report``; ``widget`` is what the cell displays."""

    def __init__(self, request: ConsentRequest, widgets: Any) -> None:
        self.request = request
        self.email = widgets.Text(value=request.default_email or "", placeholder="you@example.com",
                                  description="Email (optional):",
                                  style={"description_width": "initial"})
        from .. import wording

        local = request.keeps_locally  # no destination: the buttons say "keep", never "send"
        once, always, deny, _show = wording.choices(local)
        self.buttons = {
            ONCE: widgets.Button(description=once if local else wording.BUTTON_ONCE,
                                 button_style="primary"),
            ALWAYS: widgets.Button(description=always if local else wording.BUTTON_ALWAYS,
                                   button_style="success"),
            DENY: widgets.Button(description=deny if local else wording.BUTTON_DENY),
            "show": widgets.Button(description=wording.BUTTON_SHOW, icon="eye"),
        }
        question = wording.QUESTION_LOCAL if local else QUESTION
        for name, button in self.buttons.items():
            button.on_click(self._handler(name))
        self.message = widgets.HTML("")
        self.report = widgets.HTML("")
        kind = html.escape(request.exception_type or "an error")
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>{_rotating_light()} {TITLE}</b><br>Crawl4AI hit an error "
                         f"(<code>{kind}</code>). <b>{html.escape(question)}</b>"),
            widgets.HTML(f"<small>{html.escape(WHAT)} Choosing does not re-run anything: this "
                         "error is kept in memory until you answer.</small>"),
            self.email,
            widgets.HBox(list(self.buttons.values())),
            self.message,
            self.report,
            widgets.HTML("<small>Or in a cell: <code>crawl4ai.telemetry.enable()</code>, "
                         "<code>crawl4ai.telemetry.enable(once=True)</code>, "
                         "<code>crawl4ai.telemetry.disable()</code>.</small>"),
        ])

    def _handler(self, name: str) -> Any:
        def on_click(_button: Any) -> None:
            try:
                if name == "show":
                    self.show_report()
                else:
                    self.answer(name)
            except Exception:
                internal_error("notebook prompt")

        return on_click

    def answer(self, choice: str) -> bool:
        """What a click does: validate the email, then apply ``choice``. False if refused."""
        if self.request.answer is not None:
            return False
        email = self.email.value.strip()
        if email and not _consent.is_valid_email(email):
            self.message.value = f"<span style='color:#b00020'>{INVALID_EMAIL}</span>"
            return False
        if not self.request.resolve(choice, email if choice in (ONCE, ALWAYS) else None):
            return False
        from .. import wording

        self.close(wording.answered(choice, wording.NOTEBOOK_COMMANDS, self.request.keeps_locally)
                   if self.request.keeps_locally else DONE.get(choice, ""))
        return True

    def show_report(self) -> None:
        if self.report.value:
            self.report.value = ""
            return
        self.report.value = _report_html(self.request)

    def close(self, text: str) -> None:
        """Answered: the buttons go grey and the cell says what happened."""
        for button in self.buttons.values():
            if button is not self.buttons["show"]:
                button.disabled = True
        self.email.disabled = True
        warning = self.request.warning
        note = f"<br><small>Note: {html.escape(warning)}.</small>" if warning else ""
        self.message.value = f"{_check()} {text}{note}"


def snippet(request: ConsentRequest) -> str:
    """The Markdown shown without ipywidgets: the question and the exact calls to answer it."""
    kind = request.exception_type or "an error"
    return "\n".join((
        f"### {_rotating_light()} {TITLE}",
        "",
        f"Crawl4AI hit an error (`{kind}`). **{QUESTION}**",
        "",
        f"{WHAT} This error is kept in memory until you answer by running one of these in a cell:",
        "",
        "```python",
        "import crawl4ai.telemetry",
        "crawl4ai.telemetry.enable(once=True)                # send this error only",
        "crawl4ai.telemetry.enable()                         # always send errors",
        'crawl4ai.telemetry.enable(email="you@example.com")  # always, with an email for follow-up',
        "crawl4ai.telemetry.disable()                        # don't send",
        "```",
        "",
        _report_html(request, summary=True),
        "",
        "(With `pip install ipywidgets` this question has buttons.)",
    ))


def _report_html(request: ConsentRequest, summary: bool = False) -> str:
    shown = request.shown_report()
    if shown is None:
        return f"<i>{NO_REPORT}</i>"
    body, removed = shown
    caption = REPORT_CAPTION + "."
    block = (f"<pre style='max-height:24em;overflow:auto'>{html.escape(body)}</pre>"
             f"<small>Removed before sending: {html.escape(removed)}</small>")
    if summary:
        return f"<details><summary>{caption}</summary>{block}</details>"
    return f"<small>{caption}</small>{block}"


def _follow_choices_made_elsewhere(shell: Any, request: ConsentRequest) -> None:
    """After each cell, apply a choice made with ``telemetry.enable/disable`` or the CLI."""

    def after_cell(*_args: Any) -> None:
        try:
            if request.answer is None:
                decision = _consent.decide(request.sink.store, request.environment)
                if decision.source == "default":
                    return  # still nobody's choice
                request.resolve_with(decision)
                if _prompt is not None and _prompt.request is request:
                    _prompt.close("Decided in code: " + html.escape(decision.reason) + ".")
            shell.events.unregister("post_run_cell", after_cell)
        except Exception:
            internal_error("notebook prompt watcher")

    shell.events.register("post_run_cell", after_cell)


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    try:
        return get_ipython() if get_ipython is not None else None
    except Exception:
        return None


def _rotating_light() -> str:
    return "\N{POLICE CARS REVOLVING LIGHT}"


def _check() -> str:
    return "\N{CHECK MARK}"

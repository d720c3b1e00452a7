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
from .. import wording
from .._debug import internal_error
from .._text import printable

if TYPE_CHECKING:
    from ..pipeline.capture import Capture
    from ..pipeline.sink import ConsentSink
from ._request import ALWAYS, DENY, ONCE, ConsentRequest, open_request

SURFACE = "notebook"
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
        self.email = widgets.Text(value=request.default_email or "",
                                  placeholder=wording.EMAIL_PLACEHOLDER,
                                  description=wording.EMAIL_LABEL,
                                  style={"description_width": "initial"})
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
        question = wording.QUESTION_LOCAL if local else wording.QUESTION
        for name, button in self.buttons.items():
            button.on_click(self._handler(name))
        self.message = widgets.HTML("")
        self.report = widgets.HTML("")
        kind = _html(request.exception_type or wording.AN_ERROR)
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>{_rotating_light()} {wording.TITLE}</b><br>"
                         f"{wording.HIT.format(kind=f'<code>{kind}</code>')} "
                         f"<b>{html.escape(question)}</b>"),
            widgets.HTML(f"<small>{html.escape(wording.WHAT)} "
                         f"{html.escape(wording.KEPT_IN_MEMORY)}</small>"),
            self.email,
            widgets.HBox(list(self.buttons.values())),
            self.message,
            self.report,
            widgets.HTML("<small>Or in a cell: <code>crawl4ai.telemetry.enable()</code>, "
                         "<code>crawl4ai.telemetry.enable(once=True)</code>, "
                         f"{wording.NOTEBOOK_COMMANDS['local_only']} (kept on this machine, "
                         "never sent), <code>crawl4ai.telemetry.disable()</code>.</small>"),
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
            self.message.value = f"<span style='color:#b00020'>{wording.INVALID_EMAIL}.</span>"
            return False
        if not self.request.resolve(choice, email if choice in (ONCE, ALWAYS) else None):
            return False
        self.close(wording.answered(choice, wording.NOTEBOOK_COMMANDS, self.request.keeps_locally))
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
        note = (f"<br><small>{_html(wording.NOT_SAVED.format(warning=warning))}</small>"
                if warning else "")
        self.message.value = f"{_check()} {text}{note}"


def snippet(request: ConsentRequest) -> str:
    """The Markdown shown without ipywidgets: the question and the exact calls to answer it."""
    # In a code span: controls made visible, and no backtick can close it early.
    kind = printable(request.exception_type or wording.AN_ERROR).replace("`", "'")
    local = request.keeps_locally  # no destination: say "keep", never "send"
    question = wording.QUESTION_LOCAL if local else wording.QUESTION
    once, always, deny, _show = (choice.lower() for choice in wording.choices(local))
    return "\n".join((
        f"### {_rotating_light()} {wording.TITLE}",
        "",
        f"{wording.HIT.format(kind=f'`{kind}`')} **{question}**",
        "",
        f"{wording.WHAT} {wording.SNIPPET_INTRO}",
        "",
        "```python",
        "import crawl4ai.telemetry",
        f"crawl4ai.telemetry.enable(once=True)                # {once}",
        f"crawl4ai.telemetry.enable()                         # {always}",
        'crawl4ai.telemetry.enable(email="you@example.com")  # always, with an email for follow-up',
        "crawl4ai.telemetry.enable(local_only=True)          # keep reports here, send none",
        f"crawl4ai.telemetry.disable()                        # {deny}",
        "```",
        "",
        _report_html(request, summary=True),
        "",
        wording.WIDGETS_HINT,
    ))


def _html(text: str, multiline: bool = False) -> str:
    """Text we did not all write (an exception's name, a report, a file's reason) as HTML:
    control characters made visible as on every other surface (:mod:`.._text`), then escaped."""
    return html.escape(printable(text, multiline=multiline))


def _report_html(request: ConsentRequest, summary: bool = False) -> str:
    shown = request.shown_report()
    if shown is None:
        return f"<i>{wording.NO_REPORT}</i>"
    body, removed = shown
    caption = wording.report_caption(request.destination, request.keeps_locally) + "."
    block = (f"<pre style='max-height:24em;overflow:auto'>{_html(body, multiline=True)}</pre>"
             f"<small>{_html(wording.REMOVED.format(removed=removed))}</small>")
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
                    _prompt.close(_html(wording.DECIDED_ELSEWHERE.format(reason=decision.reason)))
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

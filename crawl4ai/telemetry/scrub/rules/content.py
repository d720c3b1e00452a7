"""Crawled content → ``<markup>``, ``<markdown>``, ``<text>``: HTML (from the first tag to the
last, the text between them included), entities, fenced code, markdown links, headings, tables
and bold runs, and prose longer than any explanation (a page's text, a model's answer).
"""

from __future__ import annotations

import re

from . import PLACEHOLDER, Rule

LONG_SEGMENT = 200  # a run of prose this long is content, not an explanation

_HTML_TAGS = (
    "html|head|body|title|meta|link|base|script|style|noscript|div|span|p|a|img|br|hr|ul|ol|li|"
    "table|thead|tbody|tfoot|tr|td|th|caption|form|input|button|select|option|textarea|label|"
    "iframe|frame|section|article|header|footer|nav|main|aside|h[1-6]|strong|em|b|i|u|small|pre|"
    "code|blockquote|svg|figure|figcaption|video|audio|source|picture|canvas|template|dl|dt|dd|"
    "abbr|cite|q|sup|sub|time|mark|center|font|object|embed|noframes|xml|rss|feed|entry|item"
)
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|&lt;/?[A-Za-z][\s\S]{0,2000}?&gt;"
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<![A-Za-z][^<>]*>"
    r"|<\?[A-Za-z][^<>]*\?>"
    r"|</[A-Za-z][\w:.-]*\s*>"
    r"|<(?:" + _HTML_TAGS + r")(?:\s[^<>]*)?/?>"
    r"|<[A-Za-z][\w:.-]*\s+[\w:.-]+\s*=[^<>]*>",
    re.I | re.S,
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MARKDOWN = re.compile(
    r"```.*?(?:```|\Z)"  # fenced blocks
    r"|!?\[[^\]\n]{0,300}\]\([^)\n]{0,1000}\)"  # links and images
    r"|^[ \t]{0,3}#{1,6}[ \t]+\S[^\n]*"  # headings
    r"|^[ \t]*\|[^\n]*\|[ \t]*$"  # table rows
    r"|(?<!\w)\*\*\w[^*\n]{0,500}?\w\*\*(?!\w)",  # bold runs
    re.S | re.M,
)

def _markup(text: str) -> tuple[str, int]:
    """From the first tag to the last: crawled markup and the text between its tags."""
    tags = [m for m in _MARKUP.finditer(text) if not re.fullmatch(PLACEHOLDER, m.group(0))]
    if not tags:
        return text, 0
    start, end = tags[0].start(), tags[-1].end()
    return text[:start] + "<markup>" + text[end:], len(tags)


def _long_segments(text: str) -> tuple[str, int]:
    """Prose longer than any explanation is content (crawled text, a model's answer…)."""
    count = 0
    lines = []
    for line in text.split("\n"):
        if len(line) > LONG_SEGMENT:
            parts = line.split(": ")
            for i, part in enumerate(parts):
                if len(re.sub(PLACEHOLDER, "", part)) > LONG_SEGMENT:
                    parts[i] = "<text>"
                    count += 1
            line = ": ".join(parts)
        lines.append(line)
    return "\n".join(lines), count


FENCED = Rule("markdown", re.compile(r"```.*?(?:```|\Z)", re.S), "<markdown>", ("```",))
MARKUP = Rule("markup", triggers=("<", "&lt;"), apply=_markup)
ENTITIES = Rule("markup", _ENTITY, "<markup>", ("&",))
MARKDOWN = Rule("markdown", _MARKDOWN, "<markdown>", ("[", "#", "|", "**"))
PROSE = Rule("text", apply=_long_segments)

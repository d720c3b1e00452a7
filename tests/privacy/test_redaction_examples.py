"""The message redactor, example by example: every kind of data becomes its typed placeholder,
and the static text of the template that wrote the message stays (a table a privacy reviewer can
read). Each example is aligned to the template its raising line would have had (its expected
text, placeholders as holes) besides a crawl's own code and CPython's templates. (A template of
function words only, "{} and {}", keeps nothing: each example's template names what failed.)"""

from __future__ import annotations

from collections import Counter

import pytest

from crawl4ai.telemetry.scrub import MAX_MESSAGE, LocalNames
from tests.privacy.crawl_words import redact_text, template_of

EXAMPLES = [
    # URLs in every form
    ("Failed to parse https://user:secret@example.com/private?token=abc123: unexpected token at line 3",
     "Failed to parse <url>: unexpected token at line <number>"),
    ("Failed to parse www.example.com/a/b: unexpected token at line 3",
     "Failed to parse <url>: unexpected token at line <number>"),
    ("Page.goto: net::ERR_NAME_NOT_RESOLVED at https://bücher.de/x", "Page.goto: net::ERR_NAME_NOT_RESOLVED at <url>"),
    ("fetch https%3A%2F%2Fexample.com%2Fpath and q%3Dhello%20world failed", "fetch <url> and <url> failed"),
    ("fetch //cdn.example.com/lib.js failed", "fetch <url> failed"),
    ("proxy alice:pw@proxy.example.com:8080 refused", "proxy <url> refused"),
    ("open data:text/html;base64,PGh0bWw+ and mailto:a@b.org", "open <url> and <url>"),
    ('{"link": "https:\\/\\/example.com\\/a"}', "{<str>: '<url>'}".replace("'", '"')),
    # host names, but not Python names
    ("Cannot connect to host example.com:443 ssl:default [Name or service not known]",
     "Cannot connect to host <host> ssl:default [Name or service not known]"),
    ("Cannot connect to host intranetbox:8080 ssl:default", "Cannot connect to host <host> ssl:default"),
    ("visit bücher.de or xn--bcher-kva.de now", "visit <host> or <host> <str>"),
    ("module crawl4ai.async_webcrawler failed in asyncio.tasks at asyncio.events",
     "module crawl4ai.async_webcrawler failed in asyncio.tasks at asyncio.events"),
    # ... and a dotted word is kept only when known code writes it whole (crawl4ai's "logger.info").
    ("dotted user.name logger.info self.page os.path obj.id setup.py README.md",
     "<str> <host> logger.info <host> os.path <host> <host> <host>"),
    # a value from a site's header, unquoted in a standard-library message
    ("unknown encoding: x-charset-secret-5e1d", "unknown encoding: <str>"),
    ("unsupported locale setting", "unsupported locale setting"),
    # e-mails, IPs
    ("notify jane.doe+tag@example.co.uk or jane%40example.com", "notify <email> or <email>"),
    ("connect 192.168.1.20:8080 and [2001:db8::1]:443 and fe80::1%eth0 and ::1 refused at 12:30:45",
     "connect <ip> and <ip> and <ip> and <ip> refused at <number>:<number>:<number>"),
    # tokens, keys, credentials, headers, cookies
    ("key sk-proj-abcdEFGH1234567890 and AKIAIOSFODNN7EXAMPLE and ghp_abcdefghijklmnop1234 xoxb-1234-abcd-efgh",
     "key <secret> and <secret> and <secret> <secret>"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig123abc", "Authorization: <secret>"),
    ("got Bearer abc.def-123 back", "got <str> <secret> back"),
    ("Cookie: session=abc123; theme=dark", "<str>: <secret>"),
    ("Incorrect API key provided: sk-abc12*********************wxyz. You can find your API key at "
     "https://platform.openai.com/account/api-keys.",
     "<str> key provided: <secret>. You can find your <str> key at <url>."),
    ("password=hunter2 and {'api_key': 'abcd'} token=zzz", "password=<secret> and {<str>: <secret>} token=<secret>"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY----- rejected", "<secret> rejected"),
    ("Invalid proxy string format: 10.0.0.1:8080:alice:s3cr3t", "Invalid proxy string format: <secret>"),
    ("form=alice&next=home failed, timeout=30 verbose=True mode=CacheMode.BYPASS",
     "<str>=<str>&next=<str> failed, timeout=<number> verbose=True mode=<host>"),
    # crawled content
    ("<html><body><p>Hello Jane Doe</p></body></html> failed", "<markup> failed"),
    ("&lt;div class=&quot;x&quot;&gt;Hello&lt;/div&gt;", "<markup>"),
    ("No match in\n# Jane's blog\n[read more](/post/1) and **Jane** skipped",
     "No match in\n<markdown>\n<markdown> and <markdown> skipped"),
    ("LLM did not return valid JSON: " + "lorem ipsum dolor sit amet " * 10, "<str> did not return valid JSON: <text>"),
    # paths
    ("No such file or directory: '/home/alice/projects/secret.txt'", "No such file or directory: '<path>'"),
    ("copy C:\\Users\\alice\\file.txt and ~/data/x.json and ./out/run/1.json", "copy <path> and <path> and <path>"),
    # quoted data and code names
    ("KeyError: 'title' and ('a', b'bytes') and \"it's\"", "KeyError: <str> and (<str>, <str>) and <str>"),
    ("'NoneType' object has no attribute 'markdown'", "'NoneType' object has no attribute 'markdown'"),
    ("No module named 'crawl4ai.async_webcrawler'", "No module named 'crawl4ai.async_webcrawler'"),
    ("__init__() got an unexpected keyword argument 'verbose' and **kwargs",
     "__init__() got an unexpected keyword argument 'verbose' and **kwargs"),
    # ... but a name known code does not define is the user's code
    ("No module named 'crawl4ai.foo'", "No module named '<user code>'"),
    ("'Acme' object has no attribute 'harvest'", "'<user code>' object has no attribute '<user code>'"),
    ("cannot import name 'acme' from 'acme_tools'", "cannot import name '<user code>' from '<user code>'"),
    ("Can't parse page, do retry", "Can't parse page, do retry"),
    # ids, numbers, addresses (they would split one bug into many issues)
    ("<Task pending name='Task-1' coro=<main() running at 0x7f3b2c1d0e10>>",
     "<Task pending name=<str> coro=<<str>() running at <addr>>>"),
    ("session 550e8400-e29b-41d4-a716-446655440000 hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
     "session <id> hash <secret>"),
    ("Timeout 30000ms exceeded. phone 4155551234", "Timeout <number>ms exceeded. <str> <number>"),
]


@pytest.mark.parametrize("message,expected", EXAMPLES)
def test_message_redaction(message, expected):
    assert redact_text(message, template=template_of(expected)) == expected
    assert redact_text(expected, template=template_of(expected)) == expected


def test_this_machines_names_are_redacted_even_when_they_look_like_words():
    local = LocalNames(homes=("/home/vm-user",), users=("vm-user",), hosts=("build",))
    out = redact_text("build failed for vm-user in /home/vm-user and /home/vm-user/x/y.py", local=local,
                      template=(None, " failed for ", None, " in ", None, " and ", None))
    assert out == "<host> failed for <user> in ~ and <path>"
    # ... template text included: a machine called "build" is named wherever it stands.
    assert redact_text("build failed", local=local, template=("build failed",)) == "<host> failed"


def test_removed_data_is_counted_by_kind_never_kept():
    removed: Counter[str] = Counter()
    redact_text("sent https://a.example.com and b@c.org and 10.0.0.1 and sk-abcdefghijklmnop", removed,
                template=template_of("sent <url> and <email> and <ip> and <secret>"))
    assert removed == Counter({"url": 1, "email": 1, "ip": 1, "secret": 1})


def test_long_messages_are_cut_after_redaction_not_instead_of_it():
    url = "https://example.com/" + "a" * 200
    code = (("timed out",), (None, " failed"), (None, " failed ", None))
    # Too long before redaction, short enough after: nothing is cut, the tail's text survives.
    out = redact_text("timed out\n" * ((MAX_MESSAGE - 30) // 10) + url + " failed", templates=code)
    assert out.endswith("<url> failed") and "example" not in out
    # Still too long after redaction: cut, with the data gone and no half placeholder left.
    out = redact_text("timed out\n" * (MAX_MESSAGE // 10) + url + " failed " + url, templates=code)
    assert out.endswith("…") and len(out) <= MAX_MESSAGE and "example" not in out and "aaaa" not in out
    # A message longer than the input cap still loses its data, and its last cut word.
    huge = redact_text(("failed " * 20000) + "sk-abcdefghijklmnop1234", templates=code)
    assert "sk-" not in huge and len(huge) <= MAX_MESSAGE

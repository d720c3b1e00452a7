"""A dotted module name in a message is kept only when known code has that module: the standard
library's, or a loaded module known code owns. The set is asked name by name (the worker's first
report no longer asks the owner of every loaded module), and answers as the whole set did."""

from __future__ import annotations

import sys

import urllib3.exceptions  # noqa: F401 - a loaded library module

from crawl4ai.telemetry.scrub import redact_text, vocabulary_for
from crawl4ai.telemetry.scrub.vocabulary import KnownModules
from tests.privacy.canary import canary


def test_a_loaded_user_modules_dotted_name_is_not_kept(tmp_path, monkeypatch):
    package, secret = canary("pk"), canary("mod")
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / f"{secret}.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(f"{package}.{secret}")
    try:
        known = KnownModules()
        assert f"{package}.{secret}" not in known  # loaded, but the user's
        assert "urllib3.exceptions" in known and "json.decoder" in known and "os" in known
        assert "email.mime.audio" not in sys.modules and "email.mime.audio" not in known
        assert 5 not in known and None not in known
        vocabulary = vocabulary_for(["urllib3.exceptions"])
        assert redact_text(f"module {package}.{secret} failed", vocabulary=vocabulary) \
            == "module <host> failed"
        assert redact_text("module urllib3.exceptions failed", vocabulary=vocabulary) \
            == "module urllib3.exceptions failed"
    finally:
        for name in (f"{package}.{secret}", package):
            sys.modules.pop(name, None)

"""A module name in a template's module hole (``No module named '{module}'``) is kept only when
known code has that module: the standard library's, or a loaded module known code owns. The set is asked name by name (the worker's first
report no longer asks the owner of every loaded module), and answers as the whole set did."""

from __future__ import annotations

import sys

import urllib3.exceptions  # noqa: F401 - a loaded library module

from crawl4ai.telemetry.scrub import redact_text
from crawl4ai.telemetry.scrub.align import Aligner, Proofs
from crawl4ai.telemetry.scrub.known_names import KnownModules
from crawl4ai.telemetry.scrub.message import base_pool
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
        aligner = Aligner((base_pool(),), Proofs(modules=known.__contains__))
        assert redact_text(f"No module named '{package}.{secret}'", aligner=aligner) \
            == "No module named '<user code>'"
        assert redact_text("No module named 'urllib3.exceptions'", aligner=aligner) \
            == "No module named 'urllib3.exceptions'"
        # Outside a template's module hole a dotted name is text like any other.
        assert redact_text("module urllib3.exceptions failed", aligner=aligner) == "<str> <host> <str>"
    finally:
        for name in (f"{package}.{secret}", package):
            sys.modules.pop(name, None)

"""Wrong types given to the public API: the documented error with a clear message, or nothing."""

from __future__ import annotations

import pytest

from crawl4ai import telemetry


@pytest.mark.parametrize("email", [5, b"me@example.com", ["me@example.com"], object()])
def test_enable_with_an_email_that_is_not_text_is_the_documented_value_error(home, email):
    with pytest.raises(ValueError, match="not a valid email address"):
        telemetry.enable(email=email)
    assert telemetry.status()["consent"] == "not_set"
    assert not (home / ".crawl4ai" / "config.json").exists()


@pytest.mark.parametrize("thing", [None, "boom", 5, ValueError])
def test_build_report_of_something_that_is_not_an_exception_says_so(thing):
    with pytest.raises(TypeError, match="takes an exception"):
        telemetry.build_report(thing)

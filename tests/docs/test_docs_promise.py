"""The docs' "Collected" and "Never collected" lists match what the tests prove, item by item.

The test reads whatever ``docs/md_v2/core/telemetry.md`` says: every bullet of both lists must map
to named tests that exist, and every mapped promise must still be in the docs. The proofs of the
"never collected" list are run (in a child pytest): each must pass, and each item needs one that
planted secrets and searched every byte sent for them. The "collected" list is checked against the
scrubber's schema (``crawl4ai.telemetry.scrub.schema``), field by field. Adding a promise to the docs
without a test, or dropping one from the docs while its test lives on, fails here.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "md_v2" / "core" / "telemetry.md"

PLANTED = "tests.privacy.test_planted_secrets"
PROCESS = "tests.privacy.test_planted_secrets_process"
PROPERTIES = "tests.privacy.test_redaction_properties"
UTILITY = "tests.privacy.test_report_utility"
OWNERSHIP = "tests.privacy.test_ownership"

# Doc item (how its bullet begins, lower case) -> the tests that prove it.
COLLECTED: dict[str, list[str]] = {
    "exception type and traceback": [
        f"{UTILITY}::test_a_real_crawl4ai_failure_keeps_its_frames",
        f"{UTILITY}::test_user_frames_and_user_exception_classes_keep_only_that_they_are_user_code",
    ],
    "crawl4ai version": [f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "telemetry version": [f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "python version": [f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "operating system name and release": [
        f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "environment type": [f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "the exception message": [
        f"{UTILITY}::test_a_real_crawl4ai_failure_keeps_its_frames",
        f"{UTILITY}::test_one_bug_on_different_sites_groups_as_one_issue",
    ],
    "how the error was seen": [
        f"{PLANTED}::test_every_decorator_and_context_manager",
        f"{PROCESS}::test_uncaught_exception_is_reported_without_secrets",
    ],
    "the telemetry context": [f"{PLANTED}::test_context_dict_keeps_only_telemetry_keys"],
    "a random report id": [f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport"],
    "your email": [
        f"{UTILITY}::test_versions_environment_and_email_survive_the_real_transport",
        f"{UTILITY}::test_no_email_unless_one_was_given",
    ],
}
NEVER_COLLECTED: dict[str, list[str]] = {
    "urls": [f"{PLANTED}::test_urls_in_any_form_are_never_sent",
             f"{PROPERTIES}::test_generated_urls_are_redacted"],
    "request and response data": [f"{PLANTED}::test_request_and_response_data_are_never_sent"],
    "headers": [f"{PLANTED}::test_headers_are_never_sent"],
    "cookies": [f"{PLANTED}::test_cookies_are_never_sent"],
    "tokens and keys": [f"{PLANTED}::test_tokens_and_keys_are_never_sent",
                        f"{PROPERTIES}::test_generated_tokens_and_keys_are_redacted"],
    "crawled content": [f"{PLANTED}::test_crawled_content_is_never_sent"],
    "ip addresses": [f"{PLANTED}::test_ip_addresses_are_never_sent",
                     f"{PROPERTIES}::test_generated_ip_addresses_are_redacted"],
    "host names": [f"{PLANTED}::test_host_names_are_never_sent",
                   f"{PROCESS}::test_host_user_and_home_are_never_sent"],
    "user names": [f"{PLANTED}::test_user_names_are_never_sent",
                   f"{PROCESS}::test_host_user_and_home_are_never_sent"],
    "home-directory paths": [f"{PLANTED}::test_home_directory_paths_are_never_sent",
                             f"{PROCESS}::test_host_user_and_home_are_never_sent"],
    "command-line arguments": [f"{PROCESS}::test_command_line_arguments_are_never_sent"],
    "environment variables": [f"{PROCESS}::test_environment_variables_are_never_sent"],
    "local variables": [f"{PLANTED}::test_local_variables_self_and_source_lines_are_never_sent"],
    "source lines of your own code": [
        f"{PLANTED}::test_local_variables_self_and_source_lines_are_never_sent",
        f"{PROCESS}::test_script_path_and_source_lines_are_never_sent"],
    "log lines": [f"{PLANTED}::test_log_lines_are_never_sent",
                  f"{PROCESS}::test_log_lines_before_the_crash_are_never_sent"],
    "installed-package lists": [f"{PROCESS}::test_installed_package_lists_are_never_sent"],
    "e-mail addresses": [f"{PLANTED}::test_notes_are_never_sent",
                         f"{PROPERTIES}::test_generated_emails_are_redacted"],
    "names of your own code": [
        f"{PLANTED}::test_every_decorator_and_context_manager",
        f"{OWNERSHIP}::test_no_name_of_a_pip_installed_user_package_leaves",
        f"{PROCESS}::test_script_path_and_source_lines_are_never_sent"],
}


def _section_items(markdown: str, heading: re.Pattern[str]) -> list[str]:
    """The bullets under the first heading matching ``heading`` that has any, up to the next
    heading."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#") and heading.fullmatch(line.lstrip("# ").strip().lower()):
            items = []
            for item in lines[i + 1:]:
                if item.lstrip().startswith("#"):
                    break
                if re.match(r"\s*[-*]\s+", item):
                    items.append(re.sub(r"\s*[-*]\s+", "", item, count=1).strip())
            if items:
                return items
    raise AssertionError(f"{DOC} has no list under a heading matching {heading.pattern!r}")


def _plain(item: str) -> str:
    return re.sub(r"[*_`]", "", item).strip().lower()


def _doc_lists() -> tuple[list[str], list[str]]:
    assert DOC.exists(), f"{DOC} is missing: the privacy promise must be documented"
    text = DOC.read_text(encoding="utf-8")
    collected = _section_items(text, re.compile(r"(what is |what's )?collected"))
    never = _section_items(text, re.compile(r"(what is |what's )?(never|not) collected"))
    assert collected and never, "both lists must have items"
    return collected, never


def _mapped(item: str, mapping: dict[str, list[str]]) -> list[str]:
    keys = [k for k in mapping if _plain(item).startswith(k)]
    assert len(keys) == 1, f"doc item {item!r} has no test mapped to it (or several): add it to this file"
    return mapping[keys[0]]


def _resolve(test_id: str):
    module_name, function_name = test_id.split("::")
    function = getattr(importlib.import_module(module_name), function_name, None)
    assert function is not None and function_name.startswith("test_"), f"{test_id} does not exist"
    return function


def test_every_collected_item_is_proven_to_survive():
    collected, _ = _doc_lists()
    for item in collected:
        for test_id in _mapped(item, COLLECTED):
            _resolve(test_id)


def _run_proofs(test_ids: set[str], tmp_path: Path) -> dict[str, dict[str, int | str]]:
    """Run ``test_ids`` for real, in a child pytest, and return per test its outcome and how
    often it searched what was sent for planted secrets."""
    record = tmp_path / "proofs.jsonl"
    paths = sorted(f"{i.split('::')[0].replace('.', '/')}.py::{i.split('::')[1]}" for i in test_ids)
    env = {**os.environ, "PROOF_RECORD": str(record), "PRIVACY_EXAMPLES": "60"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.docs.proof_recorder",
                    "-p", "no:cacheprovider", "-n", "2", *paths],
                   cwd=DOC.parents[3], env=env, capture_output=True, text=True, timeout=900)
    results: dict[str, dict[str, int | str]] = {}
    for line in record.read_text().splitlines() if record.exists() else ():
        entry = json.loads(line)
        name = entry["nodeid"].split("::")[-1].split("[")[0]
        result = results.setdefault(name, {"outcome": "passed", "searched": 0})
        if entry.get("outcome") in ("failed", "skipped") and result["outcome"] == "passed":
            result["outcome"] = entry["outcome"]
        result["searched"] = int(result["searched"]) + entry.get("searched", 0)
    return results


@pytest.mark.timeout(900)
def test_every_never_collected_item_is_proven_by_a_planted_secret(tmp_path):
    """Each mapped proof is run, must pass, and each item has a proof that planted secrets and
    searched every byte sent for them (not a test that merely mentions the promise)."""
    _, never = _doc_lists()
    proofs = {item: _mapped(item, NEVER_COLLECTED) for item in never}
    for test_ids in proofs.values():
        for test_id in test_ids:
            _resolve(test_id)
    # The proofs that plant secrets and search what was sent are run; property tests (which
    # search the redacted text itself) run in the suite as usual.
    planted = {t for ids in proofs.values() for t in ids if t.startswith((PLANTED, PROCESS, OWNERSHIP))}
    results = _run_proofs(planted, tmp_path)
    for item, test_ids in proofs.items():
        names = [t.split("::")[1] for t in test_ids if t in planted]
        for name in names:
            assert results.get(name, {}).get("outcome") == "passed", f"{name} (proof of {item!r}) did not pass: {results.get(name)}"
        assert any(int(results[n]["searched"]) > 0 for n in names), (
            f"no proof of {item!r} searched what was sent for a planted secret")


def test_the_report_schema_and_the_collected_list_agree():
    """Every field a report may carry belongs to an item of the docs' "Collected" list, and every
    item has fields: the list is the schema the scrubber enforces."""
    from crawl4ai.telemetry.scrub import schema

    collected, _ = _doc_lists()
    items = {key for item in collected for key in COLLECTED if _plain(item).startswith(key)}
    assert schema.PROMISES == items, (
        f"schema only: {sorted(schema.PROMISES - items)}; docs only: {sorted(items - schema.PROMISES)}")


def test_every_proven_promise_is_still_in_the_docs():
    collected, never = _doc_lists()
    for mapping, items in ((COLLECTED, collected), (NEVER_COLLECTED, never)):
        for key in mapping:
            assert any(_plain(item).startswith(key) for item in items), (
                f"the docs no longer list {key!r}: remove it here too, or put it back in the docs")

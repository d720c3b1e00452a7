"""The post-import hook the installed ``crawl4ai_telemetry.pth`` line loads at start-up.

It costs almost nothing: one finder on ``sys.meta_path`` that only wakes up when one of the
watched crawl4ai modules is imported. It never imports crawl4ai, never raises, and
``CRAWL4AI_TELEMETRY_HOOK=0`` switches it off entirely.

When ``crawl4ai`` itself is imported it makes sure ``crawl4ai.telemetry`` resolves, also for an
editable install of this add-on whose sources live outside the real crawl4ai package.
This file is installed twice: as ``crawl4ai/telemetry/_hook.py`` and as the top-level
``_crawl4ai_telemetry_hook`` the ``.pth`` line imports (importing crawl4ai there would be slow).
"""

import os
import sys

HOOK_ENV = "CRAWL4AI_TELEMETRY_HOOK"


def _addon_dirs(existing):
    """Folders on sys.path holding ``crawl4ai/telemetry`` outside a real crawl4ai package."""
    found = []
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "crawl4ai")
        if candidate in existing or os.path.exists(os.path.join(candidate, "__init__.py")):
            continue
        if os.path.exists(os.path.join(candidate, "telemetry", "__init__.py")):
            found.append(candidate)
    return found


class _Crawl4aiFinder:
    """Wakes up for ``import crawl4ai`` only; lets the normal finders do the real work."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "crawl4ai":
            return None
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
            locations = spec.submodule_search_locations
            if locations is not None and not any(
                os.path.exists(os.path.join(p, "telemetry", "__init__.py")) for p in locations
            ):
                locations.extend(_addon_dirs(set(locations)))
            return spec
        except Exception:
            return None


def install():
    """Put the finder in place (idempotent)."""
    if os.environ.get(HOOK_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return
    if any(type(f).__name__ == "_Crawl4aiFinder" for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Crawl4aiFinder())


if __name__ == "_crawl4ai_telemetry_hook":
    try:
        install()
    except Exception:
        pass

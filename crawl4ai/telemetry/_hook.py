"""Activation on install: the post-import hook the ``crawl4ai_telemetry.pth`` line loads."""

# It runs at every interpreter start-up, so it is tiny (budget: 0.5 ms; see
# benchmarks/bench_hook.py) and explains itself in comments, which cost nothing at start-up.
#
# One finder sits on sys.meta_path and wakes up only for the crawl4ai modules it watches. It
# never imports crawl4ai itself and never raises.
# - `import crawl4ai`: make sure `crawl4ai.telemetry` resolves, also for an editable install of
#   this add-on whose sources live outside the real crawl4ai package (always, even with the hook
#   switched off, or `import crawl4ai.telemetry` would fail).
# - after `crawl4ai` (or `crawl4ai.async_webcrawler`) has run: wrap crawl4ai's crawl steps
#   (crawl4ai.telemetry.integrations.crawl4ai).
# - after `crawl4ai.cli` has run: also mount `crwl telemetry`.
# - after a top-level module `server` has run in a process that has imported crawl4ai: it may be
#   Crawl4AI's API server application, which its image starts as
#   `gunicorn ... --worker-class uvicorn.workers.UvicornWorker server:app` (supervisord.conf);
#   crawl4ai.telemetry.integrations.server checks that it is, then sets the server up. Any other
#   `server` module costs one dictionary look-up.
# - `import crawl4ai.telemetry.tui` in an editable install: the dashboard lives in the
#   repository's top-level tui/ folder (the wheel maps it into place at build time), so map that
#   one name to it, and nothing else of the repository.
# CRAWL4AI_TELEMETRY_HOOK=0 switches the patching off (`crawl4ai.telemetry.install()` still
# works); nothing is patched while CRAWL4AI_TELEMETRY=0 or DO_NOT_TRACK=1 is set.
#
# This file is installed twice: as crawl4ai/telemetry/_hook.py and as the top-level
# `_crawl4ai_telemetry_hook` the .pth line imports (importing crawl4ai there would be slow), so
# it imports nothing but os and sys, which are loaded at start-up anyway (and, once crawl4ai
# has run, crawl4ai.telemetry.settings, where CRAWL4AI_TELEMETRY_HOOK is read like every setting).

import os
import sys

# The modules whose execution the finder follows; every other import costs one set lookup.
_WATCHED = frozenset({"crawl4ai", "crawl4ai.async_webcrawler", "crawl4ai.cli", "crawl4ai.telemetry.tui",
                      "server"})
_TUI = "crawl4ai.telemetry.tui"
_SERVER = "server"


def _addon_dirs(existing):  # folders holding crawl4ai/telemetry outside the real crawl4ai
    found = []
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "crawl4ai")
        if candidate in existing or os.path.exists(os.path.join(candidate, "__init__.py")):
            continue
        if os.path.exists(os.path.join(candidate, "telemetry", "__init__.py")):
            found.append(candidate)
    return found


def _repository_tui(path):  # the editable install's tui/ spec, or None
    for telemetry_dir in path or ():
        folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(telemetry_dir))), "tui")
        init = os.path.join(folder, "__init__.py")
        if os.path.exists(init):
            from importlib.util import spec_from_file_location

            return spec_from_file_location(_TUI, init, submodule_search_locations=[folder])
    return None


def _after_import(name):  # right after a watched module has run; never raises
    try:
        if name == _SERVER and "crawl4ai" not in sys.modules:
            return  # not Crawl4AI's server (it imports crawl4ai first); never import crawl4ai here
        # crawl4ai itself has run by now, so its settings module is cheap to import here.
        from crawl4ai.telemetry import settings

        if not settings.hook_enabled():
            return
        if name == _SERVER:
            from crawl4ai.telemetry.integrations.server import on_import

            on_import(sys.modules.get(name))
            return
        from crawl4ai.telemetry.integrations.crawl4ai import on_import

        on_import(name)
    except Exception:
        try:
            from crawl4ai.telemetry._debug import internal_error

            internal_error(f"post-import hook for {name}")
        except Exception:
            pass


class _Loader:  # the real loader, then the post-import step; the module keeps its real loader

    def __init__(self, loader, name):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        # Put the real loader back before the module runs, so nothing can tell it was wrapped.
        try:
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader
        except Exception:
            pass
        self._loader.exec_module(module)
        _after_import(self._name)

    def __getattr__(self, attr):
        return getattr(self._loader, attr)


class _Crawl4aiFinder:  # wakes up for the watched modules only; the normal finders do the work

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _WATCHED:
            return None
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return _repository_tui(path) if fullname == _TUI else None
            if fullname == _TUI:
                return spec
            if fullname == "crawl4ai":
                locations = spec.submodule_search_locations
                if locations is not None and not any(
                    os.path.exists(os.path.join(p, "telemetry", "__init__.py")) for p in locations
                ):
                    locations.extend(_addon_dirs(set(locations)))
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Loader(spec.loader, fullname)
            return spec
        except Exception:
            return None


def install():
    # Idempotent. The patching obeys settings.hook_enabled() when the watched modules are imported, so
    # the editable-install path fix works even with the hook switched off.
    if any(type(f).__name__ == "_Crawl4aiFinder" for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Crawl4aiFinder())


if __name__ == "_crawl4ai_telemetry_hook":
    try:
        install()
    except Exception:
        pass

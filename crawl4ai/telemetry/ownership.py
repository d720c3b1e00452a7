"""Whose code is this frame: Crawl4AI's, a known library's, the standard library's, or the user's.

This is the one place that decides it; build, scrub, the classifier and the dedupe all ask here.

- **crawl4ai** (and **telemetry**, this add-on inside it): files of the ``crawl4ai`` distribution,
  and the files of Crawl4AI's API server application once it is recognised in this process
  (:func:`adopt_folder`): the image keeps that application outside the package, in ``/app``.
- **library**: files of a distribution in Crawl4AI's dependency closure (its required
  dependencies, theirs, and so on; this add-on's own, with its Sentry transport; and, once
  Crawl4AI's API server is recognised, the closure of what that server requires: FastAPI,
  Starlette, uvicorn, …). The closure is
  read with :mod:`importlib.metadata`, never guessed from a ``site-packages`` path: a user's own
  crawler installed with ``pip install .`` sits in ``site-packages`` too, and it is the user's.
- **stdlib**: files under the interpreter's standard-library directory (not its site-packages),
  frozen modules, and built-in modules.
- **user**: everything else, wherever it is installed. Reports keep only that such a frame
  exists: no path, module, function or line, and never in the fingerprint or a kept message.

A file belongs to a distribution when it lies under one of the distribution's top-level names in
the folder the distribution is installed in (``<site>/httpx/...`` for ``httpx``). The index of
those names costs about 0.1-0.3 s to read from the installed metadata, so it is built once, on
first use, and kept in memory; the worker keeps it between processes with :mod:`.cache`
(:func:`index_data` / :func:`adopt_index`: this module reads no file of ours). It holds digests
only: no package name or path is written down, not even locally.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import sysconfig
import threading
from functools import lru_cache
from types import FrameType, MappingProxyType
from typing import Any

from ._record import Record

CRAWL4AI = "crawl4ai"
TELEMETRY = "telemetry"
LIBRARY = "library"
STDLIB = "stdlib"
USER = "user"

USER_CODE = "<user code>"

# Where the closure starts: Crawl4AI, and this add-on with the extra that brings its transport.
_ROOTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("crawl4ai", frozenset()),
    ("crawl4ai-telemetry", frozenset({"sentry"})),
)
_MAX_DISTRIBUTIONS = 2000  # a bound on the closure walk, far above any real environment


class Owner(Record):
    """Who owns a code file. ``file`` is relative to where its owner is installed (for a user
    file, :data:`USER_CODE`)."""

    __slots__ = ("origin", "file")
    origin: str
    file: str

    @property
    def known(self) -> bool:
        """Crawl4AI's, this add-on's, a known library's or the standard library's."""
        return self.origin != USER

    @property
    def crawl4ai(self) -> bool:
        """Crawl4AI's own code (this add-on excluded)."""
        return self.origin == CRAWL4AI


_USER = Owner(USER, USER_CODE)

# Folders whose files (directly in them) are Crawl4AI's own code, with the name they are shown
# under: Crawl4AI's API server application (deploy/docker of the crawl4ai repository), which its
# image copies into /app rather than installing it with the crawl4ai package. What that code
# requires (its requirements.txt) is a known library, like crawl4ai's own dependencies: a second,
# small index over those roots, built when first asked (on the worker, as the main one).
_adopted: dict[str, str] = {}
_adopted_roots: frozenset[str] = frozenset()
_adopted_index: _Index | None = None


# ---------------------------------------------------------------------------------------------
# Public questions


def owner_of_file(filename: str, module: str | None = None) -> Owner:
    """The owner of the code file ``filename`` (``module`` is the module's ``__name__``, if known).

    A module name never decides on its own: a user's ``crawl4ai/`` folder or ``requests.py``
    shadowing a library is still the user's, because its file is not the library's."""
    if not isinstance(filename, str) or not filename:
        return _USER
    return _owner_of_file(filename, module if isinstance(module, str) else None)


def owner_of_frame(frame: FrameType) -> Owner:
    """The owner of the code running in ``frame``."""
    globals_ = frame.f_globals
    module = globals_.get("__name__") if isinstance(globals_, dict) else None
    return owner_of_file(frame.f_code.co_filename, module)


def owner_of_module(name: str | None) -> Owner:
    """The owner of the module called ``name`` (as loaded in this process).

    Built-in modules (no file) are the standard library's; a module that is not loaded, or has
    no file and is not built in, is the user's (nothing shows it is anybody else's)."""
    if not isinstance(name, str) or not name:
        return _USER
    if name in ("builtins", "__builtin__") or name in sys.builtin_module_names:
        return Owner(STDLIB, f"<built-in {name}>")
    module = sys.modules.get(name)
    filename = stored(module, "__file__")
    if isinstance(filename, str) and filename:
        return owner_of_file(filename, name)
    spec = stored(module, "__spec__")
    if getattr(spec, "origin", None) in ("built-in", "frozen") and name.split(".")[0] in _stdlib_names():
        return Owner(STDLIB, f"<built-in {name}>")
    return _USER


def stored(obj: Any, name: str) -> Any:
    """``obj.name`` as stored in its ``__dict__``, or None: no property, ``__getattr__`` or
    ``__getattribute__`` of anybody's class runs, so asking about a lazily loaded module of the
    user's never loads it (nor runs its code on telemetry's thread)."""
    try:
        mapping = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    if type(mapping) is dict:
        return dict.get(mapping, name)
    if type(mapping) is MappingProxyType:  # a class's: a view of its own dict
        return mapping.get(name)
    return None


def owner_of_class(cls: type) -> Owner:
    """The owner of the module that defines ``cls``."""
    return owner_of_module(getattr(cls, "__module__", None))


def is_crawl4ai_class(cls: type) -> bool:
    """Whether Crawl4AI's own code defines ``cls``. Cheap (no index is read): the install hook
    asks it of every class in crawl4ai's modules while crawl4ai is being imported."""
    module = sys.modules.get(getattr(cls, "__module__", None) or "")
    filename = getattr(module, "__file__", None)
    crawl4ai_dir = _crawl4ai_package_dir()
    if not isinstance(filename, str) or not crawl4ai_dir:
        return False
    path = os.path.normcase(os.path.abspath(filename))
    return path.startswith(crawl4ai_dir + os.sep) and not path.startswith(_own_package_dir() + os.sep)


def adopt_folder(folder: str, shown_as: str, requires: tuple[str, ...] = ()) -> None:
    """The files directly in ``folder`` are Crawl4AI's own code from now on, shown in reports as
    ``shown_as/<file name>``, and the distributions it ``requires`` (with theirs) are known
    libraries. Called when Crawl4AI's API server application is recognised
    (:mod:`.integrations.server`): its frames then name the handler that failed."""
    global _adopted_roots, _adopted_index
    path = os.path.normcase(os.path.abspath(folder))
    roots = _adopted_roots | {_normalise(name) for name in requires}
    if _adopted.get(path) != shown_as or roots != _adopted_roots:
        _adopted[path] = shown_as
        _adopted_roots, _adopted_index = frozenset(roots), None
        _owner_of_file.cache_clear()


def prepare() -> None:
    """Build the index now (on a worker thread, or while a server starts), so a caller never
    pays for it."""
    _index()
    if _adopted_roots:
        _adopted_libraries()


# ---------------------------------------------------------------------------------------------
# Deciding one file


@lru_cache(maxsize=4096)
def _owner_of_file(filename: str, module: str | None) -> Owner:
    if filename.startswith("<frozen "):
        return Owner(STDLIB, filename)
    if filename.startswith("<"):
        return _USER  # <string>, <stdin>, a notebook cell: code the user typed
    path = os.path.normcase(os.path.abspath(filename))
    own = _own_package_dir()
    if path.startswith(own + os.sep):
        return Owner(TELEMETRY, "crawl4ai/telemetry/" + _relative(path, own))
    adopted = _adopted.get(os.path.dirname(path)) if _adopted else None
    if adopted is not None:
        return Owner(CRAWL4AI, f"{adopted}/{os.path.basename(path)}")
    crawl4ai_dir = _crawl4ai_package_dir()
    if crawl4ai_dir and path.startswith(crawl4ai_dir + os.sep):
        # The crawl4ai distribution's own folder: known without reading the index (the install
        # hook asks this while crawl4ai is being imported, and must not do that work then).
        return Owner(CRAWL4AI, "crawl4ai/" + _relative(path, crawl4ai_dir))
    found = _distribution_file(path)
    if found is not None:
        return Owner(*found)
    for root in _stdlib_dirs():
        if path.startswith(root + os.sep) and not _in_site_dir(path, root):
            return Owner(STDLIB, _relative(path, root))
    return _USER


def _relative(path: str, root: str) -> str:
    return path[len(root) + 1:].replace(os.sep, "/")


def _in_site_dir(path: str, root: str) -> bool:
    parts = _relative(path, root).split("/")
    return "site-packages" in parts or "dist-packages" in parts


def _distribution_file(path: str) -> tuple[str, str] | None:
    """(crawl4ai or library, file relative to its install folder) for a file of the closure."""
    indexes = [_index().origins]
    if _adopted_roots:
        indexes.append(_adopted_libraries().origins)
    for site in _sites(tuple(sys.path)):
        if path.startswith(site + os.sep):
            relative = _relative(path, site)
            parts = relative.split("/")
            candidates = [parts[0].split(".", 1)[0]] if len(parts) == 1 else [parts[0], "/".join(parts[:2])]
            for top in candidates:
                for origins in indexes:
                    origin = origins.get(_entry(site, top))
                    if origin is not None:
                        return origin, relative
    return None


def _adopted_libraries() -> _Index:
    global _adopted_index
    index = _adopted_index
    if index is None:
        from importlib import metadata

        roots = tuple((name, frozenset()) for name in sorted(_adopted_roots))
        index = _adopted_index = _build(_installed(metadata), roots)
    return index


@lru_cache(maxsize=8)
def _sites(path: tuple[str, ...]) -> tuple[str, ...]:
    """The import path's folders, longest first (the tightest folder decides)."""
    folders = {os.path.normcase(os.path.abspath(p)) for p in path if isinstance(p, str) and p}
    return tuple(sorted(folders, key=len, reverse=True))


def _entry(site: str, top: str) -> str:
    """An index key: a digest, so the cache on disk holds no package names or paths."""
    return hashlib.sha256(f"{site}\0{top}".encode()).hexdigest()[:32]


@lru_cache(maxsize=1)
def _own_package_dir() -> str:
    return os.path.normcase(os.path.dirname(os.path.abspath(__file__)))


def _crawl4ai_package_dir() -> str | None:
    """The folder of the ``crawl4ai`` package really imported (its ``__init__``'s folder)."""
    module = sys.modules.get("crawl4ai")
    filename = getattr(module, "__file__", None)
    if not isinstance(filename, str):
        return None
    return os.path.normcase(os.path.dirname(os.path.abspath(filename)))


@lru_cache(maxsize=1)
def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get("stdlib"), paths.get("platstdlib")}
    return tuple(sorted({os.path.normcase(os.path.abspath(d)) for d in dirs if d}, key=len, reverse=True))


@lru_cache(maxsize=1)
def _stdlib_names() -> frozenset[str]:
    return frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)


# ---------------------------------------------------------------------------------------------
# The index: (install folder, top-level name) -> distribution, for the dependency closure


class _Index(Record):
    __slots__ = ("origins",)
    origins: dict[str, str]  # _entry(install folder, top-level name) -> CRAWL4AI or LIBRARY


_index_lock = threading.Lock()
_index_value: _Index | None = None
_built_here = False  # built in this process (not adopted): worth keeping for the next one


def _new_lock_in_child() -> None:
    # A fork while the parent's worker builds the index copies the lock held, with nobody left
    # to release it: the child starts with a free one (and builds or reads the index itself).
    global _index_lock
    _index_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def _index() -> _Index:
    global _index_value
    if _index_value is None:
        with _index_lock:
            if _index_value is None:
                _index_value = _load_or_build()
    return _index_value


def _load_or_build() -> _Index:
    global _built_here
    from importlib import metadata

    index = _build(_installed(metadata))
    _built_here = True
    return index


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(metadata: Any) -> dict[str, Any]:
    """Normalised name -> distribution, the first found on ``sys.path`` winning (as imports do)."""
    out: dict[str, Any] = {}
    for dist in metadata.distributions():
        name = getattr(dist, "_normalized_name", None) or dist.metadata.get("Name") or ""
        out.setdefault(_normalise(name), dist)
    return out


# Compiled on first use (by ``re``'s cache): the index is built on the worker, and compiling it
# here would be half of this module's import, which runs while crawl4ai is imported.
_REQUIRES = r"^Requires-Dist:[ \t]*(.+?)[ \t]*$"


def _requirements(dist: Any) -> list[str]:
    """``Requires-Dist`` lines, read from the metadata's header without a full e-mail parse."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    header = text.split("\n\n", 1)[0]
    return re.findall(_REQUIRES, header, re.M)


def _closure(distributions: dict[str, Any],
             roots: tuple[tuple[str, frozenset[str]], ...] = _ROOTS) -> set[str]:
    """Names of the distributions Crawl4AI (and this add-on) need: required dependencies only,
    with environment markers evaluated for this interpreter."""
    seen: set[str] = set()
    todo = [(_normalise(name), extras) for name, extras in roots]
    while todo and len(seen) < _MAX_DISTRIBUTIONS:
        name, extras = todo.pop()
        if name in seen or name not in distributions:
            continue
        seen.add(name)
        for requirement in _requirements(distributions[name]):
            spec, _, marker = requirement.partition(";")
            marker = marker.strip()
            if marker and not _marker_holds(marker, extras):
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
            if match:
                todo.append((_normalise(match.group(1)), frozenset()))
    return seen


@lru_cache(maxsize=512)
def _marker_holds(marker: str, extras: frozenset[str]) -> bool:
    if "extra" in marker and not extras:
        return False  # an optional dependency, and no extra asked for
    try:
        from packaging.markers import Marker

        parsed = Marker(marker)
        return any(parsed.evaluate({"extra": extra}) for extra in (*extras, ""))
    except Exception:  # no packaging, or a marker it cannot read: leave the dependency out
        return False


def _build(distributions: dict[str, Any],
           roots: tuple[tuple[str, frozenset[str]], ...] = _ROOTS) -> _Index:
    origins: dict[str, str] = {}
    for name in sorted(_closure(distributions, roots)):
        dist = distributions[name]
        try:
            site = os.path.normcase(os.path.abspath(str(dist.locate_file(""))))
        except Exception:
            continue
        origin = CRAWL4AI if name == "crawl4ai" else LIBRARY
        for top in _top_level_names(dist):
            origins.setdefault(_entry(site, top), origin)
    return _Index(origins)


def _top_level_names(dist: Any) -> set[str]:
    """The importable names a distribution installs, read from its RECORD: ``httpx``, ``six``
    (for ``six.py``), and for a namespace package (no ``__init__.py``) one level deeper
    (``google/protobuf``), since other distributions, the user's too, share the namespace."""
    record = dist.read_text("RECORD") or ""
    packages: set[str] = set()
    tops: dict[str, set[str]] = {}
    for line in record.splitlines():
        if not line or line[0] == '"':
            continue  # a path with a comma is quoted, and never a package we need
        path = line.split(",", 1)[0]
        top, _, rest = path.partition("/")
        if not rest:
            if top.endswith((".py", ".so", ".pyd")):
                tops.setdefault(top.split(".", 1)[0], set())  # six.py, _cffi.cpython-311-….so
            continue
        if top in ("..", "__pycache__") or top.endswith((".dist-info", ".egg-info", ".data")):
            continue
        second, _, deeper = rest.partition("/")
        if second == "__init__.py":
            packages.add(top)
        tops.setdefault(top, set()).add(second if deeper else "")
    names: set[str] = set()
    for top, seconds in tops.items():
        if top in packages or not seconds or seconds == {""}:
            names.add(top)
        else:
            names.update(f"{top}/{second}" for second in seconds if second)
    return names


# ---------------------------------------------------------------------------------------------
# The index between processes: the worker keeps it with :mod:`.cache` (no file I/O here)

_ORIGIN_KEY = re.compile(r"[0-9a-f]{32}")


def index_data() -> dict[str, str] | None:
    """The index this process built (digests -> origin), for the worker to keep on disk; None
    when it was not built here (not asked for yet, or adopted from an earlier process)."""
    index = _index_value
    return dict(index.origins) if index is not None and _built_here else None


def adopt_index(data: Any) -> bool:
    """Use the index an earlier process built in this environment (the worker reads it from the
    cache before its first report). Ignored, False, when it is not well formed or an index is
    already in use."""
    global _index_value
    if not isinstance(data, dict) or not all(
        type(k) is str and _ORIGIN_KEY.fullmatch(k) and v in (CRAWL4AI, LIBRARY)
        for k, v in data.items()
    ):
        return False
    with _index_lock:
        if _index_value is not None:
            return False
        _index_value = _Index(dict(data))
    _owner_of_file.cache_clear()  # answers given before (none should be) used no index
    return True


def _reset_for_tests() -> None:
    """Forget the index (a test installed or removed a distribution)."""
    global _index_value, _built_here
    with _index_lock:
        _index_value, _built_here = None, False
    _owner_of_file.cache_clear()


"""What ``@telemetry_decorator`` puts around a callable: the same shape, whatever the shape.

A decorator that changes what a function is breaks the host: an async generator awaited as a
coroutine raises ``TypeError``, a ``classmethod`` object wrapped as a plain function is no
longer callable, a generator returned unwatched hides the errors raised while it is iterated.
So the wrapper is chosen by what the callable really is (through ``functools.partial`` and
bound methods, as :mod:`inspect` sees them), and either decorator name gives the right one:

- a plain function: a plain wrapper (the cheapest: it is on the host's hot path);
- a coroutine function: an ``async def`` wrapper;
- a generator function: a generator delegating with ``yield from`` (``send``/``throw``/``close``
  reach the original);
- an async generator function: an async generator delegating ``asend``/``athrow``/``aclose``;
- a ``classmethod`` or ``staticmethod`` object (decorated from outside): the function inside is
  wrapped and put back into the same kind of object.

Every wrapper reports an ``Exception`` leaving the callable and re-raises it unchanged; a
``BaseException`` (cancellation, interrupts, ``GeneratorExit``) passes through untouched.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

Capture = Callable[[BaseException, "dict[str, Any] | None", str], None]
MECHANISM = "decorator"


def wrap(func: Any, context: dict[str, Any], capture: Capture) -> Any:
    """``func`` wrapped so an exception escaping it is passed to ``capture`` (then re-raised)."""
    if isinstance(func, (classmethod, staticmethod)):
        return type(func)(wrap(func.__func__, context, capture))
    ctx = _context_of(func, context)
    if inspect.isasyncgenfunction(func):
        return _async_generator(func, ctx, capture)
    if inspect.iscoroutinefunction(func):
        return _coroutine(func, ctx, capture)
    if inspect.isgeneratorfunction(func):
        return _generator(func, ctx, capture)
    return _plain(func, ctx, capture)


def _context_of(func: Any, context: dict[str, Any]) -> dict[str, Any]:
    ctx = {"function": getattr(func, "__qualname__", None),
           "module": getattr(func, "__module__", None)}
    ctx.update(context)
    return ctx


def _plain(func: Any, ctx: dict[str, Any], capture: Capture) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            capture(exc, ctx, MECHANISM)
            raise

    return wrapper


def _coroutine(func: Any, ctx: dict[str, Any], capture: Capture) -> Any:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except Exception as exc:
            capture(exc, ctx, MECHANISM)
            raise

    return wrapper


def _generator(func: Any, ctx: dict[str, Any], capture: Capture) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return (yield from func(*args, **kwargs))
        except Exception as exc:
            capture(exc, ctx, MECHANISM)
            raise

    return wrapper


def _async_generator(func: Any, ctx: dict[str, Any], capture: Capture) -> Any:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        inner = func(*args, **kwargs)
        try:
            value = await inner.__anext__()
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    await inner.aclose()
                    raise
                except BaseException as thrown:  # athrow() on the wrapper: pass it on
                    value = await inner.athrow(thrown)
                else:
                    value = await inner.asend(sent)
        except StopAsyncIteration:
            return
        except Exception as exc:
            capture(exc, ctx, MECHANISM)
            raise

    return wrapper

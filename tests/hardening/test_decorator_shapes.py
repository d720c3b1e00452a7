"""The decorators never change what the host's callable is: generators, async generators,
classmethods, staticmethods and partial objects keep working, and their errors are reported."""

from __future__ import annotations

import asyncio
import functools
import inspect

import pytest

from crawl4ai import telemetry
from tests.conftest import reported_types

BOTH = pytest.mark.parametrize("decorator", [telemetry.telemetry_decorator,
                                             telemetry.async_telemetry_decorator],
                               ids=["sync_decorator", "async_decorator"])


@BOTH
def test_a_generator_stays_a_generator_and_errors_while_iterating_are_reported(memory, decorator):
    @decorator(operation="pages")
    def pages(n):
        received = yield "first"
        yield f"got {received}"
        yield from range(n)
        raise LookupError("ran out of pages")

    assert inspect.isgeneratorfunction(pages)
    it = pages(2)
    assert next(it) == "first"
    assert it.send("hello") == "got hello"  # send() reaches the original
    assert [next(it), next(it)] == [0, 1]
    with pytest.raises(LookupError, match="ran out"):
        next(it)
    assert sorted(reported_types(memory)) == ["LookupError"]


@BOTH
def test_an_async_generator_stays_one_and_errors_while_iterating_are_reported(memory, decorator):
    closed = []

    @decorator
    async def stream(n):
        try:
            for i in range(n):
                received = yield i
                if received == "stop":
                    raise KeyError("stopped by the caller")
        finally:
            closed.append(n)

    async def main():
        assert [i async for i in stream(3)] == [0, 1, 2]
        agen = stream(5)
        assert await agen.__anext__() == 0
        await agen.aclose()  # closing reaches the original's finally
        agen = stream(5)
        assert await agen.__anext__() == 0
        with pytest.raises(ValueError, match="thrown in"):
            await agen.athrow(ValueError("thrown in"))
        agen = stream(5)
        assert await agen.__anext__() == 0
        with pytest.raises(KeyError):
            await agen.asend("stop")

    assert inspect.isasyncgenfunction(stream)
    asyncio.run(main())
    assert closed == [3, 5, 5, 5]
    assert sorted(reported_types(memory)) == ["KeyError", "ValueError"]


@BOTH
def test_classmethods_and_staticmethods_decorated_from_outside_stay_callable(memory, decorator):
    class Client:
        @decorator
        @classmethod
        def make(cls, x):
            if x < 0:
                raise ValueError("negative")
            return cls.__name__, x

        @decorator
        @staticmethod
        def double(x):
            return 2 * x

        @decorator
        @classmethod
        async def amake(cls):
            raise TimeoutError("slow")

    assert Client.make(1) == ("Client", 1) and Client().make(2) == ("Client", 2)
    assert Client.double(3) == 6 and Client().double(4) == 8
    with pytest.raises(ValueError):
        Client.make(-1)
    with pytest.raises(TimeoutError):
        asyncio.run(Client.amake())
    assert sorted(reported_types(memory)) == ["TimeoutError", "ValueError"]


@BOTH
def test_partials_and_plain_functions_keep_their_kind(memory, decorator):
    async def fetch(url, retries):
        raise ConnectionError(f"{url} after {retries}")

    def parse(text, base):
        return int(text, base)

    afetch = decorator(functools.partial(fetch, retries=3))
    aparse = decorator(functools.partial(parse, base=16))
    assert inspect.iscoroutinefunction(afetch)
    assert aparse("ff") == 255  # a sync callable stays sync under the async decorator too
    with pytest.raises(ConnectionError):
        asyncio.run(afetch("u"))
    with pytest.raises(ValueError):
        aparse("zz")
    assert sorted(reported_types(memory)) == ["ConnectionError", "ValueError"]

"""The notification webhook client against a loopback aiohttp server: retries with backoff on
5xx, a final 4xx, a timeout per attempt, and a full queue that drops instead of waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from levibot_operator.adapters.notifier import Notifier, NotifierConfig


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[int]]]:
    """Answers the statuses queued in ``answers`` (then 200); ``/slow`` never answers in time."""
    answers: list[int] = []

    async def hook(_: web.Request) -> web.Response:
        return web.Response(status=answers.pop(0) if answers else 200)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", answers
    await runner.cleanup()


def no_wait() -> tuple[list[float], object]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return waits, sleep


async def test_a_5xx_is_retried_with_a_doubling_backoff(server: tuple[str, list[int]]) -> None:
    base, answers = server
    answers.extend([503, 500])
    waits, sleep = no_wait()
    async with aiohttp.ClientSession() as session:
        notifier = Notifier(session, NotifierConfig(base + "/hook"), sleep=sleep)  # type: ignore[arg-type]
        assert await notifier.deliver({"kind": "phase"})
    assert waits == [1.0, 2.0]


async def test_a_4xx_is_final(server: tuple[str, list[int]]) -> None:
    base, answers = server
    answers.append(400)
    waits, sleep = no_wait()
    async with aiohttp.ClientSession() as session:
        notifier = Notifier(session, NotifierConfig(base + "/hook"), sleep=sleep)  # type: ignore[arg-type]
        assert not await notifier.deliver({"kind": "phase"})
    assert waits == []


async def test_each_attempt_has_a_timeout(server: tuple[str, list[int]]) -> None:
    base, _ = server
    waits, sleep = no_wait()
    config = NotifierConfig(base + "/slow", timeout_seconds=0.1, retries=2)
    async with aiohttp.ClientSession() as session:
        notifier = Notifier(session, config, sleep=sleep)  # type: ignore[arg-type]
        assert not await asyncio.wait_for(notifier.deliver({"kind": "phase"}), 2)
    assert waits == [1.0, 2.0]


async def test_a_full_queue_drops_instead_of_waiting() -> None:
    async with aiohttp.ClientSession() as session:
        notifier = Notifier(session, NotifierConfig("http://127.0.0.1:9/", queue_size=1))
        assert notifier.notify({"kind": "a"})
        assert not notifier.notify({"kind": "b"})

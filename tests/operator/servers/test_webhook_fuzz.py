"""Fuzz layer for the webhook: arbitrary JSON, payload-shaped junk (labels, unicode with lone
surrogates, nesting), raw bytes and Authorization headers, through the real aiohttp app with
the real alert handler and canary shell on the recording fake API. Zero 5xx, nothing logged
as an error, and at the end a valid alert still rolls the canary back (servers, property)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from levibot_operator.adapters import registry
from levibot_operator.core.alerts.payload import TARGET_LABELS
from levibot_operator.servers.webhook import ALERTS_PATH, WebhookConfig, build_webhook_app
from levibot_operator.shell.alerts import AlertHandler
from tests.operator.support.canary.alerts import alert, payload
from tests.operator.support.canary.handlers import (
    CANARY,
    CANDIDATE_PATH,
    NS,
    ScriptedPrometheus,
    build_world,
    canary_status,
    make_ready,
)

TOKEN = "fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

texts = st.text(st.characters(exclude_categories=()), max_size=40)  # lone surrogates included
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(texts, kids, max_size=5),
    max_leaves=25,
)  # fmt: skip
names = st.sampled_from(["..", ".", "a/b", "%2F", "fuzz\n", "V2", "v2", "md-1", "a" * 64, "fuzz"])
label_values = (names | texts).filter(lambda v: v != NS)  # never the live canary's namespace
labels = st.dictionaries(st.sampled_from([*TARGET_LABELS, "instance"]) | texts, label_values)
alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]) | json_values,
        "labels": labels | json_values,
        "startsAt": st.just("2026-11-21T12:00:00Z") | json_values,
    },
    optional={"fingerprint": texts | json_values, "annotations": st.dictionaries(texts, texts)},
)
payloads = st.fixed_dictionaries(
    {"version": st.just("4") | json_values, "alerts": st.lists(alerts, max_size=12) | json_values}
)
nestings = st.tuples(st.integers(1, 20_000), st.sampled_from(["[", '{"a":', '{"alerts":[']))


class ErrorLog(logging.Handler):
    """Records every ERROR logged by the server or the operator (an uncaught exception), except
    aiohttp's own HTTP parser refusing a malformed header, which it answers with a 400."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not (record.exc_info and isinstance(record.exc_info[1], BadHttpMessage)):
            self.records.append(record)


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    loggers = [logging.getLogger(n) for n in ("aiohttp", "levibot_operator", "asyncio")]
    for each in loggers:
        each.addHandler(handler)
    yield handler
    for each in loggers:
        each.removeHandler(handler)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Any:
    async def no_registry(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(registry, "patch_version_status", no_registry)
    return build_world(ScriptedPrometheus())


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for the whole property run (Hypothesis calls the inner test synchronously)."""
    each = asyncio.new_event_loop()
    yield each
    each.close()


@pytest.fixture
def client(
    tmp_path: Path, world: Any, loop: asyncio.AbstractEventLoop
) -> Iterator[TestClient[Any, Any]]:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    _, canaries, _ = world
    app = build_webhook_app(WebhookConfig(token, max_body_bytes=256 * 1024), AlertHandler(canaries))

    async def start() -> TestClient[Any, Any]:
        started: TestClient[Any, Any] = TestClient(TestServer(app))
        await started.start_server()
        return started

    test_client = loop.run_until_complete(start())
    yield test_client
    loop.run_until_complete(test_client.close())


def post(loop: asyncio.AbstractEventLoop, client: TestClient[Any, Any], data: bytes) -> int:
    async def send() -> int:
        async with client.post(ALERTS_PATH, data=data, headers=AUTH) as response:
            await response.read()
            return response.status

    return loop.run_until_complete(send())


def raw_status(loop: asyncio.AbstractEventLoop, client: TestClient[Any, Any], head: bytes) -> int:
    async def send() -> int:
        reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
        writer.write(
            b"POST " + ALERTS_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + head + b"\r\nContent-Length: 2\r\n\r\n{}"
        )  # fmt: skip
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return int(answer.split(b" ", 2)[1])

    return loop.run_until_complete(send())


def test_no_input_makes_the_webhook_fail(
    loop: asyncio.AbstractEventLoop, client: TestClient[Any, Any], world: Any, errors: ErrorLog
) -> None:
    @FUZZ
    @given(st.one_of(json_values, payloads))
    def any_json(body: Any) -> None:
        assert post(loop, client, json.dumps(body).encode()) < 500

    @FUZZ
    @given(st.binary(max_size=512), nestings)
    def any_bytes(data: bytes, nesting: tuple[int, str]) -> None:
        depth, opener = nesting
        assert post(loop, client, data) < 500
        assert post(loop, client, (opener * depth).encode()) == 400

    header_bytes = st.binary(max_size=60).filter(lambda b: not set(b) & set(b"\r\n\x00"))

    @FUZZ
    @given(header_bytes)
    def any_authorization(value: bytes) -> None:
        assert raw_status(loop, client, b"Authorization: Bearer " + value) in (400, 401)

    any_json()
    any_bytes()
    any_authorization()
    assert [(r.getMessage(), r.exc_info) for r in errors.records] == []
    assert_a_valid_alert_still_rolls_back(loop, client, world)


def assert_a_valid_alert_still_rolls_back(
    loop: asyncio.AbstractEventLoop, client: TestClient[Any, Any], world: Any
) -> None:
    api, canaries, _ = world
    loop.run_until_complete(canaries.reconcile_named(NS, CANARY))
    make_ready(api, CANDIDATE_PATH)
    loop.run_until_complete(canaries.reconcile_named(NS, CANARY))
    assert canary_status(api)["phase"] == "Progressing"
    assert (
        post(
            loop,
            client,
            json.dumps(
                payload(alert(fingerprint="last", alertname="LevibotErrorRateHigh"))
            ).encode(),
        )
        == 200
    )
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("RolledBack", "AlertFiring")

"""The ModelDeployment shell's paper-trading observation: the log is read only when a breaker check
or a paper window is due, in one connection; an unreachable database neither trips nor resets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from levibot_operator.adapters import papertrades
from levibot_operator.adapters.papertrades import SignalRows
from levibot_operator.adapters.registry import RegistryUnavailableError
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings
from levibot_operator.shell import modeldeployment_trading as trading
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import NOW, md_body, snapshot

BODY = md_body(circuitBreakers={})
SERVING = MDStatus(stable_version="v1")


class FakeConn:
    async def close(self) -> None:
        return None


def losing_rows() -> SignalRows:
    ts = NOW.timestamp() - 600 + np.arange(6) * 61.0
    n = ts.size
    return SignalRows(ts, np.array(["BTC"] * n, dtype=object), np.array(["BUY"] * n, dtype=object),
                      np.full(n, 0.0001))  # fmt: skip


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []

    async def connect(*_: Any) -> FakeConn:
        reads.append("connect")
        return FakeConn()

    async def rows(_: Any, model: str, version: str, since: Any) -> SignalRows:
        reads.append(f"rows {version}")
        return losing_rows()

    async def market(*_: Any) -> np.ndarray:
        return np.zeros(0)

    async def std(*_: Any) -> float | None:
        return None

    monkeypatch.setattr(trading, "connect_database", connect)
    monkeypatch.setattr(papertrades, "fetch_signal_rows", rows)
    monkeypatch.setattr(papertrades, "fetch_market_returns", market)
    monkeypatch.setattr(papertrades, "fetch_training_std", std)
    return reads


async def observe(status: MDStatus, body: dict[str, Any] = BODY) -> Any:
    snap = snapshot(status, body=body)
    return (await trading.fetch_trading(FakeApi(), OperatorSettings(), snap, body)).trading  # type: ignore[arg-type]


async def test_a_due_check_reads_the_log_once_and_judges_the_losing_trades(
    connected: list[str],
) -> None:
    seen = await observe(SERVING)
    assert connected == ["connect", "rows v1"]
    assert seen.version == "v1"
    tripped = [r.breaker for r in seen.readings if r.tripped]
    assert tripped == ["losingStreak"]
    day = next(r for r in seen.paper["results"] if r["window"] == "1d")
    assert day["trades"] == 6


async def test_nothing_due_reads_nothing(connected: list[str]) -> None:
    first = await observe(SERVING)
    state = replace(SERVING.circuit_breaker, version="v1", checked_at="2026-11-21T12:00:00Z")
    status = replace(SERVING, circuit_breaker=state, paper_trading=first.paper)
    connected.clear()
    seen = await observe(status)
    assert connected == []
    assert (seen.readings, seen.paper) == (None, None)


async def test_an_unreachable_log_leaves_everything_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuse(*_: Any) -> None:
        raise RegistryUnavailableError("database unreachable: OSError")

    monkeypatch.setattr(trading, "connect_database", refuse)
    body = md_body(circuitBreakers={})
    body["metadata"]["annotations"] = {"levibot.io/reset-breaker": "tok"}
    seen = await observe(SERVING, body)
    assert (seen.readings, seen.paper, seen.reset_request) == (None, None, "tok")

"""What ``/v1/feedback`` may change (issue 12, item 2: bound what a client can do to quality).

Feedback sets the outcome of this model's rows without a symbol (client feature rows) that have
none yet; a symbol's prediction is resolved from market ticks only, and an outcome once set
stays. A predictor that serves symbols measures calibration on the market: client rows (and so
feedback) never enter its calibration window.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from tests.predictor.support.db import connect
from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

pytestmark = pytest.mark.postgres
MODEL = make_model()
LABELS = {"model": "demo", "version": "v1", "track": "stable"}
COLUMNS = ("id", "model_name", "version", "track", "symbol", "ts", "p_up", "signal", "fallback",
           "horizon_seconds", "outcome", "resolved_at")  # fmt: skip


def row(pid: int, symbol: str, outcome: int | None, model: str = "ns.demo") -> tuple[object, ...]:
    ts = datetime.fromtimestamp(time.time() - 3600, UTC)
    resolved = None if outcome is None else ts
    return (pid, model, "v1", "stable", symbol, ts, 0.9, "BUY", False, 30, outcome, resolved)


async def test_feedback_sets_only_unresolved_client_rows_of_this_model(pg_dsn: str) -> None:
    conn = await connect(pg_dsn)
    rows = [row(1, "", None), row(2, "BTCUSDT", None), row(3, "BTCUSDT", 1), row(4, "", 1),
            row(5, "", None, model="ns.other")]  # fmt: skip
    await conn.copy_records_to_table("prediction_log", records=rows, columns=COLUMNS)
    settings = make_settings(dsn=pg_dsn, monitor_interval_seconds=60.0)
    outcomes = [{"prediction_id": i, "outcome": 0} for i in (1, 2, 3, 4, 5)]
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        answer = await running.client.post("/v1/feedback", json={"outcomes": outcomes})
    stored = {
        r["id"]: r["outcome"] for r in await conn.fetch("SELECT id, outcome FROM prediction_log")
    }
    await conn.close()
    assert answer.status_code == 200
    assert answer.json() == {"updated": 1, "unknown": [2, 3, 4, 5]}
    assert stored == {1: 0, 2: None, 3: 1, 4: 1, 5: None}


@pytest.mark.parametrize(("symbols", "expected"), [([], 4.0), (["BTCUSDT"], 1.0)])
async def test_client_outcomes_enter_calibration_only_without_symbols(
    pg_dsn: str, symbols: list[str], expected: float
) -> None:
    conn = await connect(pg_dsn)
    rows = [row(1, "BTCUSDT", 1), row(2, "", 0), row(3, "", 0), row(4, "", 0)]
    await conn.copy_records_to_table("prediction_log", records=rows, columns=COLUMNS)
    settings = make_settings(dsn=pg_dsn, symbols=symbols)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        deadline = time.monotonic() + 10
        while running.metric("levibot_resolved_predictions", **LABELS) is None:
            assert time.monotonic() < deadline, "no calibration pass in time"
            await asyncio.sleep(0.05)
        resolved = running.metric("levibot_resolved_predictions", **LABELS)
    await conn.close()
    assert resolved == expected

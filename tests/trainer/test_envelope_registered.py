"""Issue 13, item 2: every registered version carries its retraining-noise envelope.

Through the CLI and real PostgreSQL: the registry's metrics have ``envelope_rms`` (2 x the
largest pairwise RMS of the retrains' p_up on the test rows), ``envelope_retrains`` as asked,
and the result document and stage timings say so too.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from pathlib import Path

import pytest

from tests.trainer.support.cli import END, read_version, run_train, train_args
from tests.trainer.support.db import connect_with_schema, seed_ticks

pytestmark = pytest.mark.postgres


async def seed(dsn: str) -> None:
    conn = await connect_with_schema(dsn)
    try:
        end = datetime.fromisoformat(END)
        await seed_ticks(conn, ("BTCUSDT", "ETHUSDT"), end=end, seconds=7200, seed=5, signal=0.2)
    finally:
        await conn.close()


@pytest.mark.parametrize("retrains", [None, 4])
def test_registered_version_carries_the_envelope(
    pg_dsn: str, tmp_path: Path, retrains: int | None
) -> None:
    asyncio.run(seed(pg_dsn))
    result = tmp_path / "result.json"
    flags = {"symbols": '["BTCUSDT", "ETHUSDT"]'}
    if retrains is not None:
        flags["envelope_retrains"] = str(retrains)
    code, document = run_train(train_args(pg_dsn, result, **flags), result)
    assert code == 0, document
    metrics = asyncio.run(read_version(pg_dsn, "ns.md", "v1")).metrics
    assert metrics["envelope_retrains"] == (retrains or 8)
    assert math.isfinite(metrics["envelope_rms"])
    assert metrics["envelope_rms"] > 0
    assert metrics["envelope_rms"] == pytest.approx(2 * metrics["envelope_max_pairwise_rms"])
    assert metrics["envelope_median_pairwise_rms"] <= metrics["envelope_max_pairwise_rms"]
    assert document["metrics"]["envelope_rms"] == metrics["envelope_rms"]
    assert "envelope" in document["stagesSeconds"]

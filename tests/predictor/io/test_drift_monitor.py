"""The drift gauges of a running predictor: absent until the window holds enough rows, set
then, and removed again when the rows age out of the time-bounded window (absent = no value:
alert rules never match it, canary analysis reads it as inconclusive)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.predictor.support.models import (
    RunningApp,
    make_loaded,
    make_model,
    make_rows,
    make_settings,
    running_app,
)

MODEL = make_model()
LABELS = {"model": "demo", "version": "v1", "track": "stable", "feature": "rsi_14"}


async def wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll until ``check`` holds (the monitor runs every 0.1 s in tests)."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def post_rows(running: RunningApp, count: int, seed: int) -> None:
    rows = [dict(zip(MODEL.features, r, strict=True)) for r in make_rows(count, seed).tolist()]
    answer = await running.client.post("/v1/predict", json={"rows": rows})
    assert answer.status_code == 200


async def test_drift_gauges_wait_for_rows_and_vanish_when_the_rows_age_out() -> None:
    now = [1_000_000.0]
    settings = make_settings(drift_min_rows=30, drift_window_seconds=600.0)
    loaded = make_loaded(MODEL, settings)
    async with running_app(settings, loaded, clock=lambda: now[0]) as running:

        def psi() -> float | None:
            return running.metric("levibot_feature_psi", **LABELS)

        # Client rows enter the window at most drift_client_rows_per_second (10) a second: post
        # them 10 a second of the clock.
        for seed in (5, 6):
            await post_rows(running, 10, seed=seed)
            now[0] += 1.0
        await asyncio.sleep(0.3)  # a few monitor passes
        assert psi() is None  # 20 rows, below drift_min_rows
        assert running.metric("levibot_feature_ks_pvalue", **LABELS) is None
        for seed in (7, 8):
            await post_rows(running, 10, seed=seed)
            now[0] += 1.0
        await wait_for(lambda: psi() is not None, "PSI exported")
        assert 0.0 <= (running.metric("levibot_feature_ks_pvalue", **LABELS) or -1.0) <= 1.0
        now[0] += 601.0  # every row is now older than the window
        await wait_for(lambda: psi() is None, "PSI removed")
        assert running.metric("levibot_feature_ks_pvalue", **LABELS) is None

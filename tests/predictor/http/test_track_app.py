"""Promotion re-labels a running predictor in place: answers, /version and every metric move
to the new track within a tick of the stable-version file's change, with no restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.predictor.support.models import make_loaded, make_model, make_settings, running_app

MODEL = make_model()
ROW = dict.fromkeys(MODEL.features, 0.1)


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Poll ``check`` until it holds (never a fixed sleep), failing after ``within`` s."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_promotion_moves_answers_and_metrics_to_the_stable_track(tmp_path: Path) -> None:
    stable_file = tmp_path / "stableVersion"
    stable_file.write_text("v0")
    settings = make_settings(stable_version_path=stable_file)
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        client = running.client
        before = (await client.post("/v1/predict", json={"rows": [ROW]})).json()
        assert before["track"] == "canary"
        canary = {"model": "demo", "version": "v1", "track": "canary"}
        assert running.metric("levibot_active_model_info", **canary) == 1.0
        stable_file.write_text("v1")  # the operator promoted v1

        async def answers_stable() -> bool:
            body = (await client.post("/v1/predict", json={"rows": [ROW]})).json()
            return bool(body["track"] == "stable")

        await wait_until(answers_stable)
        assert (await client.get("/version")).json()["track"] == "stable"
        stable = {**canary, "track": "stable"}
        assert running.metric("levibot_active_model_info", **stable) == 1.0
        assert running.metric("levibot_kill_switch", **stable) == 0.0
        # No series lingers under the old track (alerts and analysis would read stale values).
        assert running.metric("levibot_active_model_info", **canary) is None
        requests = {**stable, "endpoint": "predict", "status": "200"}
        assert running.metric("levibot_predict_requests_total", **requests) is not None

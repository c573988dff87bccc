"""The alert handler against the recording fake API: concurrent alerts in one namespace share
one LIST of Canaries, and a later alert reads afresh (shell)."""

from __future__ import annotations

import asyncio
from typing import Any

from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.shell.alerts import AlertHandler
from tests.operator.support.canary.handlers import ROOT, ScriptedPrometheus, build_world

CANARIES = f"{ROOT}/canaries"


def serving_alert(md: str) -> AlertTarget:
    return AlertTarget("prod", md, "v1", "LevibotLatencyP95High", md, "t0")


async def test_concurrent_alerts_share_one_list_and_later_ones_read_afresh() -> None:
    api, reconciler, _ = build_world(ScriptedPrometheus())
    lists: list[str] = []
    answer = api.call_api

    async def slow_call_api(path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        if method == "GET" and path == CANARIES:
            lists.append(path)
            await asyncio.sleep(0.01)
        return await answer(path, method, **kwargs)

    api.call_api = slow_call_api  # type: ignore[method-assign]
    handler = AlertHandler(reconciler)
    settled = await asyncio.gather(*(handler(serving_alert(f"md-{i}")) for i in range(50)))
    assert settled == [True] * 50
    assert len(lists) == 1
    await handler(serving_alert("md-0"))
    assert len(lists) == 2

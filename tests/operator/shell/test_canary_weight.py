"""The achieved weight after a rollback: recomputed from the observed replicas each tick until
it has settled, then the canary stops being polled (issue 12, item 5)."""

from __future__ import annotations

import pytest

from levibot_operator.shell.canary import CanaryReconciler
from tests.operator.support.canary.handlers import (
    CANARY,
    CANARY_PATH,
    CANDIDATE_PATH,
    NS,
    Clock,
    RegistryRecorder,
    ScriptedPrometheus,
    build_world,
    canary_status,
    make_ready,
)
from tests.operator.support.fakeapi import FakeApi


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeApi, CanaryReconciler, Clock]:
    RegistryRecorder().install(monkeypatch)
    return build_world(ScriptedPrometheus())


async def test_a_rolled_back_canary_reports_zero_once_the_candidate_has_no_ready_pods(
    world: tuple[FakeApi, CanaryReconciler, Clock],
) -> None:
    api, rec, _ = world
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    api.store[CANARY_PATH]["metadata"]["annotations"] = {"levibot.io/abort": "now"}
    # The rollback tick: scaled to zero, but its pod is still ready (terminating).
    again = await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "RolledBack"
    assert canary_status(api)["achievedWeight"] == pytest.approx(100 / 3)
    assert again is not None  # not settled: look again
    api.store[CANDIDATE_PATH]["status"] = {"readyReplicas": 0, "replicas": 0}
    done = await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["achievedWeight"] == 0.0
    assert done is None  # settled: the daemon may stop

"""A canary with a judgement through the canary shell (recording fake API, fake prediction log):
it reads the paired rows since its first step (every analysis step pools them), records every
check's verdict with its interval in status, announces each verdict, and keeps the registry's
shadow pair while it is live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from levibot_operator.adapters import predictionlog
from levibot_operator.adapters.registry import RegistryUnavailableError
from levibot_operator.core.canary.judgement import PairedRows
from tests.operator.support.canary.handlers import (
    CANARY,
    CANDIDATE_PATH,
    NS,
    RegistryRecorder,
    ScriptedPrometheus,
    build_world,
    canary_body,
    canary_status,
    events,
    make_ready,
)

JUDGED_ANALYSIS = {
    "interval": "1m",
    "count": 1,
    "thresholds": {"errorRateMax": 0.01, "eceMax": 0.06},
    "judgement": {"blockSeconds": 60, "budget": "30m"},
}


@dataclass
class FakeLog:
    """The prediction log and shadow pairs: paired rows made up to ``now``, calls recorded."""

    shift: float = 0.0
    envelope: float | None = 0.03
    down: bool = False
    reads: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    pairs: list[tuple[str, ...]] = field(default_factory=list)

    async def fetch_input(self, _api: Any, _md: Any, pair: Any, window: Any, _s: Any) -> Any:
        if self.down:
            raise RegistryUnavailableError("database unreachable: OSError")
        since, until = window
        self.reads.append((pair.stable_version, pair.candidate_version, since, until))
        ts = np.arange(since.timestamp(), until.timestamp(), 0.5)
        p = 0.5 + 0.2 * np.sin(ts / 37.0)
        y = (np.random.default_rng(0).random(len(ts)) < p).astype(float)
        return PairedRows(ts, p, np.clip(p + self.shift, 0, 1), y), self.envelope, None

    async def apply(self, _api: Any, _md: Any, pair: Any, canary: str, _s: Any) -> None:
        self.pairs.append(("apply", pair.stable_version, pair.candidate_version, canary))

    async def clear(self, _api: Any, _md: Any, canary: str, _s: Any) -> None:
        self.pairs.append(("clear", canary))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(predictionlog, "fetch_judgement_input", self.fetch_input)
        monkeypatch.setattr(predictionlog, "apply_pair", self.apply)
        monkeypatch.setattr(predictionlog, "clear_pair", self.clear)


@pytest.fixture
def fake_log(monkeypatch: pytest.MonkeyPatch) -> FakeLog:
    RegistryRecorder().install(monkeypatch)
    found = FakeLog()
    found.install(monkeypatch)
    return found


async def start(fake_log: FakeLog) -> tuple[Any, Any, Any]:
    api, rec, clock = build_world(ScriptedPrometheus(), canary_body(analysis=JUDGED_ANALYSIS))
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    assert (canary_status(api)["phase"], canary_status(api)["currentStep"]) == ("Progressing", 1)
    assert fake_log.pairs == [("apply", "v1", "v2", CANARY)]  # once, not every tick
    return api, rec, clock


def checks_of(api: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in canary_status(api)["checks"]}


async def test_waiting_then_equivalent_passes_with_every_check_in_status(
    fake_log: FakeLog,
) -> None:
    api, rec, clock = await start(fake_log)
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    assert fake_log.reads[-1][:2] == ("v1", "v2")
    run = canary_status(api)["analysis"]
    assert (run["waits"], run["measurements"], run["inconclusives"]) == (1, 0, 0)
    agreement = checks_of(api)["agreement"]
    assert agreement["verdict"] == "Waiting"
    assert agreement["reason"] == "waiting for 8 finished blocks of 60 s, have 1"
    assert "lower" not in agreement  # unbounded: absent, never Infinity in JSON
    clock.advance(9 * 60)
    await rec.reconcile_named(NS, CANARY)
    found = checks_of(api)
    agreement = found["agreement"]
    assert agreement["verdict"] == "Equivalent"
    assert (agreement["nEff"], agreement["threshold"]) == (10, 0.03)
    assert agreement["lower"] <= agreement["value"] <= agreement["upper"] <= 0.03
    assert found["nonInferiority"]["gating"] is False
    assert found["calibration"]["verdict"] == "Pass"
    assert found["ece"]["verdict"] == "Reading"
    assert found["errorRate"]["verdict"] == "Pass"
    assert canary_status(api)["currentStep"] == 2  # the analysis passed
    reasons = [(e["reason"], e["message"].split(":")[0]) for e in events(api)]
    assert ("CheckVerdict", "agreement") in reasons


async def test_a_shifted_candidate_rolls_back_naming_the_check_and_its_bounds(
    fake_log: FakeLog,
) -> None:
    fake_log.shift = 0.1
    api, rec, clock = await start(fake_log)
    clock.advance(10 * 60)
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert status["phase"] == "RolledBack"
    assert status["message"].startswith("analysis failed: agreement=0.1 [")
    assert "(threshold <= 0.03)" in status["message"]
    assert checks_of(api)["agreement"]["verdict"] == "Different"
    await rec.reconcile_named(NS, CANARY)
    assert fake_log.pairs[-1] == ("clear", CANARY)


async def test_an_unreachable_log_is_a_measurement_error(fake_log: FakeLog) -> None:
    api, rec, clock = await start(fake_log)
    fake_log.down = True
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    run = canary_status(api)["analysis"]
    assert (run["consecutiveErrors"], run["measurements"]) == (1, 0)


async def test_a_later_analysis_step_reads_the_rows_since_the_first_step(
    fake_log: FakeLog,
) -> None:
    steps = [{"setWeight": 25}, {"analysis": {}}, {"setWeight": 50}, {"analysis": {}}]
    api, rec, clock = build_world(
        ScriptedPrometheus(), canary_body(analysis=JUDGED_ANALYSIS, steps=steps)
    )
    await rec.reconcile_named(NS, CANARY)
    make_ready(api, CANDIDATE_PATH)
    await rec.reconcile_named(NS, CANARY)
    since = canary_status(api)["judgement"]["since"]
    clock.advance(10 * 60)
    await rec.reconcile_named(NS, CANARY)  # the first analysis passes (count 1)
    make_ready(api, CANDIDATE_PATH)  # scaled for 50 %
    await rec.reconcile_named(NS, CANARY)  # setWeight 50 into the second analysis
    status = canary_status(api)
    assert (status["currentStep"], status["judgement"]["since"]) == (3, since)
    second_run = datetime.fromisoformat(status["analysis"]["startedAt"])
    clock.advance(60)
    await rec.reconcile_named(NS, CANARY)
    first_read, last_read = fake_log.reads[0][2], fake_log.reads[-1][2]
    assert last_read == first_read  # the pool, not the second run's start
    assert last_read < second_run
    assert checks_of(api)["agreement"]["verdict"] == "Equivalent"  # at its first look
    assert canary_status(api)["currentStep"] == 4  # passed (count 1): promoting

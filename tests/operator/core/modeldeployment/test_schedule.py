"""Cron schedules: a schedule that never fires is refused, and the planner never raises on one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from levibot_operator.core.modeldeployment.observation import (
    REGISTRY_FOUND,
    JobObservation,
    RegistryObservation,
)
from levibot_operator.core.modeldeployment.planning import decide_modeldeployment
from levibot_operator.core.modeldeployment.schedule import (
    is_retraining_due,
    is_valid_schedule,
    plan_next_run,
)
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, snapshot

SETTINGS = OperatorSettings().build_core_settings()

NEVER = "0 2 30 2 *"  # 30 February


def trained_v1() -> MDStatus:
    """Status after v1 was trained and registered, last trained at 01:00."""
    first = decide_modeldeployment(snapshot(), SETTINGS)
    done = JobObservation("btc-direction-train-v1-1", succeeded=True)
    found = RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {})
    status = decide_modeldeployment(snapshot(first.status, job=done, registry=found), SETTINGS)
    return replace(status.status, last_training_time="2026-11-21T01:00:00Z")


@pytest.mark.parametrize(
    ("schedule", "valid"),
    [
        ("0 2 * * *", True),
        ("@daily", True),
        ("0 2 29 2 *", True),  # leap days fire every four years
        (NEVER, False),
        ("0 0 31 4 *", False),
        ("61 * * * *", False),
        ("0 2 * *", False),
    ],
)
def test_a_schedule_is_valid_only_when_it_fires(schedule: str, valid: bool) -> None:
    assert is_valid_schedule(schedule) is valid


def test_a_schedule_that_never_fires_has_no_next_run_and_is_never_due() -> None:
    assert plan_next_run(NEVER, NOW) is None
    assert is_retraining_due(NEVER, NOW, NOW.replace(year=2030)) is False
    assert plan_next_run("0 2 29 2 *", NOW) == datetime(2028, 2, 29, 2, 0, tzinfo=UTC)


def test_the_planner_never_raises_on_a_schedule_that_never_fires() -> None:
    # The parser refuses it; a spec that got past an older parser must still plan.
    snap = snapshot(trained_v1())
    training = replace(snap.md.spec.training, schedule=NEVER)
    snap = replace(snap, md=replace(snap.md, spec=replace(snap.md.spec, training=training)))
    plan = decide_modeldeployment(snap, SETTINGS)
    assert plan.status.training is None
    assert plan.requeue_after is None

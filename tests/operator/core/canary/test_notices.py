"""What a written canary change announces: the switch it counts and the notice kind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.notices import build_notice, plan_notice_kind, plan_switch
from levibot_operator.core.canary.status import CanaryStatus, HistoryEntry, Phase

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def at(phase: Phase, *history: str, verdict: Verdict | None = None) -> CanaryStatus:
    entries = tuple(HistoryEntry(T0, phase, i, r, "") for i, r in enumerate(history))
    checks = (CheckVerdict("ece", 0.01, 0.06, "<=", verdict, ""),) if verdict else ()
    return CanaryStatus(phase=phase, history=entries, checks=checks)


@pytest.mark.parametrize(
    ("old", "new", "switch", "kind"),
    [
        (at(Phase.PROMOTING, "a"), at(Phase.SUCCEEDED, "a", "b"), "promotion", "promoted"),
        (at(Phase.PAUSED, "a"), at(Phase.ROLLED_BACK, "a", "b"), "rollback", "rolledBack"),
        (at(Phase.ROLLED_BACK, "a"), at(Phase.ROLLED_BACK, "a"), None, None),
        (at(Phase.PROGRESSING, "a"), at(Phase.PAUSED, "a", "b"), None, "phase"),
        (at(Phase.PROGRESSING, "a"), at(Phase.PROGRESSING, "a", "b"), None, "step"),
        (at(Phase.PROGRESSING), at(Phase.PROGRESSING, verdict=Verdict.PASS), None, "verdict"),
        (
            at(Phase.PROGRESSING, verdict=Verdict.PASS),
            at(Phase.PROGRESSING, verdict=Verdict.PASS),
            None,
            None,
        ),
    ],
)
def test_switch_and_notice_kind(
    old: CanaryStatus, new: CanaryStatus, switch: str | None, kind: str | None
) -> None:
    assert (plan_switch(old, new), plan_notice_kind(old, new)) == (switch, kind)


def test_the_notice_body() -> None:
    status = CanaryStatus(
        phase=Phase.ROLLED_BACK, reason="AlertFiring", message="m", stable_version="v1",
        candidate_version="v2",
    )  # fmt: skip
    notice = build_notice("rolledBack", status, T0, namespace="ns", name="c", target="md")
    assert notice == {
        "kind": "rolledBack", "namespace": "ns", "name": "c", "target": "md",
        "phase": "RolledBack", "reason": "AlertFiring", "message": "m",
        "stableVersion": "v1", "candidateVersion": "v2", "time": "2026-11-03T12:00:00Z",
    }  # fmt: skip

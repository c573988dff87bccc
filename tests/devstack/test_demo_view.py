"""What `make demo` prints for a canary: a judgement's gating checks with their intervals and
what a waiting check waits for; threshold gates as before (tooling, pure)."""

from __future__ import annotations

from typing import Any

from levibot_devstack.demo_view import (
    decided_checks,
    describe_canary,
    describe_checks,
    describe_drift,
    describe_verdict,
)

AGREEMENT = {
    "name": "agreement", "value": 0.0123, "lower": 0.004, "upper": 0.02, "threshold": 0.05,
    "comparison": "<=", "n": 900, "nEff": 13, "verdict": "Equivalent", "reason": "inside",
}  # fmt: skip
WAITING = {
    "name": "calibration", "threshold": 0.001, "comparison": ">=", "n": 300, "nEff": 2,
    "verdict": "Waiting", "reason": "waiting for 4 finished blocks of 71 s, have 2",
}  # fmt: skip
READING = {"name": "ece", "value": 0.2, "threshold": 0.06, "comparison": "<=",
           "gating": False, "verdict": "Reading", "reason": "deprecated"}  # fmt: skip


def test_a_judgement_shows_its_gating_checks_with_intervals_and_what_waits() -> None:
    line = describe_checks([READING, AGREEMENT, WAITING])
    assert line == (
        "agreement=0.0123 [0.004, 0.02] <= 0.05 ok (equivalent)  "
        "calibration (waiting for 4 finished blocks of 71 s, have 2) waiting"
    )


def test_threshold_gates_are_shown_as_before() -> None:
    checks = [{"name": "ece", "value": 0.041, "verdict": "Pass"},
              {"name": "psi", "value": 1.2, "verdict": "Fail"}]  # fmt: skip
    assert describe_checks(checks) == "ece=0.041 ok  psi=1.2 FAIL"


def test_the_canary_line_counts_waiting_looks() -> None:
    canary: dict[str, Any] = {
        "metadata": {"name": "btc-direction-v2"},
        "spec": {"steps": [{"setWeight": 50}, {"analysis": {}}]},
        "status": {
            "phase": "Progressing", "currentStep": 1, "stableVersion": "v1",
            "candidateVersion": "v2", "desiredWeight": 50, "achievedWeight": 50,
            "analysis": {"passes": 1, "waits": 7}, "checks": [AGREEMENT],
        },
    }  # fmt: skip
    line, done = describe_canary(canary)
    assert not done
    assert "looks: 1 pass, 0 fail, 0 inconclusive, 7 waiting, 0 errors" in line
    assert line.endswith("| agreement=0.0123 [0.004, 0.02] <= 0.05 ok (equivalent)")


def test_describe_drift_shows_the_loop_and_the_serving_versions_scores() -> None:
    md = {
        "status": {
            "drift": {"version": "v2", "since": "T0", "alerts": ["LevibotFeatureDriftScore"],
                      "attempts": 1, "canary": "btc-direction-drift-1",
                      "waiting": "cool-down after btc-direction-drift-1"},
            "versions": [
                {"version": "v1", "registryStatus": "retired", "driftScores": {"vol_1m": 9.0}},
                {"version": "v2", "registryStatus": "active", "driftScores": {"vol_1m": 3.1}},
            ],
        }
    }  # fmt: skip
    line = describe_drift(md)
    assert "v2 drifting since T0 (LevibotFeatureDriftScore)" in line
    assert "opened btc-direction-drift-1 (attempt 1)" in line
    assert "waits: cool-down" in line
    assert "v2 drift score vol_1m=3.1" in line
    assert "9.0" not in line
    assert "drift score" not in describe_drift(md, scores=False)
    assert describe_drift({}) == "drift: none"


def test_decided_checks_keeps_only_checks_with_a_verdict() -> None:
    status = {
        "checks": [
            {"name": "agreement", "verdict": "Different"},
            {"name": "calibration", "verdict": "Waiting"},
            {"name": "nonInferiority", "verdict": "Inconclusive"},
            {"name": "ece", "verdict": "Reading"},
            {"name": "errorRate", "verdict": "Pass"},
        ]
    }
    assert decided_checks(status) == {"agreement": "Different", "errorRate": "Pass"}
    assert decided_checks({}) == {}


def test_a_finished_canary_says_its_verdict_with_the_registry_and_the_deciding_check() -> None:
    stage_two = {
        "name": "nonInferiority", "value": -0.08, "lower": -0.12, "upper": -0.04,
        "threshold": 0.01, "comparison": "<=", "n": 2300, "nEff": 8, "verdict": "Pass",
        "reason": "upper bound -0.04 < tolerance 0.01",
    }  # fmt: skip
    canary = {
        "metadata": {"name": "m-drift-1"},
        "status": {"phase": "Succeeded", "reason": "Promoted", "message": "v4 promoted over v2",
                   "candidateVersion": "v4",
                   "checks": [{**AGREEMENT, "gating": False, "verdict": "Different"}, stage_two]},
    }  # fmt: skip
    registry = {"v4": {"status": "active", "reason": "promoted over v2 by canary"}}
    assert describe_verdict(canary, registry) == (
        "canary/m-drift-1 Succeeded (Promoted: v4 promoted over v2) | registry v4 active "
        "(promoted over v2 by canary) | nonInferiority=-0.08 [-0.12, -0.04] <= 0.01 ok"
    )
    assert "registry - -" in describe_verdict({"metadata": {"name": "x"}}, {})

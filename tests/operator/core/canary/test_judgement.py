"""The judgement core: hand-made paired rows through stage 1, stage 2 and calibration."""

import math

import numpy as np
import pytest

from levibot_common.stats.results import Verdict
from levibot_operator.core.canary.judgement import (
    AGREEMENT,
    CALIBRATION,
    ECE,
    NON_INFERIORITY,
    JudgementContext,
    JudgementResult,
    PairedRows,
    assess_judgement,
    compute_losses,
    plan_outcome_until,
)
from levibot_operator.core.canary.judgement_spec import (
    AgreementSpec,
    CalibrationSpec,
    JudgementSpec,
)

T0 = 1_700_000_000.0
SECONDS = 3600
ENVELOPE = 0.03


def _market(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two symbols, one row per symbol and second; a calibrated truth and its outcomes."""
    rng = np.random.default_rng(seed)
    ts = np.repeat(T0 + np.arange(SECONDS, dtype=float), 2)
    x = np.cumsum(rng.normal(0.0, 0.05, len(ts))) % 4.0 - 2.0
    truth = 1.0 / (1.0 + np.exp(-x))
    return ts, truth, (rng.random(len(ts)) < truth).astype(float)


TS, TRUTH, Y = _market()
NOISE = np.random.default_rng(2).normal(0.0, 1.0, len(TS))


def _judge(
    candidate: np.ndarray,
    stable: np.ndarray = TRUTH,
    *,
    mode: str = "rollback",
    now: float = T0 + SECONDS + 100,
    envelope: float | None = ENVELOPE,
    outcome: np.ndarray = Y,
    relative: bool = False,
) -> JudgementResult:
    spec = JudgementSpec(
        agreement=AgreementSpec(on_different=mode),
        calibration=CalibrationSpec(relative_to_stable=relative),
    )
    ctx = JudgementContext(now, T0, 120.0, envelope, planned_looks=30, bootstrap_reps=200)
    return assess_judgement(PairedRows(TS, stable, candidate, outcome), spec, ctx)


CASES = [
    # (name, candidate, stable, mode, verdict, deciding check, its verdict)
    ("identical", TRUTH, TRUTH, "rollback", Verdict.PASS, AGREEMENT, Verdict.EQUIVALENT),
    ("retrain noise", TRUTH + 0.005 * NOISE, TRUTH, "rollback", Verdict.PASS, AGREEMENT,
     Verdict.EQUIVALENT),
    ("p + 0.10", np.clip(TRUTH + 0.10, 0, 1), TRUTH, "rollback", Verdict.FAIL, AGREEMENT,
     Verdict.DIFFERENT),
    ("better, evaluate", TRUTH, np.clip(TRUTH + 0.15 * NOISE, 0.01, 0.99), "evaluate",
     Verdict.PASS, NON_INFERIORITY, Verdict.PASS),
    ("worse, evaluate", np.clip(TRUTH + 0.25, 0, 1), TRUTH, "evaluate", Verdict.FAIL,
     NON_INFERIORITY, Verdict.FAIL),
]  # fmt: skip


Case = tuple[str, np.ndarray, np.ndarray, str, Verdict, str, Verdict]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_table(case: Case) -> None:
    _, candidate, stable, mode, verdict, check, check_verdict = case
    result = _judge(candidate, stable, mode=mode)
    assert result.verdict is verdict, result.reason
    found = result.find_check(check)
    assert found is not None
    assert found.gating
    assert found.verdict is check_verdict
    assert found.n_eff == 30
    assert found.n == len(TS)
    assert found.lower <= found.estimate <= found.upper


def test_better_candidate_reports_its_estimate_below_zero() -> None:
    stable = np.clip(TRUTH + 0.15 * NOISE, 0.01, 0.99)
    stage_two = _judge(TRUTH, stable, mode="evaluate").find_check(NON_INFERIORITY)
    assert stage_two is not None
    assert stage_two.upper < 0.0
    assert "upper bound" in stage_two.reason


def test_rollback_mode_names_the_envelope_and_keeps_stage_two_as_a_reading() -> None:
    result = _judge(np.clip(TRUTH + 0.10, 0, 1))
    agreement, stage_two = result.find_check(AGREEMENT), result.find_check(NON_INFERIORITY)
    assert agreement is not None
    assert "onDifferent: rollback" in agreement.reason
    assert agreement.threshold == ENVELOPE
    assert agreement.lower > ENVELOPE
    assert stage_two is not None
    assert not stage_two.gating


def test_too_few_blocks_is_waiting_and_says_for_what() -> None:
    result = _judge(TRUTH, now=T0 + 500)
    assert result.verdict is Verdict.WAITING
    agreement = result.find_check(AGREEMENT)
    assert agreement is not None
    assert agreement.verdict is Verdict.WAITING
    assert agreement.reason == "waiting for 8 finished blocks of 120 s, have 4"
    assert math.isinf(agreement.upper)


def test_no_rows_is_waiting() -> None:
    empty = np.array([], dtype=float)
    spec = JudgementSpec()
    ctx = JudgementContext(T0 + 60, T0, 120.0, ENVELOPE, planned_looks=30)
    result = assess_judgement(PairedRows(empty, empty, empty, empty), spec, ctx)
    assert result.verdict is Verdict.WAITING
    assert {c.name for c in result.checks} == {AGREEMENT, NON_INFERIORITY, CALIBRATION, ECE}


def test_without_an_envelope_stage_two_decides_in_rollback_mode() -> None:
    result = _judge(TRUTH + 0.005 * NOISE, envelope=None)
    agreement, stage_two = result.find_check(AGREEMENT), result.find_check(NON_INFERIORITY)
    assert agreement is not None
    assert not agreement.gating
    assert "no retraining-noise" in agreement.reason
    assert stage_two is not None
    assert stage_two.gating
    assert result.verdict is Verdict.PASS


def test_a_miscalibrated_equivalent_candidate_fails_on_calibration() -> None:
    shifted = np.clip(TRUTH + 0.10, 0, 1)
    result = _judge(shifted, shifted)  # both versions shifted: equivalent, but miscalibrated
    calibration = result.find_check(CALIBRATION)
    assert calibration is not None
    assert calibration.verdict is Verdict.FAIL
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("calibration:")
    assert calibration.threshold == pytest.approx(0.01 / 30)


def test_relative_to_the_stable_the_calibration_test_gates_while_the_stable_passes_it() -> None:
    """A drift retrain: a candidate p + 0.10 (better than a stable p + 0.25, so stage 2 passes
    it) is shown miscalibrated but not failed while the stable fails the same test; against a
    calibrated stable the test gates as before."""
    shifted, worse = np.clip(TRUTH + 0.10, 0, 1), np.clip(TRUTH + 0.25, 0, 1)
    result = _judge(shifted, worse, mode="evaluate", relative=True)
    calibration = result.find_check(CALIBRATION)
    assert calibration is not None
    assert not calibration.gating
    assert calibration.verdict is None
    assert calibration.estimate < calibration.threshold
    assert "the stable fails it too" in calibration.reason
    assert result.verdict is Verdict.PASS
    assert result.reason.startswith("nonInferiority:")
    gated = _judge(shifted, shifted, relative=True)  # the stable as miscalibrated: shown only
    assert gated.verdict is Verdict.PASS
    against_calibrated = _judge(shifted, TRUTH, mode="evaluate", relative=True)
    found = against_calibrated.find_check(CALIBRATION)
    assert found is not None
    assert found.gating
    assert found.verdict is Verdict.FAIL
    assert against_calibrated.verdict is Verdict.FAIL


def test_unresolved_rows_hold_back_their_blocks() -> None:
    outcome = Y.copy()
    outcome[TS >= T0 + 600] = np.nan  # the resolver is 10 minutes behind
    assert plan_outcome_until(PairedRows(TS, TRUTH, TRUTH, outcome), T0 + SECONDS) == T0 + 600
    result = _judge(TRUTH, outcome=outcome)
    stage_two = result.find_check(NON_INFERIORITY)
    assert stage_two is not None
    assert stage_two.n_eff == 5
    agreement = result.find_check(AGREEMENT)
    assert agreement is not None
    assert agreement.n_eff == 30


def test_ece_is_a_reading() -> None:
    ece = _judge(TRUTH).find_check(ECE)
    assert ece is not None
    assert not ece.gating
    assert ece.verdict is None
    assert ece.lower <= ece.estimate <= ece.upper


def test_losses() -> None:
    p, y = np.array([0.8, 0.8, 0.0]), np.array([1.0, 0.0, 0.0])
    assert compute_losses(p, y, "brier") == pytest.approx([0.04, 0.64, 0.0])
    log_loss = compute_losses(p, y, "logLoss")
    assert log_loss[:2] == pytest.approx([-math.log(0.8), -math.log(0.2)])
    assert 0.0 < log_loss[2] < 1e-5  # clipped, finite

"""Judge a candidate from paired shadow rows: stage 1, stage 2, calibration, one verdict.

Layer: core (pure), in ``canary``; the statistics are ``levibot_common.stats``. The one entry
point, also driven by ``bench/gate_error_rates.py``::

    assess_judgement(rows: PairedRows, spec: JudgementSpec, context: JudgementContext)
        -> JudgementResult

``rows`` are the paired rows since the canary started (one per symbol and second; both versions
scored each request: ``p_stable``, ``p_candidate``; ``outcome`` 1.0 / 0.0, NaN while
unresolved). ``context`` carries the time (``now``, ``started_at``, epoch seconds: blocks are
anchored at ``started_at``), the block length, the stable version's retraining-noise envelope and
the number of planned looks. The result holds one ``CheckResult`` per check and the verdict of
the gating ones:

- ``agreement`` (stage 1): RMS of ``p_candidate - p_stable`` against the envelope, on finished
  blocks of ``spec.agreement.blockSeconds`` (0: the judgement's). Equivalent passes. Different
  fails when ``onDifferent`` is ``rollback``; with ``evaluate`` (or when the stable has no
  envelope) stage 2 decides instead and agreement is shown, not gating.
- ``nonInferiority`` (stage 2): block means of the per-row loss difference (candidate minus
  stable; log-loss or Brier) on resolved rows, confidence sequence against ``tolerance``. A
  reading (not gating) in ``rollback`` mode or once stage 1 found the candidate equivalent.
- ``calibration``: the block calibration test of the candidate's resolved rows at
  ``calibration.alpha / planned_looks`` (Bonferroni: the data change once per finished block);
  its estimate is the p-value. With ``relativeToStable`` a rejection gates only when the
  stable's p_up pass the same test on the same rows; otherwise it is shown, not gating.
  ``ece`` is its reading: the ECE with a block-bootstrap interval.
- ``tradingSharpe`` and ``tradingDrawdown`` when the judgement has a ``trading`` block and the
  rows carry their trading columns (``trading_checks``): a veto and a reading.

The verdict over the gating checks: fail if any fails, else inconclusive if any is, else
waiting if any waits (too few finished blocks: this must not count towards
``inconclusiveLimit``), else pass. Outcome blocks count only once every row up to their end is
resolved, so a counted block mean never changes.
"""

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from levibot_common.stats.agreement import assess_agreement, compute_squared_differences
from levibot_common.stats.blocks import BlockMeans, compute_block_index, compute_block_means
from levibot_common.stats.calibration import (
    BOOTSTRAP_REPS,
    CalibrationAssessment,
    assess_calibration,
)
from levibot_common.stats.results import Assessment, FloatArray, Verdict
from levibot_common.stats.sequential import assess_noninferiority
from levibot_common.trading import Costs
from levibot_operator.core.canary.judgement_spec import JudgementSpec
from levibot_operator.core.canary.trading_band import RetrainNoise
from levibot_operator.core.canary.trading_checks import (
    TradingContext,
    TradingRows,
    assess_trading_checks,
)

LOSS_EPSILON = 1e-6  # p_up is clipped to [eps, 1 - eps] before the log-loss
AGREEMENT, NON_INFERIORITY, CALIBRATION = "agreement", "nonInferiority", "calibration"
ECE = "calibrationEce"  # "ece" is the deprecated Prometheus reading


@dataclass(frozen=True)
class PairedRows:
    """Paired shadow rows, 1-d arrays of one length (see the module docstring)."""

    ts: FloatArray
    p_stable: FloatArray
    p_candidate: FloatArray
    outcome: FloatArray
    trading: TradingRows | None = None  # signals and returns, for the trading checks


@dataclass(frozen=True)
class JudgementContext:
    """What the judgement needs besides rows and spec; times in epoch seconds.

    ``block_seconds`` is the resolved block length (the spec's, or horizon + feature window);
    ``envelope_rms`` None: the stable recorded no envelope (stage 2 decides); ``planned_looks``
    splits the calibration alpha; ``seed`` and ``bootstrap_reps`` drive the ECE interval.
    """

    now: float
    started_at: float
    block_seconds: float
    envelope_rms: float | None
    planned_looks: int
    seed: int = 0
    bootstrap_reps: int = BOOTSTRAP_REPS
    horizon_seconds: float = 60.0
    costs: Costs = field(
        default_factory=Costs
    )  # the ModelDeployment's spec.trading, for the trading checks
    trading_noise: RetrainNoise | None = None  # the stable's recorded paired-trading noise


@dataclass(frozen=True)
class CheckResult:
    """One check as status shows it; ``gating`` False: shown, not part of the verdict.

    ``verdict`` None: a reading with no verdict of its own (the ECE).
    """

    name: str
    estimate: float
    lower: float
    upper: float
    threshold: float
    n: int
    n_eff: int
    verdict: Verdict | None
    reason: str
    gating: bool = True


@dataclass(frozen=True)
class JudgementResult:
    """Every check and the verdict of the gating ones (pass, fail, inconclusive or waiting)."""

    checks: tuple[CheckResult, ...]
    verdict: Verdict
    reason: str

    def find_check(self, name: str) -> CheckResult | None:
        """The check called ``name``, if it was assessed."""
        return next((c for c in self.checks if c.name == name), None)


def compute_losses(p: FloatArray, y: FloatArray, metric: str) -> FloatArray:
    """Per-row log-loss (``p`` clipped to ``[eps, 1 - eps]``) or Brier score."""
    if metric == "brier":
        return np.asarray((p - y) ** 2, dtype=np.float64)
    q = np.clip(p, LOSS_EPSILON, 1.0 - LOSS_EPSILON)
    return np.asarray(-(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)), dtype=np.float64)


def plan_planned_blocks(spec: JudgementSpec, block_seconds: float) -> int:
    """The blocks a whole budget holds: where the confidence sequence is made tightest."""
    return max(1, math.ceil(spec.budget.total_seconds() / block_seconds))


def plan_agreement_block_seconds(spec: JudgementSpec, context: JudgementContext) -> float:
    """Stage 1's block: ``agreement.blockSeconds``, or the judgement's when 0."""
    return float(spec.agreement.block_seconds or context.block_seconds)


def plan_outcome_until(rows: PairedRows, now: float) -> float:
    """Outcome blocks must end by then: ``now``, or the first still unresolved row."""
    unresolved = rows.ts[np.isnan(rows.outcome)]
    return min(now, float(unresolved.min())) if len(unresolved) else now


def _finished(ts: FloatArray, block_seconds: float, origin: float, until: float) -> FloatArray:
    index = compute_block_index(ts, block_seconds, origin_s=origin)
    return np.asarray(origin + (index + 1) * block_seconds <= until)


def _from_assessment(name: str, a: Assessment, gating: bool, note: str = "") -> CheckResult:
    reason = a.reason if gating else f"not gating{note}: {a.reason}"
    return CheckResult(
        name, a.estimate, a.lower, a.upper, a.threshold, a.n, a.n_eff, a.verdict, reason, gating
    )


def _blocks(ts: FloatArray, values: FloatArray, seconds: float, ctx: JudgementContext,
            until: float) -> BlockMeans:  # fmt: skip
    return compute_block_means(ts, values, seconds, origin_s=ctx.started_at, until_s=until)


def assess_stage_one(rows: PairedRows, spec: JudgementSpec, ctx: JudgementContext) -> Assessment:
    """Stage 1 on finished blocks; inconclusive (with the reason) when there is no envelope."""
    seconds = plan_agreement_block_seconds(spec, ctx)
    squares = compute_squared_differences(rows.p_candidate, rows.p_stable)
    blocks = _blocks(rows.ts, squares, seconds, ctx, ctx.now)
    planned = plan_planned_blocks(spec, seconds)
    envelope = ctx.envelope_rms
    found = assess_agreement(
        blocks, envelope if envelope is not None else math.inf, spec.alpha,
        planned_blocks=planned, lags=spec.agreement.lags,
    )  # fmt: skip
    if envelope is not None:
        return found
    reason = "the stable version recorded no retraining-noise envelope: stage 2 decides"
    verdict = Verdict.WAITING if found.verdict is Verdict.WAITING else Verdict.INCONCLUSIVE
    return Assessment(found.estimate, found.lower, found.upper, math.nan, found.n, found.n_eff,
                      verdict, reason)  # fmt: skip


def _resolved(rows: PairedRows, ctx: JudgementContext) -> PairedRows:
    until = plan_outcome_until(rows, ctx.now)
    keep = ~np.isnan(rows.outcome) & _finished(rows.ts, ctx.block_seconds, ctx.started_at, until)
    return PairedRows(
        rows.ts[keep], rows.p_stable[keep], rows.p_candidate[keep], rows.outcome[keep]
    )


def assess_stage_two(
    resolved: PairedRows, spec: JudgementSpec, ctx: JudgementContext
) -> Assessment:
    """Stage 2: the paired loss difference (candidate minus stable) against the tolerance."""
    metric = spec.non_inferiority.metric
    diff = compute_losses(resolved.p_candidate, resolved.outcome, metric) - compute_losses(
        resolved.p_stable, resolved.outcome, metric
    )
    blocks = _blocks(resolved.ts, diff, ctx.block_seconds, ctx, math.inf)
    return assess_noninferiority(
        blocks, spec.non_inferiority.tolerance, spec.alpha,
        planned_blocks=plan_planned_blocks(spec, ctx.block_seconds),
    )  # fmt: skip


def assess_calibration_checks(
    resolved: PairedRows, spec: JudgementSpec, ctx: JudgementContext
) -> tuple[CheckResult, CheckResult]:
    """The calibration test (gating; estimate = p-value) and the ECE reading."""
    alpha = spec.calibration.alpha / max(ctx.planned_looks, 1)

    def test_version(p_up: FloatArray, reps: int) -> CalibrationAssessment:
        return assess_calibration(
            resolved.ts, p_up, resolved.outcome, ctx.block_seconds, alpha=alpha,
            rng=np.random.default_rng(ctx.seed), origin_s=ctx.started_at, bootstrap_reps=reps,
        )  # fmt: skip

    found = test_version(resolved.p_candidate, ctx.bootstrap_reps)
    test = CheckResult(
        CALIBRATION, found.p_value, math.nan, math.nan, alpha, found.n, found.n_eff,
        found.verdict, found.reason,
    )  # fmt: skip
    if spec.calibration.relative_to_stable and found.verdict is Verdict.FAIL:
        stable = test_version(resolved.p_stable, 0)
        if stable.verdict is Verdict.FAIL:
            why = (
                f"reading (relativeToStable, not a gate): {found.reason}; the stable fails it "
                f"too on the same rows (p {stable.p_value:.2g}): the paired loss decides"
            )
            test = replace(test, verdict=None, reason=why, gating=False)
    ece_reason = f"reading (not a gate): ECE {found.ece:.3g} over {found.n_eff} blocks"
    ece = CheckResult(ECE, found.ece, found.ece_lower, found.ece_upper, math.nan, found.n,
                      found.n_eff, None, ece_reason, gating=False)  # fmt: skip
    return test, ece


def build_trading_checks(
    rows: PairedRows,
    spec: JudgementSpec,
    ctx: JudgementContext,
    *,
    alone: bool = False,
    readings: bool = True,
) -> tuple[CheckResult, ...]:
    """The trading checks, when the spec asks for them and the rows carry their columns
    (``alone``: they gate alone; ``readings`` False: no drawdown reading). Their block: the
    spec's, else the horizon when the stable recorded its retraining noise (the band needs no
    estimated variance), else the judgement's."""
    if spec.trading is None or rows.trading is None:
        return ()
    noise = ctx.trading_noise
    auto = math.ceil(ctx.horizon_seconds) if noise is not None else ctx.block_seconds
    seconds = float(spec.trading.block_seconds or auto)
    planned = plan_planned_blocks(spec, seconds)
    trading = TradingContext(ctx.now, ctx.started_at, seconds, ctx.horizon_seconds, ctx.costs,
                             spec.alpha, planned, alone, readings, noise)  # fmt: skip
    found = assess_trading_checks(rows.ts, rows.trading, spec.trading, trading)
    return tuple(CheckResult(**asdict(c)) for c in found)


def _stage_two_decides(spec: JudgementSpec, agreement: Assessment, has_envelope: bool) -> bool:
    if agreement.verdict is Verdict.EQUIVALENT:
        return False
    return spec.agreement.on_different == "evaluate" or not has_envelope


def _fails(check: CheckResult) -> bool:
    return check.verdict in (Verdict.FAIL, Verdict.DIFFERENT)


def assess_verdict(checks: tuple[CheckResult, ...]) -> tuple[Verdict, str]:
    """The verdict of the gating checks, and the first check that decided it."""
    gating = [c for c in checks if c.gating]
    for kind in (Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.WAITING):
        match = [c for c in gating if (_fails(c) if kind is Verdict.FAIL else c.verdict is kind)]
        if match:
            return kind, f"{match[0].name}: {match[0].reason}"
    if not gating:
        return Verdict.INCONCLUSIVE, "no gating check"
    return Verdict.PASS, "; ".join(f"{c.name}: {c.reason}" for c in gating)


def assess_judgement(
    rows: PairedRows, spec: JudgementSpec, context: JudgementContext
) -> JudgementResult:
    """Every check of the judgement and its verdict (see the module docstring)."""
    agreement = assess_stage_one(rows, spec, context)
    stage_two = _stage_two_decides(spec, agreement, context.envelope_rms is not None)
    if agreement.verdict is Verdict.DIFFERENT and not stage_two:
        why = "different from the stable beyond the retraining-noise envelope (onDifferent: "
        agreement = replace(agreement, reason=f"{why}rollback); {agreement.reason}")
    resolved = _resolved(rows, context)
    calibration, ece = assess_calibration_checks(resolved, spec, context)
    note = " (stage 1 decides)" if agreement.verdict is Verdict.EQUIVALENT else " (rollback mode)"
    checks = (
        _from_assessment(AGREEMENT, agreement, not stage_two, " (stage 2 decides)"),
        _from_assessment(
            NON_INFERIORITY, assess_stage_two(resolved, spec, context), stage_two, note
        ),
        calibration,
        ece,
        *build_trading_checks(rows, spec, context),
    )
    verdict, reason = assess_verdict(checks)
    return JudgementResult(checks, verdict, reason)

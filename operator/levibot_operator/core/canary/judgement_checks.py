"""One measurement of an analysis that has a judgement: server checks, readings, the judgement.

Layer: core (pure), in ``canary``. With ``judgement`` set, a measurement's checks are:

- the server checks ``errorRate`` and ``latencyP95`` (from Prometheus), gating as before; with no
  requests in the window (a candidate at 0 % weight, scored only in shadow) they are readings;
- the deprecated thresholds (``ece``, ``eceWorseThanStable``, ``ksPValue``, ``psi``): readings,
  shown with what the old gate would have said, never gating; ``minSamples`` is not used;
- the judgement's checks (``judgement.assess_judgement``), with their intervals and effective n.

``analysis.assess_measurement`` then applies the one rule to the gating checks.
``plan_judgement_context`` resolves the block length and the looks for the shell: the rows are
pooled from ``status.judgement.since`` (the candidate's first step) by every analysis step of
the attempt, so the calibration test's alpha is split over the looks of all of them.
"""

import math
from collections.abc import Sequence

from levibot_common.features import lookback_seconds
from levibot_common.stats.blocks import plan_block_seconds
from levibot_common.stats.results import Verdict as StatsVerdict
from levibot_operator.core.canary.analysis import (
    CheckVerdict,
    Values,
    Verdict,
    assess_check,
    plan_checks,
)
from levibot_operator.core.canary.judgement import (
    AGREEMENT,
    CALIBRATION,
    NON_INFERIORITY,
    CheckResult,
    JudgementContext,
    JudgementResult,
    plan_planned_blocks,
)
from levibot_operator.core.canary.judgement_spec import JudgementSpec
from levibot_operator.core.canary.spec import AnalysisStep, CanarySpec, Thresholds
from levibot_operator.core.canary.trading_checks import TRADING_DRAWDOWN, TRADING_SHARPE

SERVER_CHECKS = frozenset({"errorRate", "latencyP95"})
_COMPARISON = {
    AGREEMENT: "<=", NON_INFERIORITY: "<=", CALIBRATION: ">=",
    TRADING_SHARPE: ">=", TRADING_DRAWDOWN: "<=",
}  # fmt: skip
_VERDICTS = {
    StatsVerdict.PASS: Verdict.PASS,
    StatsVerdict.FAIL: Verdict.FAIL,
    StatsVerdict.INCONCLUSIVE: Verdict.INCONCLUSIVE,
    StatsVerdict.WAITING: Verdict.WAITING,
    StatsVerdict.EQUIVALENT: Verdict.EQUIVALENT,
    StatsVerdict.DIFFERENT: Verdict.DIFFERENT,
}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def build_judgement_check(check: CheckResult) -> CheckVerdict:
    """A judgement check in the status's form (infinite bounds and NaN become absent)."""
    verdict = Verdict.READING if check.verdict is None else _VERDICTS[check.verdict]
    return CheckVerdict(
        name=check.name,
        value=_finite(check.estimate),
        threshold=check.threshold,
        comparison=_COMPARISON.get(check.name, "<="),
        verdict=verdict,
        reason=check.reason,
        lower=_finite(check.lower),
        upper=_finite(check.upper),
        n=check.n,
        n_eff=check.n_eff,
        gating=check.gating,
    )


def assess_server_check(name: str, value: float | None, limit: float, op: str) -> CheckVerdict:
    """A server check; no data is a reading (nothing served, nothing to fault), not a gate."""
    found = assess_check(name, value, limit, op, gated=False)
    if found.value is not None:
        return found
    reason = "no requests in the window (not gating: the judgement decides)"
    return CheckVerdict(name, None, limit, op, Verdict.READING, reason, gating=False)


def build_reading(check: CheckVerdict) -> CheckVerdict:
    """A deprecated threshold as a reading: what the old gate would have said, not gating."""
    reason = f"deprecated, a reading under judgement (old gate: {check.reason})"
    return CheckVerdict(
        check.name, check.value, check.threshold, check.comparison, Verdict.READING, reason,
        gating=False,
    )  # fmt: skip


def assess_judged_checks(
    values: Values, thresholds: Thresholds, result: JudgementResult
) -> tuple[CheckVerdict, ...]:
    """Every check of one measurement of an analysis with a judgement."""
    checks = []
    for name, value, limit, op in plan_checks(values, thresholds):
        if name in SERVER_CHECKS:
            checks.append(assess_server_check(name, value, limit, op))
        else:
            checks.append(build_reading(assess_check(name, value, limit, op, gated=False)))
    return (*checks, *(build_judgement_check(c) for c in result.checks))


def count_judged_steps(spec: CanarySpec) -> int:
    """The analysis steps with a judgement (at least 1): the runs that pool one set of rows."""
    return max(1, sum(isinstance(s, AnalysisStep) and s.analysis.judgement is not None
                      for s in spec.steps))  # fmt: skip


def plan_judgement_context(
    spec: JudgementSpec,
    target: tuple[int, Sequence[str]],
    window: tuple[float, float],
    envelope_rms: float | None,
    *,
    runs: int = 1,
) -> JudgementContext:
    """The context of one look at ``window`` = (pool start, now), epoch seconds, for the
    ``target`` = (horizon seconds, feature names): the block is the spec's, or horizon + the
    longest window of those features. The calibration alpha is split over the looks of the
    ``runs`` analysis steps that pool these rows: a run sees at most one new data state per
    block of its budget, plus the blocks finished before it started (its first look)."""
    since, now = window
    horizon, features = target
    block = float(spec.block_seconds) or plan_block_seconds(horizon, lookback_seconds(features))
    looks = runs * (plan_planned_blocks(spec, block) + 1)
    return JudgementContext(now, since, block, envelope_rms, looks, seed=int(since),
                            horizon_seconds=float(horizon))  # fmt: skip

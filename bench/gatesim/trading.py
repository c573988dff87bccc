"""The trading checks alone (issue 15), driven through the operator's own code (benchmark helper).

``TradingGate`` is a ``Gate`` (see ``canary``) that measures what the operator's shell measures
under a judgement with a ``trading`` block, keeping only the trading checks
(``judgement.build_trading_checks(..., alone=True)``: the Sharpe difference gates in every
state, so an inconclusive one keeps the canary measuring until the budget ends; the drawdown
ratio is a reading, skipped here: it decides nothing and its paper trades are most of a look's
time):

* rows: the adapter's paired rows (``judged.build_paired_rows``) since the rows are pooled
  (``status.judgement_since``, else the analysis run's start), with their trading columns: each
  version's side by the predictor's policy (``decide_signal`` with the serving defaults, BUY at
  p_up >= 0.55, SELL at <= 0.45), the horizon's simple return (``markets``), NaN until resolved,
  and the symbol;
* costs: ``levibot_common.trading.Costs()`` (10 bps fee + 5 bps slippage per side, the
  ModelDeployment's defaults);
* the spec: ``specs/production.yaml`` with ``judgement.trading: {}`` (the seed's +0.2 / -0.3 /
  0.9), or a longer budget when asked (``--trading-budget``);
* the stable's retraining noise (``noise``): what the trainer's pipeline records with the
  version (``levibot_trainer.core.trading_noise`` over the envelope's K retrains, computed in
  ``models``), as the operator's adapter reads it; the check then judges the candidate against
  the band a healthy retrain stays in, on blocks of the horizon. ``--trading-noise none`` leaves
  it out: the candidate's own confidence sequence on horizon + feature-window blocks, the rule
  for a stable trained before the trainer recorded it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import yaml

from gatesim.canary import EPOCH, PRODUCTION_SPEC
from gatesim.judged import FirstRows
from gatesim.markets import HORIZON_S, FloatArray
from gatesim.today import TodayGate
from gatesim.traffic import PairedLog
from levibot_common.features import FEATURES
from levibot_common.trading import Costs
from levibot_operator.core.canary.analysis import Query
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.judgement import (
    JudgementResult,
    PairedRows,
    assess_verdict,
    build_trading_checks,
)
from levibot_operator.core.canary.judgement_checks import (
    assess_judged_checks,
    plan_judgement_context,
)
from levibot_operator.core.canary.spec import (
    AnalysisSpec,
    CanarySpec,
    parse_canary_spec,
    parse_duration,
)
from levibot_operator.core.canary.status import CanaryStatus
from levibot_operator.core.canary.trading_band import RetrainNoise
from levibot_operator.core.canary.trading_checks import TradingRows
from levibot_predictor.core.policy import Thresholds, decide_signal

POLICY = Thresholds(buy=0.55, sell=0.45)  # the predictor's serving defaults
SIDES = {"BUY": 1.0, "SELL": -1.0, "HOLD": 0.0}


def compute_sides(p_up: FloatArray) -> FloatArray:
    """Each row's side by the predictor's ``decide_signal`` (NaN where there is no p_up);
    vectorised, and checked against ``decide_signal`` on the grid's edges in the tests."""
    side = np.where(p_up >= POLICY.buy, 1.0, np.where(p_up <= POLICY.sell, -1.0, 0.0))
    return np.where(np.isnan(p_up), np.nan, side)


def check_policy_agrees() -> None:
    """The vectorised policy says what ``decide_signal`` says (edges included)."""
    grid = np.array([0.0, 0.3, 0.45, 0.4500001, 0.5, 0.5499999, 0.55, 0.9, 1.0])
    expected = np.array([SIDES[decide_signal(float(p), POLICY)] for p in grid])
    if not np.array_equal(compute_sides(grid), expected):
        raise AssertionError("gatesim.trading: the policy differs from the predictor's")


def load_trading_spec(budget: str | None = None, rollback: float | None = None) -> CanarySpec:
    """The production spec with ``judgement.trading: {}``, parsed by the operator, with an
    existing candidate version; ``budget`` replaces the judgement's budget (and lifts
    ``inconclusiveLimit`` above budget / interval, so that the budget decides, as the production
    spec intends), ``rollback`` the ``rollbackSharpeDelta``."""
    document: dict[str, Any] = yaml.safe_load(PRODUCTION_SPEC.read_text())
    spec = {**document["spec"], "candidate": {"version": "v2"}}
    analysis = spec["analysis"]
    analysis["judgement"]["trading"] = {} if rollback is None else {"rollbackSharpeDelta": rollback}
    if budget is not None:
        analysis["judgement"]["budget"] = budget
        looks = parse_duration(budget, "budget") / parse_duration(analysis["interval"], "interval")
        analysis["inconclusiveLimit"] = int(looks) + 2
    return parse_canary_spec(spec)


class TradingGate:
    """The operator's trading checks alone, on one canary's paired log."""

    def __init__(self, firsts: FirstRows, noise: RetrainNoise | None = None) -> None:
        self._firsts = firsts
        self._noise = noise
        self._times: dict[int, FloatArray] = {}
        check_policy_agrees()

    def select_rows(self, log: PairedLog, since: float, now: float) -> Any:
        """``judged.build_paired_rows``'s rows (first request of each symbol and second, in
        ``[since, now]``), found by bisection: a look must not scan the whole log."""
        firsts = self._firsts.select(log)
        times = self._times.setdefault(id(log.ts), log.ts[firsts])
        low, high = np.searchsorted(times, since, "left"), np.searchsorted(times, now, "right")
        return firsts[low:high]

    def __call__(self, log: PairedLog, now: float, analysis: AnalysisSpec,
                 status: CanaryStatus) -> Measurement:  # fmt: skip
        """The measurement the operator would take at ``now``, trading checks only."""
        judgement, run = analysis.judgement, status.analysis
        if judgement is None or run is None or log.outcome_return is None:
            return Measurement(error="no judgement, analysis run or returns")
        since = ((status.judgement_since or run.started_at) - EPOCH).total_seconds()
        keep = self.select_rows(log, since, now)
        known = log.resolved_at[keep] <= now
        p_stable, p_candidate = log.p_stable[keep], log.p_candidate[keep]
        trading = TradingRows(compute_sides(p_stable), compute_sides(p_candidate),
                              np.where(known, log.outcome_return[keep], np.nan),
                              log.symbol[keep].astype(object))  # fmt: skip
        outcome = np.where(known, log.outcome[keep], np.nan)
        rows = PairedRows(log.ts[keep], p_stable, p_candidate, outcome, trading)
        context = plan_judgement_context(
            judgement, (HORIZON_S, FEATURES), (since, now), None, runs=1
        )
        context = replace(context, horizon_seconds=float(HORIZON_S), costs=Costs(),
                          trading_noise=self._noise)  # fmt: skip
        checks = build_trading_checks(rows, judgement, context, alone=True, readings=False)
        verdict, reason = assess_verdict(checks)
        values: dict[Query, float | None] = dict(
            TodayGate.serving_values(log, now, parse_duration(analysis.window, "window"))
        )
        result = JudgementResult(checks, verdict, reason)
        return Measurement(verdicts=assess_judged_checks(values, analysis.thresholds, result))

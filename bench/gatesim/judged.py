"""The new gates (issue 13), driven through the operator's own judgement code (benchmark helper).

``JudgedGate`` is a ``Gate`` (see ``canary``) that does what the operator's shell
(``shell/canary_judgement.fetch_judged_measurement``) does, with the prediction log replaced by
the simulated ``PairedLog``:

* rows: the paired rows since the candidate started being measured (``status.judgement_since``,
  the canary's first step, as the shell reads them: every analysis step pools them), one per
  (symbol, feature second), the earliest request of each (the adapter's ``DISTINCT ON``),
  outcomes NaN until resolved (``PairedLog.view``);
* the stable's envelope: ``measure_fitted_envelope`` of the trainer's pipeline (K = 8 retrains
  on shifted windows, ``levibot_common.stats.agreement.measure_envelope``), computed once per
  market in ``models``;
* ``plan_judgement_context`` (block = horizon + the longest window of the features, all of
  ``FEATURES`` here, unless the spec sets one; calibration's looks over the production spec's
  judged steps), ``assess_judgement`` and ``assess_judged_checks`` of the operator's core, with the
  server checks as today's gate gives them (no errors, 5 ms while the candidate serves).

The deprecated thresholds (ECE, PSI, KS) are readings under a judgement, never gating: they are
passed as absent here (computing them would only cost time). The ECE reading's bootstrap uses
``BOOTSTRAP_REPS`` replicates instead of the operator's 1,000: it is a reading, not a gate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gatesim.canary import EPOCH, PRODUCTION_SPEC, load_spec
from gatesim.markets import HORIZON_S
from gatesim.today import TodayGate, select_first_rows
from gatesim.traffic import IntArray, PairedLog
from levibot_common.features import FEATURES
from levibot_operator.core.canary.analysis import Query
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.judgement import PairedRows, assess_judgement
from levibot_operator.core.canary.judgement_checks import (
    assess_judged_checks,
    count_judged_steps,
    plan_judgement_context,
)
from levibot_operator.core.canary.spec import AnalysisSpec, parse_duration
from levibot_operator.core.canary.status import CanaryStatus

BOOTSTRAP_REPS = 50
PRODUCTION_RUNS = count_judged_steps(load_spec(PRODUCTION_SPEC))  # analysis steps that pool rows


class FirstRows:
    """The earliest request of every (symbol, second) of a traffic, computed once and shared
    by the logs of one traffic (the adapter's ``DISTINCT ON``; a second cut by a run's start
    keeps its first request before the start out, a detail of one row per symbol)."""

    def __init__(self) -> None:
        self._rows: dict[int, IntArray] = {}

    def select(self, log: PairedLog) -> IntArray:
        """Indices of the first request of each (symbol, second), oldest first."""
        key = id(log.ts)
        if key not in self._rows:
            every = np.arange(len(log.ts), dtype=np.int64)
            self._rows[key] = np.sort(select_first_rows(log, every))
        return self._rows[key]


def build_paired_rows(log: PairedLog, firsts: IntArray, since: float, now: float) -> PairedRows:
    """The adapter's rows: since ``since``, one per (symbol, second), outcomes as known."""
    rows = firsts[(log.ts[firsts] >= since) & (log.ts[firsts] <= now)]
    outcome = np.where(log.resolved_at[rows] <= now, log.outcome[rows], np.nan)
    return PairedRows(log.ts[rows], log.p_stable[rows], log.p_candidate[rows], outcome)


class JudgedGate:
    """The operator's judgement of one canary against the stable's envelope."""

    def __init__(
        self, envelope_rms: float | None, firsts: FirstRows, runs: int = PRODUCTION_RUNS
    ) -> None:
        self._envelope = envelope_rms
        self._firsts = firsts
        self._runs = runs

    def __call__(self, log: PairedLog, now: float, analysis: AnalysisSpec,
                 status: CanaryStatus) -> Measurement:  # fmt: skip
        """The measurement the operator would take at ``now``."""
        judgement, run = analysis.judgement, status.analysis
        if judgement is None or run is None:
            return Measurement(error="no judgement or analysis run")
        since = ((status.judgement_since or run.started_at) - EPOCH).total_seconds()
        rows = build_paired_rows(log, self._firsts.select(log), since, now)
        context = plan_judgement_context(
            judgement, (HORIZON_S, FEATURES), (since, now), self._envelope, runs=self._runs
        )
        result = assess_judgement(rows, judgement, replace(context, bootstrap_reps=BOOTSTRAP_REPS))
        values: dict[Query, float | None] = dict(
            TodayGate.serving_values(log, now, parse_duration(analysis.window, "window"))
        )
        return Measurement(verdicts=assess_judged_checks(values, analysis.thresholds, result))

"""Today's gates, driven through levibot's own code (benchmark helper).

Each version's predictor pod runs its monitor pass every ``MONITOR_INTERVAL_S`` (same phase for
both pods); an analysis measurement at ``now`` reads what the latest pass exported, as the
operator's PromQL (``build_analysis_queries``) reads the gauges:

* calibration (``samples``, ``ece``, ``stableEce``): the window rule of the predictor's
  ``io/outcomes.py`` ``WINDOW_SQL`` on the track's own rows (disjoint traffic slices): among
  the newest ``outcome_window * WINDOW_SCAN_FACTOR`` resolved rows of the version, one sample
  per (symbol, second, p_up) (the earliest request), the newest ``outcome_window`` of them;
  scored by the predictor's ``assess_calibration``. The SQL itself needs PostgreSQL, so its
  rule is applied here to the log's columns; the ECE, the counts and the rule are the product's.
* drift (``psi``, ``ksPValue``): the predictor's own ``RowWindow`` (one row per symbol and
  feature second served by the candidate, 1,800 s, 10,000 rows) and ``assess_drift`` with
  ``DriftPlan(drift_min_rows=20, 60 s)`` against the candidate's drift reference (the trainer's
  ``build_reference_sample``); absent (None) until 20 thinned rows, as the monitor removes the
  series. Exported as max PSI and min KS p-value over the features.
* ``errorRate`` 0 and ``latencyP95`` 5 ms while the candidate served requests in the analysis
  window (NaN, i.e. inconclusive, otherwise): the simulation has no errors and no latency.

The values go to the operator's ``assess_checks`` with the analysis step's thresholds; its
verdicts are the ``Measurement`` the canary machine reads. Drift reports are memoised per
(reference, pass, rows the candidate served) so candidates sharing a traffic history and a
reference (every broken transform of the stable) compute each one once.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

import numpy as np

from gatesim.markets import Market
from gatesim.traffic import CANDIDATE, MONITOR_INTERVAL_S, STABLE, IntArray, PairedLog
from levibot_common.features import FEATURES
from levibot_operator.core.canary.analysis import Query, assess_checks
from levibot_operator.core.canary.decision import Measurement
from levibot_operator.core.canary.spec import AnalysisSpec, parse_duration
from levibot_predictor.core.calibration import CalibrationReport, assess_calibration
from levibot_predictor.core.drift import DriftReport, ScipyDriftDetector
from levibot_predictor.core.window import DriftPlan, DriftReference, RowWindow, assess_drift
from levibot_predictor.io.outcomes import WINDOW_SCAN_FACTOR

OUTCOME_WINDOW = 1000
DRIFT_PLAN = DriftPlan(20, 60.0)
DRIFT_CAPACITY, DRIFT_SECONDS = 10_000, 1800.0
LATENCY_S = 0.005
DETECTOR = ScipyDriftDetector()
DriftCache = dict[tuple[int, float, bytes], DriftReport | None]


def assess_track_calibration(log: PairedLog, track: int, at: float) -> CalibrationReport:
    """The monitor's calibration window of one track's version at pass time ``at``."""
    resolved = int(np.searchsorted(log.resolved_at, at, side="right"))
    rows = np.flatnonzero(log.track[:resolved] == track)[-OUTCOME_WINDOW * WINDOW_SCAN_FACTOR :]
    chosen = np.sort(select_first_rows(log, rows))[::-1][:OUTCOME_WINDOW]
    p = log.p_candidate if track == CANDIDATE else log.p_stable
    return assess_calibration(p[chosen], log.outcome[chosen])


def select_first_rows(log: PairedLog, rows: IntArray) -> IntArray:
    """The earliest of ``rows`` per (symbol, feature second): ``DISTINCT ON`` without a sort
    (rows are oldest first, so per symbol the feature second never decreases)."""
    firsts = []
    for symbol in range(int(log.symbol[rows].max()) + 1 if rows.size else 0):
        mine = rows[log.symbol[rows] == symbol]
        seconds = log.row[mine]
        firsts.append(mine[np.concatenate([[True], seconds[1:] != seconds[:-1]])])
    return np.concatenate(firsts) if firsts else rows


def plan_pass_time(now: float, phase: float) -> float:
    """The latest monitor pass at or before ``now``."""
    return phase + math.floor((now - phase) / MONITOR_INTERVAL_S) * MONITOR_INTERVAL_S


class TodayGate:
    """Today's analysis of one canary: a ``Gate`` (see ``canary``) over its paired log."""

    def __init__(self, market: Market, reference: np.ndarray, phase: float,
                 cache: DriftCache) -> None:  # fmt: skip
        self._market = market
        self._reference = DriftReference(FEATURES, reference)
        self._phase = phase
        self._cache = cache
        self._window = RowWindow(DRIFT_CAPACITY, len(FEATURES), DRIFT_SECONDS)
        self._added = 0

    def __call__(self, log: PairedLog, now: float, analysis: AnalysisSpec,
                 status: object = None) -> Measurement:  # fmt: skip
        """The measurement the operator would take at ``now`` (``status`` is not used)."""
        at = plan_pass_time(now, self._phase)
        values = self._calibration_values(log, at) | self._drift_values(log, at)
        values |= self.serving_values(log, now, parse_duration(analysis.window, "window"))
        return Measurement(verdicts=assess_checks(values, analysis.thresholds))

    def _calibration_values(self, log: PairedLog, at: float) -> dict[Query, float | None]:
        candidate = assess_track_calibration(log, CANDIDATE, at)
        stable = assess_track_calibration(log, STABLE, at)
        return {
            Query.SAMPLES: float(candidate.count),
            Query.ECE: candidate.ece if candidate.count else None,
            Query.STABLE_ECE: stable.ece if stable.count else None,
        }

    def _drift_values(self, log: PairedLog, at: float) -> dict[Query, float | None]:
        served = log.count_until(at)
        self._feed_window(log, served)
        mask = np.packbits(log.track[:served] == CANDIDATE).tobytes()
        key = (id(self._reference.rows), at, hashlib.blake2b(mask, digest_size=16).digest())
        if key not in self._cache:
            sample = self._window.select(at)
            self._cache[key] = assess_drift(DETECTOR, self._reference, sample, DRIFT_PLAN)
        report = self._cache[key]
        if report is None:
            return {Query.PSI: None, Query.KS_PVALUE: None}
        return {Query.PSI: max(report.psi), Query.KS_PVALUE: min(report.ks_pvalue)}

    def _feed_window(self, log: PairedLog, served: int) -> None:
        """Add the candidate's new feature rows (the window keeps one per symbol-second)."""
        part = slice(self._added, served)
        mine = np.flatnonzero(log.track[part] == CANDIDATE) + self._added
        _, first = np.unique(log.symbol[mine] * (1 << 40) + log.row[mine], return_index=True)
        mine = mine[np.sort(first)]  # add_symbol would reject the repeats one call at a time
        for i, row in zip(log.symbol[mine], log.row[mine], strict=True):
            features = self._market.series[i].features[row : row + 1].astype(np.float32)
            self._window.add_symbol(self._market.symbols[i], int(row), features)
        self._added = max(self._added, served)

    @staticmethod
    def serving_values(log: PairedLog, now: float, window: timedelta) -> dict[Query, float | None]:
        start = int(np.searchsorted(log.ts, now - window.total_seconds(), side="left"))
        served = bool((log.track[start : log.count_until(now)] == CANDIDATE).any())
        rate, latency = (0.0, LATENCY_S) if served else (math.nan, math.nan)
        return {Query.ERROR_RATE: rate, Query.LATENCY_P95: latency}

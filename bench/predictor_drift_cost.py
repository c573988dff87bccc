"""The predictor's drift check: CPU per production window (runnable script, not product code).

What one drift evaluation costs the predictor (``levibot_predictor.core.window.assess_drift``,
every ``intervalSeconds``) on a production window: 1,800 s of two symbols (3,600 rows, one per
symbol and second), the six features, against a 2,000-row reference, thinned to 60 s for KS.
Side by side in the same run, on the same window:

* ``psi + ks``: PSI over every row and KS over the thinned rows only (the check before the tail
  shares; the baseline);
* ``+ tail``: and the pooled tail share (the check before the per-symbol share);
* ``now``: ``assess_drift`` as the predictor runs it: PSI, KS, the pooled and the per-symbol
  tail shares.

Prints the median CPU time per evaluation over ``--repeats`` rounds, the three interleaved
(process time).
Run: ``.venv/bin/python bench/predictor_drift_cost.py [--repeats 300]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from levibot_common.drift import assess_ks_pvalue, assess_psi, assess_tail_share
from levibot_common.features import FEATURES, feature_matrix
from levibot_common.seed.generator import SeedSpec, build_rng, build_trend
from levibot_predictor.core.drift import ScipyDriftDetector
from levibot_predictor.core.window import DriftPlan, DriftReference, WindowSample, assess_drift

WINDOW_S, SYMBOLS, THIN_S = 1800, 2, 60.0


def build_window() -> tuple[DriftReference, WindowSample]:
    """A seed-market reference (2,000 rows of 6 h) and a production window of two symbols."""
    parts = []
    for k in range(SYMBOLS):
        spec = SeedSpec(f"S{k}", 0.0, 6 * 3600 + WINDOW_S + 400, 7 + k)
        rng = build_rng(spec)
        steps = spec.base_vol * (spec.signal * build_trend(rng, spec.seconds)
                                 + rng.standard_normal(spec.seconds))  # fmt: skip
        parts.append(feature_matrix(100.0 * np.exp(np.cumsum(steps)), FEATURES))
    history = np.concatenate([p[400 : 6 * 3600] for p in parts])
    reference = history[np.random.default_rng(1).choice(history.shape[0], 2000, replace=False)]
    rows = np.stack([p[-WINDOW_S:] for p in parts], axis=1).reshape(-1, len(FEATURES))
    times = np.repeat(np.arange(WINDOW_S, dtype=np.float64), SYMBOLS)
    groups = np.tile(np.arange(1, SYMBOLS + 1, dtype=np.int32), WINDOW_S)
    return DriftReference(FEATURES, reference), WindowSample(rows, times, groups)


def measure(steps: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median CPU seconds of one call of each step, the steps interleaved round by round (so
    caches, clock and other load weigh on all of them alike)."""
    spent: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            began = time.process_time()
            step()
            spent[name].append(time.process_time() - began)
    return {name: statistics.median(times) for name, times in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    reference, sample = build_window()
    plan = DriftPlan(20, THIN_S)
    thinned = sample.rows[sample.times % THIN_S == 0]
    ref = reference.rows

    def psi_ks() -> None:
        for i in range(len(FEATURES)):
            assess_psi(ref[:, i], sample.rows[:, i])
            assess_ks_pvalue(ref[:, i], thinned[:, i])

    def with_tail() -> None:
        psi_ks()
        for i in range(len(FEATURES)):
            assess_tail_share(ref[:, i], sample.rows[:, i])

    def now() -> None:
        assess_drift(ScipyDriftDetector(), reference, sample, plan)

    print(f"drift check of a production window ({sample.rows.shape[0]} rows, {len(FEATURES)} "
          f"features, {SYMBOLS} symbols), median CPU over {args.repeats} evaluations:")  # fmt: skip
    steps = {"psi + ks (baseline)": psi_ks, "+ tail": with_tail, "now": now}
    for name, seconds in measure(steps, args.repeats).items():
        print(f"  {name:<20} {seconds * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()

"""Drift thresholds for the demo's time scale: healthy PSI vs injected drift (runnable script).

The demo (make demo, tests/e2e) watches drift over minutes, not half-hours
(examples/demo/modeldeployment.yaml: a 150-s window of the one-minute features, rows thinned to
5 s for KS). Short windows of autocorrelated features are noisy, so the demo's alert threshold
(hack/local-values.yaml, psiCritical) must be chosen from measurements: this script simulates
the seed generator's market without volatility regimes (as the demo's), feeds the predictor's
own window and detector, and prints, for 2 and for 4 symbols side by side, the worst feature's
PSI (median and max over seeds) while healthy, and after a drift (volatility x3, momentum
reversed) injected 4 minutes into the live period. It also prints the KS p-values, which on such
windows are far below 0.05 even when healthy: why the demo's KS alert is off.

Run: ``.venv/bin/python bench/predictor_drift_demo.py [seeds]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.predictor_drift as market_model
from levibot_common.features import FEATURES
from levibot_predictor.core.drift import ScipyDriftDetector
from levibot_predictor.core.window import (
    DriftPlan,
    DriftReference,
    RowWindow,
    assess_drift,
)

DEMO_FEATURES = ("ret_1m", "vol_1m", "rsi_14", "zscore_60")
WINDOW_SECONDS, THIN_SECONDS, MIN_ROWS = 150.0, 5.0, 40
HEALTHY_AT = (300, 600, 900, 1200, 1500, 1800, 2000)  # seconds into the live period
DRIFT_AT = market_model.DRIFT_AT
AFTER_DRIFT = (60, 120, 180, 240)
SYMBOL_SETS = (("BTCUSDT", "ETHUSDT"), ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"))
DETECTOR = ScipyDriftDetector()
COLUMNS = [FEATURES.index(f) for f in DEMO_FEATURES]


def assess_at(
    market: market_model.Market, symbols: tuple[str, ...], end: int
) -> NDArray[np.float64]:
    """[worst PSI, smallest KS p] of the demo window ending ``end`` s into the live period."""
    window = RowWindow(10_000, len(DEMO_FEATURES), WINDOW_SECONDS)
    for second in range(max(0, end - int(WINDOW_SECONDS) - 2), end):
        for symbol in symbols:
            row = market.live[symbol][second : second + 1, COLUMNS].astype(np.float32)
            window.add_symbol(symbol, market_model.HISTORY + second, row)
    sample = window.select(float(market_model.HISTORY + end))
    reference = DriftReference(DEMO_FEATURES, market.reference_new[:, COLUMNS])
    report = assess_drift(DETECTOR, reference, sample, DriftPlan(MIN_ROWS, THIN_SECONDS))
    assert report is not None, "the window holds fewer rows than the plan needs"
    return np.array([max(report.psi), min(report.ks_pvalue)])


def summarize(values: list[NDArray[np.float64]]) -> str:
    scores = np.array(values)
    return (
        f"PSI median {np.median(scores[:, 0]):5.2f} max {scores[:, 0].max():5.2f}"
        f" min {scores[:, 0].min():5.2f} | KS p median {np.median(scores[:, 1]):8.1e}"
    )


def run(seeds: int) -> None:
    for symbols in SYMBOL_SETS:
        market_model.SYMBOLS = symbols  # build_market reads the module's symbols
        healthy = [market_model.build_market(s, drift=False, regimes=False) for s in range(seeds)]
        drifted = [market_model.build_market(s, drift=True, regimes=False) for s in range(seeds)]
        print(f"\n{len(symbols)} symbols, {WINDOW_SECONDS:.0f}-s window, {seeds} seeds")
        rows = [assess_at(m, symbols, t) for m in healthy for t in HEALTHY_AT]
        print(f"  healthy ({len(HEALTHY_AT)} instants) {summarize(rows)}")
        for after in AFTER_DRIFT:
            rows = [assess_at(m, symbols, DRIFT_AT + after) for m in drifted]
            print(f"  drift +{after:3d}s            {summarize(rows)}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10)

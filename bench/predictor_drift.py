"""Drift monitor benchmark: healthy quiet, drift loud? (runnable script, not product code).

Simulates what the lead measured on the local stack, offline and repeatable: the seed
generator's market (GBM with volatility regimes and momentum, the live feed's model) for two
symbols, 6 h of history to train on, then a live period served at 50 req/s over both symbols.
Side by side, per checkpoint (minutes of live market), over several seeds:

* ``baseline``: the old monitor — last 1,000 *served rows* (each second's features repeated once
  per request) against 2,000 random training rows; PSI and KS on the same rows;
* ``new``: the deduplicated, time-bounded window against the thinned 6-h reference; PSI
  over every deduplicated row, KS over rows thinned to one per minute per symbol (five minutes
  for ret_5m / vol_5m);
* ``psi_thin``: the same but PSI over the thinned rows too (the alternative we measured).

Reported: the median over seeds of the worst feature (max PSI, min KS p) and the share of
(seed, feature) tests that would alarm (PSI > 0.25, KS p < 0.05), healthy and after a drift
(volatility x3, momentum flipped) injected 4 minutes into the live period.

Run: ``.venv/bin/python bench/predictor_drift.py [seeds]``
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from levibot_common.features import FEATURES, feature_matrix
from levibot_common.seed.generator import SeedSpec, build_log_path, build_rng
from levibot_predictor.core.drift import ScipyDriftDetector, assess_psi, plan_thinning
from levibot_predictor.core.window import DriftPlan, DriftReference, RowWindow, assess_drift
from levibot_trainer.core.dataset import (
    build_reference_sample,
    build_rows,
    build_symbol_rows,
    plan_split,
)

SYMBOLS = ("BTCUSDT", "ETHUSDT")
HISTORY = 6 * 3600
LIVE = 34 * 60
DRIFT_AT = 4 * 60  # seconds into the live period
HEALTHY_MINUTES = (1, 2, 4, 10, 20, 30)
DRIFT_MINUTES = (6, 9, 14, 24)  # live minutes: 2, 5, 10, 20 minutes after the drift
REQUESTS_PER_SECOND_PER_SYMBOL = 25
PSI_ALERT, KS_ALERT = 0.25, 0.05
DETECTOR = ScipyDriftDetector()


@dataclass(frozen=True)
class Market:
    """Features per second of each symbol (history then live) and the reference samples."""

    live: dict[str, NDArray[np.float64]]
    reference_new: NDArray[np.float64]
    reference_old: NDArray[np.float64]


def build_market(seed: int, drift: bool, regimes: bool) -> Market:
    """One simulated market: features of every second, both references. Without ``regimes``
    the volatility level mostly stays (regimes of ~67 h on average); with them, as the live
    feed, regimes last 30 min on average, so a 30-min window of vol_1m / vol_5m is about one
    regime, never the reference's mix of them."""
    live: dict[str, NDArray[np.float64]] = {}
    parts = []
    for symbol in SYMBOLS:
        spec = SeedSpec(symbol, 0.0, HISTORY + LIVE, seed,
                        regime_seconds=1800.0 if regimes else 10.0 * (HISTORY + LIVE),
                        drift_from_epoch=HISTORY + DRIFT_AT if drift else None)  # fmt: skip
        path, _ = build_log_path(spec, build_rng(spec))
        features = feature_matrix(np.exp(path[1:]), FEATURES)
        live[symbol] = features[HISTORY:]
        closes = np.exp(path[1 : HISTORY + 1])
        parts.append(build_symbol_rows(np.arange(HISTORY, dtype=np.int64), closes, FEATURES, 60))
    rows = build_rows(parts, len(FEATURES))
    split = plan_split(rows.t, 0.2, 60)
    rng = np.random.default_rng(seed)
    train = rows.x[split.train]
    old = train[np.sort(rng.choice(train.shape[0], size=2000, replace=False))]
    return Market(live, build_reference_sample(rows, 2000), old)


Scores = tuple[tuple[float, ...], tuple[float, ...]]  # per-feature PSI, per-feature KS p
VOL = (2, 3)  # vol_1m, vol_5m
OTHER = (0, 1, 4, 5)


def assess_baseline(market: Market, minute: int) -> Scores:
    """Old monitor: the last 1,000 served rows (20 s of market at 50 req/s)."""
    end = minute * 60
    served = [np.repeat(market.live[s][end - 20 : end], REQUESTS_PER_SECOND_PER_SYMBOL, axis=0)
              for s in SYMBOLS]  # fmt: skip
    report = DETECTOR.assess(FEATURES, market.reference_old, np.concatenate(served))
    return report.psi, report.ks_pvalue


def assess_new(market: Market, minute: int, psi_thinned: bool) -> tuple[Scores, int]:
    """New monitor: deduplicated window, thinned KS (and, optionally, thinned PSI)."""
    window = RowWindow(10_000, len(FEATURES), 1800.0)
    end = minute * 60
    for second in range(max(0, end - 1800), end):
        for symbol in SYMBOLS:
            row = market.live[symbol][second : second + 1].astype(np.float32)
            for _ in range(3):  # repeated requests in the same second change nothing
                window.add_symbol(symbol, HISTORY + second, row)
    sample = window.select(float(HISTORY + end))
    thinned = sample.rows[plan_thinning(sample.times, sample.groups, 60.0)]
    reference = DriftReference(FEATURES, market.reference_new)
    report = assess_drift(DETECTOR, reference, sample, DriftPlan(1, 60.0))
    assert report is not None
    psi = report.psi
    if psi_thinned:
        psi = tuple(assess_psi(market.reference_new[:, i], thinned[:, i]) for i in range(6))
    return (psi, report.ks_pvalue), thinned.shape[0]


def summarize(values: list[Scores], columns: tuple[int, ...]) -> str:
    """Over seeds: median of the worst feature among ``columns`` (max PSI, min KS p) and the
    share of (seed, feature) tests alarming (PSI > 0.25, KS p < 0.05)."""
    psi = np.array([[v[0][i] for i in columns] for v in values])
    ks = np.array([[v[1][i] for i in columns] for v in values])
    return (f"PSI {np.median(psi.max(axis=1)):6.2f} ({np.mean(psi > PSI_ALERT):4.0%})  "
            f"KS {np.median(ks.min(axis=1)):8.2g} ({np.mean(ks < KS_ALERT):4.0%})")  # fmt: skip


def run(seeds: int) -> None:
    """Print the side-by-side table."""
    for regimes in (False, True):
        for drift, minutes in ((False, HEALTHY_MINUTES), (True, DRIFT_MINUTES)):
            markets = [build_market(seed, drift, regimes) for seed in range(seeds)]
            print(f"\n{'DRIFT at live minute 4' if drift else 'HEALTHY'}, volatility regimes "
                  f"{'on' if regimes else 'off'}, {seeds} seeds. Median worst feature (share "
                  "of feature tests alarming)\n                        ret_1m ret_5m rsi_14 "
                  "zscore_60                       vol_1m vol_5m")  # fmt: skip
            for minute in minutes:
                rows = {"baseline": [assess_baseline(m, minute) for m in markets]}
                new = [assess_new(m, minute, psi_thinned=False) for m in markets]
                rows["new"] = [v for v, _ in new]
                rows["psi_thin"] = [v for v, _ in (assess_new(m, minute, True) for m in markets)]
                print(f" live minute {minute:2d} (thinned rows {new[0][1]:3d})")
                for name, values in rows.items():
                    print(f"   {name:9s} {summarize(values, OTHER)} | {summarize(values, VOL)}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 12)

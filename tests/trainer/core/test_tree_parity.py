"""Tree models register on real price scales: histGradientBoosting keeps ONNX parity <= 1e-5 on
FX-scale (1.08, 1e-5 pips) and crypto-scale (60,000, 0.01 and 5.0 ticks) prices, through the
trainer's own stages (rows → split → fit → export → parity). Issue 12, item 7: parity was
|dp| up to 0.13 here, because float32 inputs merged feature values that a tree had split apart.
"""

from __future__ import annotations

import numpy as np
import pytest

from levibot_trainer.core.model import build_served_features
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.pipeline import (
    build_training_rows,
    export_and_check,
    fit_and_assess,
    plan_checked_split,
)
from levibot_trainer.settings import TrainerSettings

SECONDS = 12_000
START = 1_700_000_000


def build_walk(level: float, tick: float, seed: int) -> SymbolCloses:
    """A 1-second random walk on a tick grid (prices move by -1, 0 or +1 tick)."""
    steps = np.random.default_rng(seed).choice([-tick, 0.0, tick], size=SECONDS)
    closes = np.round((level + np.cumsum(steps)) / tick) * tick
    return SymbolCloses(f"S{seed}", np.arange(START, START + SECONDS, dtype=np.int64), closes)


@pytest.mark.parametrize(
    ("level", "tick", "calibration"),
    [(1.08, 1e-5, "none"), (1.08, 1e-5, "sigmoid"), (60_000.0, 0.01, "none"),
     (60_000.0, 5.0, "none")],
    ids=["fx", "fx-sigmoid", "crypto-cent", "crypto-5"],
)  # fmt: skip
def test_hist_gradient_boosting_keeps_parity_on_real_price_scales(
    level: float, tick: float, calibration: str
) -> None:
    settings = TrainerSettings(
        dsn="postgresql://unused", model_name="ns.m", version="v1", symbols=["S0", "S1"],
        model_type="histGradientBoosting", calibration=calibration, data_window_seconds=SECONDS,
    )  # fmt: skip
    rows = build_training_rows([build_walk(level, tick, 0), build_walk(level, tick, 1)], settings)
    split = plan_checked_split(rows, settings)
    fitted = fit_and_assess(rows, split, settings)
    _, parity = export_and_check(fitted, settings)
    assert parity.max_abs_diff <= 1e-5
    assert parity.rows == int(split.test.sum())


def test_served_features_are_the_float32_values_the_predictor_feeds() -> None:
    x = np.array([[1.0 + 1e-12, 9.259259259259e-6, 57.142857142857]])
    served = build_served_features(x)
    assert served.dtype == np.float64
    np.testing.assert_array_equal(served, x.astype(np.float32))
    np.testing.assert_array_equal(build_served_features(served), served)

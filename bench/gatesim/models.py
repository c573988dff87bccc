"""Models by the trainer's recipe, scored like the predictor, and the candidate kinds.

Benchmark helper. Training goes through the trainer's own functions (``build_training_rows``,
``plan_checked_split``, ``fit_and_assess``, ``export_and_check``, ``build_reference``:
features from ``levibot_common.features``, the time split, the estimator and its calibration
from ``TrainerSettings``, the ONNX export with its parity check). Scoring goes through the
predictor's ``ModelRuntime`` (onnxruntime, float32 rows): every second of the live period of
every symbol is scored once per model (batch), and requests look their p_up up by second.

Versions (``TrainPlan`` per market): ``stable`` is trained on a ``train`` window ending
``shift`` before the live period; ``retrained`` by the same recipe on the window shifted by
``shift`` (ending at the live period); ``better`` by the same recipe on ``better`` seconds (more
data) ending at the live period. The seed market uses the production example's recipe window
(``examples/modeldeployment.yaml``: ``dataWindowSeconds`` 7 days) and a nightly retrain (shift
1 day): the retraining-noise envelope, and so what stage 1 can tell apart, scales with the
window (measured: 2 x max pairwise RMS 0.04-0.08 on 24 h, 0.08-0.55 on 3 h). EURUSD replays 60 s
per hourly bar and holds only ~41 h per symbol stretch: 6 h windows, shifted 1 h.
The stable's envelope is the trainer's own ``measure_fitted_envelope`` (K = 8 retrains on
shifted windows of its training rows, scored on its test rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gatesim.markets import FloatArray, Market
from levibot_common.features import FEATURES
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_trainer.core.trading_noise import RetrainNoise
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.pipeline import (
    build_reference,
    build_training_rows,
    export_and_check,
    fit_and_assess,
    measure_fitted_envelope,
    measure_fitted_retrain_noise,
    plan_checked_split,
    predict_fitted_retrains,
)
from levibot_trainer.settings import TrainerSettings

DAY = 86_400
HEALTHY = ("same", "retrained")
BROKEN = ("shift_0.05", "shift_0.10", "toward_0.95", "random", "constant", "inverted")
KINDS = (*HEALTHY, *BROKEN, "better")


@dataclass(frozen=True)
class TrainPlan:
    """Seconds of the recipe's window, of the retrain's shift, and of the better version's."""

    train: int
    shift: int
    better: int

    @property
    def history(self) -> int:
        """Seconds of market before the live period."""
        return max(self.better, self.train + self.shift)


PLANS = {"seed": TrainPlan(7 * DAY, DAY, 14 * DAY), "eurusd": TrainPlan(6 * 3600, 3600, 12 * 3600)}


@dataclass(frozen=True)
class Version:
    """A trained version: per-symbol p_up of every market second, its drift reference and
    (stable only) its retraining-noise envelope."""

    p_up: tuple[FloatArray, ...]
    reference: FloatArray
    envelope_rms: float | None = None
    trading_noise: RetrainNoise | None = None  # (stable only) the retrains' paired trading noise


def build_settings(version: str, symbols: tuple[str, ...]) -> TrainerSettings:
    """The trainer's settings with its defaults (logistic regression, no calibration)."""
    return TrainerSettings(
        dsn="postgresql://bench", model_name="bench.gates", version=version, symbols=list(symbols)
    )


def train_version(market: Market, start: int, stop: int, name: str,
                  envelope: bool = False) -> Version:  # fmt: skip
    """Train on seconds ``[start, stop)`` by the trainer's recipe; score every second; with
    ``envelope``, also the trainer's retraining-noise envelope and paired trading noise (one
    set of K retrains, as the trainer's pipeline)."""
    settings = build_settings(name, market.symbols)
    parts = [
        SymbolCloses(sym, np.arange(start, stop, dtype=np.int64), s.closes[start:stop])
        for sym, s in zip(market.symbols, market.series, strict=True)
    ]
    rows = build_training_rows(parts, settings)
    split = plan_checked_split(rows, settings)
    fitted = fit_and_assess(rows, split, settings)
    onnx, _ = export_and_check(fitted, settings)
    info = ModelInfo(settings.model_name, name, FEATURES, "", settings.horizon_seconds)
    runtime = ModelRuntime(onnx, info)
    reference = build_reference(rows, split, settings).rows
    p_up = tuple(score_rows(runtime, s.features) for s in market.series)
    if not envelope:
        return Version(p_up, reference)
    retrains = predict_fitted_retrains(rows, split, fitted, settings)
    rms = measure_fitted_envelope(rows, split, fitted, settings, retrains).rms
    noise = measure_fitted_retrain_noise(rows, split, fitted, settings, retrains)
    return Version(p_up, reference, rms, noise)


def score_rows(runtime: ModelRuntime, features: FloatArray) -> FloatArray:
    """p_up of every row (NaN where the feature window is incomplete), one batch."""
    complete = ~np.isnan(features).any(axis=1)
    p = np.full(features.shape[0], np.nan)
    p[complete] = runtime.predict_p_up(features[complete].astype(np.float32))
    return p


@dataclass(frozen=True)
class Versions:
    """The three trained versions of one market."""

    stable: Version
    retrained: Version
    better: Version


def train_versions(market: Market, live_start: int, plan: TrainPlan) -> Versions:
    """stable (with its envelope), retrained (window shifted by ``plan.shift``) and better."""
    end = live_start
    return Versions(
        stable=train_version(market, end - plan.shift - plan.train, end - plan.shift, "v1",
                             envelope=True),
        retrained=train_version(market, end - plan.train, end, "v2"),
        better=train_version(market, end - plan.better, end, "v3"),
    )  # fmt: skip


Transform = Callable[[FloatArray, np.random.Generator], FloatArray]
TRANSFORMS: dict[str, Transform] = {
    "same": lambda p, _: p,
    "shift_0.05": lambda p, _: np.clip(p + 0.05, 0.0, 1.0),
    "shift_0.10": lambda p, _: np.clip(p + 0.10, 0.0, 1.0),
    "toward_0.95": lambda p, _: p + 0.5 * (0.95 - p),
    "random": lambda p, rng: np.where(np.isnan(p), np.nan, rng.random(p.shape[0])),
    "constant": lambda p, _: np.where(np.isnan(p), np.nan, 0.5),
    "inverted": lambda p, _: 1.0 - p,
}


def build_candidate(versions: Versions, kind: str, seed: int) -> Version:
    """The candidate of ``kind``: a trained version, or a broken transform of the stable's
    p_up (same features, so the stable's drift reference). ``random`` is uniform per feature
    row (a deterministic but useless model), not per request."""
    if kind == "retrained":
        return versions.retrained
    if kind == "better":
        return versions.better
    rng = np.random.default_rng([seed, 11])
    stable = versions.stable
    return Version(tuple(TRANSFORMS[kind](p, rng) for p in stable.p_up), stable.reference)

"""Models by the trainer's recipe, scored like the predictor, and the candidate kinds.

Benchmark helper. Training goes through the trainer's own functions (``build_training_rows``,
``plan_checked_split``, ``fit_and_assess``, ``export_and_check``, ``build_reference``:
features from ``levibot_common.features``, the time split, the estimator and its calibration
from ``TrainerSettings``, the ONNX export with its parity check). Scoring goes through the
predictor's ``ModelRuntime`` (onnxruntime, float32 rows): every second of the live period of
every symbol is scored once per model (batch), and requests look their p_up up by second.

Versions: ``stable`` is trained on a ``TRAIN_SECONDS`` window ending ``SHIFT_SECONDS`` before
the live period; ``retrained`` by the same recipe on the window shifted by ``SHIFT_SECONDS``
(ending at the live period); ``better`` by the same recipe on ``BETTER_SECONDS`` (more data)
ending at the live period. The trainer's default window is 24 h; 3 h keeps the benchmark fast
(21,600 rows over two symbols, well above ``min_train_rows``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gatesim.markets import FloatArray, Market
from levibot_common.features import FEATURES
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.pipeline import (
    build_reference,
    build_training_rows,
    export_and_check,
    fit_and_assess,
    plan_checked_split,
)
from levibot_trainer.settings import TrainerSettings

TRAIN_SECONDS = 3 * 3600
SHIFT_SECONDS = 3600
BETTER_SECONDS = 12 * 3600
HISTORY_SECONDS = BETTER_SECONDS
HEALTHY = ("same", "retrained")
BROKEN = ("shift_0.05", "shift_0.10", "toward_0.95", "random", "constant", "inverted")
KINDS = (*HEALTHY, *BROKEN, "better")


@dataclass(frozen=True)
class Version:
    """A trained version: per-symbol p_up of every market second, and its drift reference."""

    p_up: tuple[FloatArray, ...]
    reference: FloatArray


def build_settings(version: str, symbols: tuple[str, ...]) -> TrainerSettings:
    """The trainer's settings with its defaults (logistic regression, no calibration)."""
    return TrainerSettings(
        dsn="postgresql://bench", model_name="bench.gates", version=version, symbols=list(symbols)
    )


def train_version(market: Market, start: int, stop: int, name: str) -> Version:
    """Train on seconds ``[start, stop)`` by the trainer's recipe; score every second."""
    settings = build_settings(name, market.symbols)
    parts = [
        SymbolCloses(sym, np.arange(start, stop, dtype=np.int64), s.closes[start:stop])
        for sym, s in zip(market.symbols, market.series, strict=True)
    ]
    rows = build_training_rows(parts, settings)
    split = plan_checked_split(rows, settings)
    onnx, _ = export_and_check(fit_and_assess(rows, split, settings), settings)
    info = ModelInfo(settings.model_name, name, FEATURES, "", settings.horizon_seconds)
    runtime = ModelRuntime(onnx, info)
    reference = build_reference(rows, split, settings).rows
    return Version(tuple(score_rows(runtime, s.features) for s in market.series), reference)


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


def train_versions(market: Market, live_start: int) -> Versions:
    """stable, retrained (window shifted by ``SHIFT_SECONDS``) and better (more data)."""
    end = live_start
    return Versions(
        stable=train_version(market, end - SHIFT_SECONDS - TRAIN_SECONDS, end - SHIFT_SECONDS,
                             "v1"),
        retrained=train_version(market, end - TRAIN_SECONDS, end, "v2"),
        better=train_version(market, end - BETTER_SECONDS, end, "v3"),
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

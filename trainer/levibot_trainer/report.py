"""Registry metadata, metrics and the Job's result document (trainer run layer, pure).

The result document is what the operator reads from the termination log (kept well under its
4 KiB limit): ``status`` ok/error, ``exitCode``, ``reason``, ``message``, the registry key, and on
success the sha256, headline metrics, row counts and stage timings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata as importlib_metadata
from typing import Any

from levibot_common.stats.agreement import SAFETY_FACTOR, Envelope
from levibot_trainer.core.backtest import Backtest, describe_backtest, summarize_backtest_line
from levibot_trainer.core.dataset import Rows, Split
from levibot_trainer.core.drift_calibration import Calibration
from levibot_trainer.core.envelope import WINDOW_SHARE
from levibot_trainer.core.export import INPUT_NAME, PROBABILITY_OUTPUT, TARGET_OPSET, ParityReport
from levibot_trainer.core.metrics import ECE_BINS, Scores
from levibot_trainer.errors import EXIT_OK, TrainerError
from levibot_trainer.settings import TrainerSettings

LABEL_DEFINITION = "y = 1 when close[t + horizon] > close[t], else 0 (1-second closes)"


@dataclass(frozen=True)
class TrainingFacts:
    """What a finished training run established, for metadata and the result."""

    start: datetime
    end: datetime
    rows: Rows
    split: Split
    base_rate: float
    model: Scores
    baseline: Scores
    parity: ParityReport
    envelope: Envelope
    backtest: Backtest | None = None  # paper trading on the test split (issue 15)
    drift: Calibration | None = None  # drift thresholds (issue 14); absent when incomplete


def build_code_version() -> dict[str, str]:
    """Versions of the code that produced a model."""
    names = ("levibot", "scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy")
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def build_counts(facts: TrainingFacts) -> dict[str, int]:
    """Row counts: used, split and dropped (with why)."""
    return {
        "rows": facts.rows.size,
        "train_rows": int(facts.split.train.sum()),
        "test_rows": int(facts.split.test.sum()),
        "gap_rows": facts.rows.size - int(facts.split.train.sum() + facts.split.test.sum()),
        "dropped_incomplete_window": facts.rows.dropped_incomplete,
        "dropped_no_label": facts.rows.dropped_unlabelled,
    }


def build_metrics(facts: TrainingFacts) -> dict[str, Any]:
    """The registry's ``metrics`` document: the model's held-out scores at the top level."""
    return {
        **facts.model.as_dict(),
        "baseline": facts.baseline.as_dict(),
        "ece_bins": ECE_BINS,
        "test_rows": int(facts.split.test.sum()),
        "base_rate": facts.base_rate,
        "envelope_rms": facts.envelope.rms,
        "envelope_retrains": facts.envelope.k,
        "envelope_max_pairwise_rms": facts.envelope.max_pairwise_rms,
        "envelope_median_pairwise_rms": facts.envelope.median_pairwise_rms,
        **({"backtest": describe_backtest(facts.backtest)} if facts.backtest else {}),
        **build_drift_thresholds(facts.drift),
    }


def build_drift_thresholds(drift: Calibration | None) -> dict[str, Any]:
    """``drift_thresholds`` for the metrics document when every threshold could be derived
    (else nothing: the predictor then falls back to the fixed thresholds, and says so)."""
    return {"drift_thresholds": drift.as_document()} if drift and drift.complete else {}


def build_metadata(settings: TrainerSettings, facts: TrainingFacts) -> dict[str, Any]:
    """The registry's ``metadata`` document."""
    return {
        "features": list(settings.features),
        "horizon_seconds": settings.horizon_seconds,
        "label": LABEL_DEFINITION,
        "model_type": settings.model_type,
        "hyperparameters": dict(settings.hyperparameters),
        "calibration": settings.calibration,
        "random_seed": settings.random_seed,
        "symbols": list(settings.symbols),
        "data_window": {
            "start": facts.start.isoformat(),
            "end": facts.end.isoformat(),
            "seconds": settings.data_window_seconds,
        },
        "split": {
            "test_fraction": settings.test_fraction,
            "gap_seconds": settings.effective_gap_seconds,
            "train_end_epoch": facts.split.train_end,
            "test_start_epoch": facts.split.test_start,
        },
        "counts": build_counts(facts),
        "metrics": {
            "ece_bins": ECE_BINS,
            "ece_binning": "equal-width over [0, 1]",
            "baseline": "constant training base rate",
        },
        "onnx": {
            "input": INPUT_NAME,
            "input_dtype": "float32",
            "output": PROBABILITY_OUTPUT,
            "opset": TARGET_OPSET,
        },
        "parity": {
            "rows": facts.parity.rows,
            "max_abs_diff": facts.parity.max_abs_diff,
            "tolerance": facts.parity.tolerance,
        },
        "envelope": {
            "method": "retrains of the recipe on shifted windows of the training period, "
            "scored on the test rows; rms = safety_factor x max pairwise RMS of p_up",
            "retrains": facts.envelope.k,
            "window_share": WINDOW_SHARE,
            "safety_factor": SAFETY_FACTOR,
            "rows": facts.envelope.n,
        },
        "code_version": build_code_version(),
    }


def build_success(
    settings: TrainerSettings,
    sha256: str,
    metrics: Mapping[str, Any],
    counts: Mapping[str, int],
    stages: Mapping[str, float],
    *,
    backtest: Backtest | None = None,
) -> dict[str, Any]:
    """Result of a run that registered (or found) the version; with the backtest's headline
    figures (model, always HOLD, buy-and-hold), so the Job's log shows them."""
    return {
        "status": "ok",
        "exitCode": EXIT_OK,
        "reason": "registered",
        "modelName": settings.model_name,
        "version": settings.version,
        "sha256": sha256,
        "metrics": {k: v for k, v in metrics.items() if not isinstance(v, Mapping)},
        "counts": dict(counts),
        "stagesSeconds": {k: round(v, 3) for k, v in stages.items()},
        **({"backtest": summarize_backtest_line(backtest)} if backtest else {}),
    }


def build_existing(settings: TrainerSettings, sha256: str) -> dict[str, Any]:
    """Result of a re-run whose version already exists (nothing trained)."""
    return {
        "status": "ok",
        "exitCode": EXIT_OK,
        "reason": "already_registered",
        "modelName": settings.model_name,
        "version": settings.version,
        "sha256": sha256,
    }


def build_failure(
    error: TrainerError, model_name: str | None, version: str | None
) -> dict[str, Any]:
    """Result of a failed run."""
    return {
        "status": "error",
        "exitCode": error.exit_code,
        "reason": error.reason,
        "message": str(error)[:2000],
        "modelName": model_name,
        "version": version,
    }

"""Model loading (predictor I/O): one version from the registry (sha256-verified) or an ONNX file.

Returns the runtime (not yet warmed up) and the drift reference reordered to the model's
feature columns. Bad metadata is an error that names the field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from levibot_common.features import FEATURES, validate_feature_names
from levibot_common.registry import ModelVersion, fetch_version
from levibot_predictor.core.drift_score import check_monitoring, parse_thresholds
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.window import DriftReference
from levibot_predictor.io.database import Database
from levibot_predictor.settings import PredictorSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    """A runtime and, when the registry has one, its drift reference."""

    runtime: ModelRuntime
    reference: DriftReference | None


def parse_metadata(
    metadata: Mapping[str, Any], default_horizon: int
) -> tuple[tuple[str, ...], int]:
    """Feature names and horizon from registry metadata (``ValueError`` naming the field)."""
    names = metadata.get("features")
    if not isinstance(names, list):
        raise ValueError("metadata.features: expected a list of feature names")
    horizon = metadata.get("horizon_seconds", default_horizon)
    if not isinstance(horizon, int) or horizon <= 0:
        raise ValueError(f"metadata.horizon_seconds: expected a positive integer, got {horizon!r}")
    return validate_feature_names(names), horizon


def build_reference(version: ModelVersion, features: tuple[str, ...]) -> DriftReference | None:
    """The reference sample with columns in the model's order and the version's drift
    thresholds (the fixed fallback when it has none); None if it lacks a feature."""
    ref = version.reference
    if ref is None or not set(features) <= set(ref.features):
        return None
    columns = [ref.features.index(name) for name in features]
    thresholds = parse_thresholds(version.metrics, features)
    rows = np.asarray(ref.rows, dtype=np.float64)[:, columns]
    return DriftReference(features, rows, thresholds)


def check_thresholds(reference: DriftReference | None, settings: PredictorSettings) -> None:
    """Log when drift scores use the fixed fallback, or thresholds calibrated for other
    monitoring windows than these settings' (the scores then mean less than they say)."""
    if reference is None or reference.thresholds is None:
        return
    if not reference.thresholds.calibrated:
        log.warning("drift: version has no calibrated thresholds (registered before "
                    "calibration): scores use the fixed PSI 0.25 / KS p 0.05")  # fmt: skip
        return
    serving = {"window_seconds": settings.drift_window_seconds,
               "thin_seconds": settings.drift_thin_seconds,
               "interval_seconds": settings.monitor_interval_seconds}  # fmt: skip
    if differ := check_monitoring(reference.thresholds, serving):
        log.warning("drift: thresholds calibrated for other windows (%s)", ", ".join(differ))


def fetch_model_from_file(settings: PredictorSettings) -> LoadedModel:
    """Load ``settings.model_path``; features from settings (default: all shared features)."""
    assert settings.model_path is not None
    features = validate_feature_names(settings.model_features or list(FEATURES))
    info = ModelInfo(settings.model_name, settings.version, features, "", settings.horizon_seconds)
    return LoadedModel(ModelRuntime.from_file(settings.model_path, info), None)


async def fetch_model_from_registry(database: Database, settings: PredictorSettings) -> LoadedModel:
    """Load (model_name, version) from the registry; raises registry or database errors."""
    async with database.connection() as conn:
        version = await fetch_version(conn, settings.model_name, settings.version)
    features, horizon = parse_metadata(version.metadata, settings.horizon_seconds)
    info = ModelInfo(version.model_name, version.version, features, version.sha256, horizon)
    reference = build_reference(version, features)
    check_thresholds(reference, settings)
    return LoadedModel(ModelRuntime(version.onnx, info), reference)

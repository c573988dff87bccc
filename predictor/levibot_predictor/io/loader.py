"""Model loading (predictor I/O): one version from the registry (sha256-verified) or an ONNX file.

Returns the runtime (not yet warmed up) and the drift reference reordered to the model's
feature columns. Bad metadata is an error that names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from levibot_common.features import FEATURES, validate_feature_names
from levibot_common.registry import ModelVersion, fetch_version
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.window import DriftReference
from levibot_predictor.io.database import Database
from levibot_predictor.settings import PredictorSettings


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
    """The reference sample with columns in the model's order; None if it lacks a feature."""
    ref = version.reference
    if ref is None or not set(features) <= set(ref.features):
        return None
    columns = [ref.features.index(name) for name in features]
    return DriftReference(features, np.asarray(ref.rows, dtype=np.float64)[:, columns])


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
    return LoadedModel(ModelRuntime(version.onnx, info), build_reference(version, features))

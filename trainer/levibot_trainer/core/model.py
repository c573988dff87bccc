"""Estimators (trainer core): build the scikit-learn model a settings object asks for, and fit it.

logisticRegression is a StandardScaler + LogisticRegression pipeline (features differ by six
orders of magnitude); histGradientBoosting is used as is. Optional calibration wraps either in
CalibratedClassifierCV with a time-series split, so calibration folds never precede their
training folds. Hyperparameters go to the estimator's ``set_params``; unknown ones are a config
error naming the parameter.

The model sees features as the predictor serves them: rounded to float32 (the ONNX input type),
both when fitting and when predicting (``build_served_features``). On FX-scale prices float32
merges feature values that float64 keeps apart (returns ~1e-5 differ in their 8th digit, RSI
values in their 12th), and a tree fitted on float64 puts thresholds between values that collapse
to one float32: onnxruntime then took the other branch, |dp| up to 0.2 (issue 12). Fitted on the
served values, every threshold separates values the predictor can tell apart, so the ONNX model
matches scikit-learn to about 1e-7 with the same float32 input and no cost in the predictor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from levibot_trainer.errors import BadConfigError, InsufficientDataError

CALIBRATION_FOLDS = 3


def build_base_estimator(model_type: str, seed: int) -> tuple[BaseEstimator, str]:
    """The untuned estimator and the prefix its hyperparameters take in ``set_params``."""
    if model_type == "logisticRegression":
        pipeline = Pipeline(
            [("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000))]
        )
        return pipeline, "model__"
    if model_type == "histGradientBoosting":
        return HistGradientBoostingClassifier(random_state=seed), ""
    raise BadConfigError(f"model_type: unknown model type {model_type!r}")


def build_estimator(
    model_type: str, hyperparameters: Mapping[str, Any], calibration: str, seed: int
) -> BaseEstimator:
    """The configured (unfitted) estimator."""
    estimator, prefix = build_base_estimator(model_type, seed)
    for name, value in hyperparameters.items():
        try:
            estimator.set_params(**{f"{prefix}{name}": value})
        except ValueError as exc:
            raise BadConfigError(
                f"hyperparameters.{name}: not a parameter of {model_type}"
            ) from exc
    if calibration == "none":
        return estimator
    if calibration != "sigmoid":
        raise BadConfigError(f"calibration: unknown method {calibration!r}")
    return build_calibrated(estimator, calibration)


def build_calibrated(estimator: BaseEstimator, method: str) -> BaseEstimator:
    """Calibrate the classifier itself; a pipeline keeps its scaler outside the calibration
    (skl2onnx converts a calibrated bare classifier faithfully, not a calibrated pipeline)."""
    splitter = TimeSeriesSplit(CALIBRATION_FOLDS)
    if isinstance(estimator, Pipeline):
        name, classifier = estimator.steps[-1]
        calibrated = CalibratedClassifierCV(classifier, method=method, cv=splitter)
        return Pipeline([*estimator.steps[:-1], (name, calibrated)])
    return CalibratedClassifierCV(estimator, method=method, cv=splitter)


def find_rejected_parameter(message: str, names: Collection[str]) -> str | None:
    """The hyperparameter an estimator's error names: the one it quotes (``The 'C' parameter
    of ...``), else the only one set, else None."""
    quoted = [name for name in names if f"'{name}'" in message]
    if quoted:
        return quoted[0]
    return next(iter(names)) if len(names) == 1 else None


def build_served_features(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """The features as the predictor feeds them to the model: float32 values, held as float64."""
    served: NDArray[np.float64] = x.astype(np.float32).astype(np.float64)
    return served


def fit_estimator(
    estimator: BaseEstimator,
    x: NDArray[np.float64],
    y: NDArray[np.int64],
    hyperparameters: Collection[str] = (),
) -> BaseEstimator:
    """Fit; an invalid hyperparameter value surfaces here and becomes a config error naming
    ``hyperparameters.<key>`` when the estimator's message says which (the operator shows it)."""
    if np.unique(y).size < 2:
        raise InsufficientDataError("labels: the training rows hold a single class")
    try:
        fitted: BaseEstimator = estimator.fit(build_served_features(x), y)
    except (ValueError, TypeError) as exc:
        name = find_rejected_parameter(str(exc), hyperparameters)
        where = f"hyperparameters.{name}" if name else "hyperparameters"
        raise BadConfigError(f"{where}: rejected by the estimator: {exc}") from exc
    return fitted


def predict_up(estimator: BaseEstimator, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(y = 1) per row, from the served (float32) values of the features."""
    proba: NDArray[np.float64] = estimator.predict_proba(build_served_features(x))[:, 1]
    return proba

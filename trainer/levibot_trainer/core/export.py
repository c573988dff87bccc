"""ONNX export and parity (trainer core + onnxruntime): convert, reload, compare probabilities.

The graph takes one float32 input ``features`` of shape (n, len(features)) and outputs
``label`` and ``probabilities`` (n, 2) (skl2onnx, zipmap disabled), which is what the
predictor's runtime feeds and reads. Parity compares scikit-learn's probabilities on the
held-out rows with onnxruntime's on the same rows cast to float32 (what serving does); the model
sees its features' float32 values in both (see ``core.model``), so the maximum absolute
difference, which must not exceed the tolerance (default 1e-5), is float32 arithmetic alone:
about 1e-7 for every supported model type, trees on FX-scale and crypto-scale prices included.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.base import BaseEstimator

from levibot_trainer.errors import ParityError

INPUT_NAME = "features"
PROBABILITY_OUTPUT = "probabilities"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
_BOOL_INTS_WARNING = r"Field onnx\.AttributeProto\.ints: Expected an int, got a boolean"


@dataclass(frozen=True)
class ParityReport:
    """How far onnxruntime is from scikit-learn on the held-out rows."""

    rows: int
    max_abs_diff: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """Within tolerance."""
        return self.max_abs_diff <= self.tolerance


def build_onnx(estimator: BaseEstimator, n_features: int) -> bytes:
    """The fitted estimator as ONNX bytes (float32 input, probability tensor output)."""
    with warnings.catch_warnings():
        # skl2onnx 1.20 passes bools as tree-ensemble ints; protobuf 6 only warns (7 rejects it,
        # hence the pin in pyproject.toml). The values are right; the warning is not ours.
        warnings.filterwarnings("ignore", _BOOL_INTS_WARNING, DeprecationWarning)
        model = convert_sklearn(
            estimator,
            initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
            options={id(estimator): {"zipmap": False}},
            target_opset=TARGET_OPSET,
        )
    for output in model.graph.output:
        if output.name == "probabilities":
            output.name = PROBABILITY_OUTPUT
    data: bytes = model.SerializeToString()
    return data


def build_session(onnx: bytes) -> ort.InferenceSession:
    """An onnxruntime session for the bytes (CPU)."""
    return ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])


def predict_onnx(session: ort.InferenceSession, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(y = 1) per row from onnxruntime, fed float32 like the predictor."""
    (probabilities,) = session.run([PROBABILITY_OUTPUT], {INPUT_NAME: x.astype(np.float32)})
    return np.asarray(probabilities, dtype=np.float64)[:, 1]


def assess_parity(
    expected: NDArray[np.float64], actual: NDArray[np.float64], tolerance: float
) -> ParityReport:
    """Compare two probability vectors (pure)."""
    if expected.shape != actual.shape:
        raise ParityError(f"parity: shapes differ: {expected.shape} vs {actual.shape}")
    diff = float(np.max(np.abs(expected - actual))) if expected.size else 0.0
    if not np.isfinite(diff):
        diff = float("inf")
    return ParityReport(rows=int(expected.size), max_abs_diff=diff, tolerance=tolerance)


def check_parity(report: ParityReport) -> ParityReport:
    """The report if ok; ``ParityError`` saying by how much otherwise."""
    if not report.ok:
        raise ParityError(
            f"parity: onnxruntime differs from scikit-learn by up to {report.max_abs_diff:.3g} "
            f"on {report.rows} held-out rows (tolerance {report.tolerance:.3g}); not registered"
        )
    return report

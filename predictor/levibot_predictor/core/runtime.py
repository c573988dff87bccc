"""Model runtime (predictor core): an onnxruntime session that turns a float32 matrix into p_up.

Knows nothing of HTTP or settings. Sessions use one intra-op and one inter-op thread: single
rows and small batches are latency-bound, and the process serves many requests concurrently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from levibot_predictor.errors import PredictorError


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is: its identity and its feature contract."""

    model_name: str
    version: str
    features: tuple[str, ...]
    sha256: str
    horizon_seconds: int


def build_session_options() -> ort.SessionOptions:
    """Session options tuned for low-latency, single-thread inference."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class ModelRuntime:
    """A loaded ONNX classifier; ``predict_p_up`` returns P(class 1) per row."""

    def __init__(self, onnx_bytes: bytes, info: ModelInfo) -> None:
        try:
            self._session = ort.InferenceSession(
                onnx_bytes, sess_options=build_session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises several private types
            raise PredictorError(503, "model_error", f"cannot load ONNX model: {exc}") from exc
        self.info = info
        self._input = self._session.get_inputs()[0].name
        self._prob_output = _find_probability_output(self._session)
        self.ready = False

    @classmethod
    def from_file(cls, path: Path, info: ModelInfo) -> ModelRuntime:
        """Load from an ONNX file; the sha256 in ``info`` is replaced by the file's."""
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        return cls(data, ModelInfo(**{**info.__dict__, "sha256": digest}))

    def warm_up(self, rows: int = 8) -> None:
        """Run a few predictions so the first request does not pay for lazy init."""
        for count in (1, rows):
            self.predict_p_up(np.zeros((count, len(self.info.features)), dtype=np.float32))
        self.ready = True

    def predict_p_up(self, matrix: NDArray[np.float32]) -> NDArray[np.float64]:
        """P(up) for each row of a (n, n_features) float32 matrix."""
        outputs = self._session.run([self._prob_output], {self._input: matrix})
        return parse_probabilities(outputs[0])


def _find_probability_output(session: ort.InferenceSession) -> str:
    outputs = session.get_outputs()
    for output in outputs:
        if "prob" in output.name.lower():
            return str(output.name)
    return str(outputs[-1].name)


def parse_probabilities(raw: object) -> NDArray[np.float64]:
    """Column of class 1 from a probability tensor or skl2onnx's list of {label: p} maps."""
    if isinstance(raw, list):
        return np.array([float(row[1]) for row in raw], dtype=np.float64)
    array = np.asarray(raw, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] >= 2:
        return array[:, 1]
    return array.reshape(-1)

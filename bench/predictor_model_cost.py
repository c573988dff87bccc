"""Benchmark: what a model type and its input dtype cost the predictor (rows/s of session.run).

Trains logisticRegression and histGradientBoosting on FX-scale prices through the trainer's own
stages (the float32 export the predictor serves), adds a double-input histGradientBoosting graph
(the alternative fix for issue 12 item 7, not taken: skl2onnx 1.20 still writes float32
thresholds for a classifier, and TreeEnsembleClassifier outputs float, so it needs a Cast), and
times ``session.run`` with the predictor's session options (one thread) at batch 1 and 64.
Run: ``.venv/bin/python bench/predictor_model_cost.py [--seconds 12000] [--repeat 2000]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.base import BaseEstimator

from levibot_predictor.core.runtime import build_session_options
from levibot_trainer.core.export import INPUT_NAME, PROBABILITY_OUTPUT, TARGET_OPSET, build_onnx
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.pipeline import Fitted, build_training_rows, fit_and_assess, plan_checked_split
from levibot_trainer.settings import TrainerSettings


def build_fx_walk(seconds: int, seed: int) -> SymbolCloses:
    """1-second EURUSD-like closes: 1.08, moving by -1, 0 or +1 pip."""
    steps = np.random.default_rng(seed).choice([-1e-5, 0.0, 1e-5], size=seconds)
    closes = np.round((1.08 + np.cumsum(steps)) / 1e-5) * 1e-5
    return SymbolCloses(f"S{seed}", np.arange(seconds, dtype=np.int64) + 1_700_000_000, closes)


def fit_model(model_type: str, seconds: int) -> Fitted:
    """A model of ``model_type`` fitted by the trainer's stages."""
    settings = TrainerSettings(
        dsn="postgresql://unused", model_name="ns.m", version="v1", symbols=["S0", "S1"],
        model_type=model_type, data_window_seconds=seconds,
    )  # fmt: skip
    rows = build_training_rows([build_fx_walk(seconds, 0), build_fx_walk(seconds, 1)], settings)
    return fit_and_assess(rows, plan_checked_split(rows, settings), settings)


def build_double_onnx(estimator: BaseEstimator, n_features: int) -> bytes:
    """The double-input graph, with the Cast onnxruntime needs after the tree ensemble."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = convert_sklearn(
            estimator, initial_types=[(INPUT_NAME, DoubleTensorType([None, n_features]))],
            options={id(estimator): {"zipmap": False}}, target_opset=TARGET_OPSET,
        )  # fmt: skip
    nodes = []
    for node in model.graph.node:
        nodes.append(node)
        if node.op_type == "TreeEnsembleClassifier":
            name = node.output[1]
            node.output[1] = f"{name}_float"
            nodes.append(helper.make_node("Cast", [f"{name}_float"], [name], to=TensorProto.DOUBLE))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    data: bytes = model.SerializeToString()
    return data


def measure_rows_per_second(onnx: bytes, x: np.ndarray, batch: int, repeat: int) -> float:
    """Rows per second of one-thread ``session.run`` on ``batch``-row requests."""
    session = ort.InferenceSession(onnx, build_session_options(), ["CPUExecutionProvider"])
    dtype = np.float64 if "double" in session.get_inputs()[0].type else np.float32
    batches = [x[i : i + batch].astype(dtype) for i in range(0, batch * 50, batch)]
    for matrix in batches[:5]:
        session.run([PROBABILITY_OUTPUT], {INPUT_NAME: matrix})
    began = time.perf_counter()
    for i in range(repeat):
        session.run([PROBABILITY_OUTPUT], {INPUT_NAME: batches[i % len(batches)]})
    return batch * repeat / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=12_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    args = parser.parse_args()
    lr = fit_model("logisticRegression", args.seconds)
    hgb = fit_model("histGradientBoosting", args.seconds)
    graphs = {
        "logisticRegression float32": build_onnx(lr.estimator, lr.x_test.shape[1]),
        "histGradientBoosting float32": build_onnx(hgb.estimator, hgb.x_test.shape[1]),
        "histGradientBoosting float64": build_double_onnx(hgb.estimator, hgb.x_test.shape[1]),
    }
    print("| model, input | batch 1 rows/s | batch 64 rows/s |\n| --- | --- | --- |")
    for name, onnx in graphs.items():
        one = measure_rows_per_second(onnx, hgb.x_test, 1, args.repeat)
        many = measure_rows_per_second(onnx, hgb.x_test, 64, args.repeat // 8)
        print(f"| {name} | {one:,.0f} | {many:,.0f} |")


if __name__ == "__main__":
    main()

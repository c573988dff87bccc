"""Every supported estimator converts to ONNX and matches scikit-learn in real onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

from levibot_trainer.core.export import (
    INPUT_NAME,
    PROBABILITY_OUTPUT,
    assess_parity,
    build_onnx,
    build_session,
    check_parity,
    predict_onnx,
)
from levibot_trainer.core.model import (
    build_estimator,
    find_rejected_parameter,
    fit_estimator,
    predict_up,
)
from levibot_trainer.errors import BadConfigError, InsufficientDataError, ParityError


def feature_like_data(n: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    """Six columns on the scales of the real features, with a learnable label."""
    rng = np.random.default_rng(0)
    x = np.column_stack([
        rng.normal(0, 1e-3, n), rng.normal(0, 2e-3, n), rng.gamma(2, 5e-5, n),
        rng.gamma(2, 5e-5, n), rng.uniform(0, 100, n), rng.normal(0, 1, n),
    ])  # fmt: skip
    y = (x[:, 0] * 500 + x[:, 5] * 0.3 + rng.normal(0, 1, n) > 0).astype(np.int64)
    return x, y


@pytest.mark.parametrize("model_type", ["logisticRegression", "histGradientBoosting"])
@pytest.mark.parametrize("calibration", ["none", "sigmoid"])
def test_model_converts_and_matches_onnxruntime(model_type: str, calibration: str) -> None:
    x, y = feature_like_data()
    hyper = {"max_iter": 30} if model_type == "histGradientBoosting" else {"C": 0.5}
    model = fit_estimator(build_estimator(model_type, hyper, calibration, 0), x[:5000], y[:5000])
    session = build_session(build_onnx(model, 6))
    assert [i.name for i in session.get_inputs()] == [INPUT_NAME]
    assert PROBABILITY_OUTPUT in [o.name for o in session.get_outputs()]
    report = assess_parity(predict_up(model, x[5000:]), predict_onnx(session, x[5000:]), 1e-5)
    assert report.ok, report
    assert report.rows == 1000
    assert check_parity(report) is report


def test_parity_failure_says_by_how_much() -> None:
    report = assess_parity(np.array([0.5, 0.6]), np.array([0.5, 0.6125]), 1e-5)
    with pytest.raises(ParityError, match=r"by up to 0\.0125 on 2 held-out rows"):
        check_parity(report)
    nan = assess_parity(np.array([0.5]), np.array([np.nan]), 1e-5)
    assert not nan.ok


def test_unknown_hyperparameter_names_the_parameter() -> None:
    with pytest.raises(BadConfigError, match=r"hyperparameters\.depth: not a parameter"):
        build_estimator("histGradientBoosting", {"depth": 3}, "none", 0)


def test_bad_hyperparameter_value_is_a_config_error() -> None:
    x, y = feature_like_data(300)
    model = build_estimator("logisticRegression", {"C": -1.0}, "none", 0)
    with pytest.raises(BadConfigError, match="hyperparameters: rejected"):
        fit_estimator(model, x, y)


def test_rejected_hyperparameter_value_names_the_parameter() -> None:
    """The operator shows this message in status: it must say which key the estimator refused."""
    x, y = feature_like_data(300)
    hyper = {"C": -1.0, "max_iter": 50}
    model = build_estimator("logisticRegression", hyper, "none", 0)
    with pytest.raises(BadConfigError, match=r"^hyperparameters\.C: rejected by the estimator"):
        fit_estimator(model, x, y, hyper)
    hyper_hgb = {"learning_rate": -1}
    model = build_estimator("histGradientBoosting", hyper_hgb, "none", 0)
    with pytest.raises(BadConfigError, match=r"^hyperparameters\.learning_rate: rejected"):
        fit_estimator(model, x, y, hyper_hgb)


@pytest.mark.parametrize(
    ("message", "names", "expected"),
    [
        ("The 'C' parameter of LogisticRegression must be a float", ["max_iter", "C"], "C"),
        ("Solver lbfgs supports only 'l2' or None penalties, got l1 penalty.", ["penalty"],
         "penalty"),
        ("Solver lbfgs supports only 'l2' or None penalties", ["penalty", "C"], None),
        ("anything", [], None),
    ],
)  # fmt: skip
def test_find_rejected_parameter(message: str, names: list[str], expected: str | None) -> None:
    assert find_rejected_parameter(message, names) == expected


def test_single_class_training_data_is_insufficient() -> None:
    x, _ = feature_like_data(300)
    model = build_estimator("logisticRegression", {}, "none", 0)
    with pytest.raises(InsufficientDataError, match="single class"):
        fit_estimator(model, x, np.ones(300, dtype=np.int64))

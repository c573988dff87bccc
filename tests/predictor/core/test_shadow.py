"""Shadow scoring core: the partner's p_up and signals for the served rows, on real ONNX models."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from levibot_common.features import FEATURES
from levibot_predictor.core.policy import Thresholds, decide_signal
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.shadow import (
    ShadowError,
    ShadowModel,
    plan_shadow_columns,
    score_shadow,
)
from tests.predictor.support.models import make_model, make_rows

THRESHOLDS = Thresholds(0.55, 0.45)


def make_runtime(onnx: bytes, features: tuple[str, ...], version: str = "v2") -> ModelRuntime:
    return ModelRuntime(onnx, ModelInfo("ns.demo", version, features, "", 60))


def test_the_partner_scores_the_same_rows_with_the_serving_thresholds() -> None:
    partner = make_model(seed=7)
    model = ShadowModel(make_runtime(partner.onnx, FEATURES), None)
    rows = make_rows(50, seed=3).astype(np.float32)
    scores = score_shadow(model, rows, THRESHOLDS)
    expected = partner.sklearn.predict_proba(rows.astype(np.float64))[:, 1]
    assert scores.version == "v2"
    np.testing.assert_allclose(scores.p_up, expected, atol=1e-5)
    assert scores.signals == [decide_signal(p, THRESHOLDS) for p in scores.p_up]
    assert {"BUY", "SELL"} <= set(scores.signals)  # the thresholds really apply


def test_a_partner_reading_fewer_columns_in_another_order_gets_its_own() -> None:
    picked = (FEATURES[5], FEATURES[0], FEATURES[3])
    train = make_rows(500, seed=1)
    columns = [FEATURES.index(name) for name in picked]
    labels = (train[:, 0] * 800 + train[:, 5] > 0).astype(int)
    fitted = LogisticRegression().fit(train[:, columns], labels)
    onnx = to_onnx(fitted, train[:1, columns].astype(np.float32),
                   options={id(fitted): {"zipmap": False}}).SerializeToString()  # fmt: skip
    plan = plan_shadow_columns(FEATURES, picked)
    assert plan == tuple(columns)
    rows = make_rows(20, seed=2).astype(np.float32)
    scores = score_shadow(ShadowModel(make_runtime(onnx, picked), plan), rows, THRESHOLDS)
    expected = fitted.predict_proba(rows[:, columns].astype(np.float64))[:, 1]
    np.testing.assert_allclose(scores.p_up, expected, atol=1e-5)


def test_column_plans() -> None:
    assert plan_shadow_columns(FEATURES, FEATURES) is None  # the fast path: no copy
    with pytest.raises(ValueError, match=r"partner features \['rsi_99'\]"):
        plan_shadow_columns(FEATURES[:2], (FEATURES[0], "rsi_99"))


class BrokenRuntime(ModelRuntime):
    """A real session whose answers are replaced: NaN, or one value too few."""

    def __init__(self, onnx: bytes, answer: str) -> None:
        super().__init__(onnx, ModelInfo("ns.demo", "v2", FEATURES, "", 60))
        self._answer = answer

    def predict_p_up(self, matrix: NDArray[np.float32]) -> NDArray[np.float64]:
        p = super().predict_p_up(matrix)
        if self._answer == "nan":
            p[0] = np.nan
            return p
        return p[1:]


@pytest.mark.parametrize("answer", ["nan", "short"])
def test_unusable_answers_are_a_shadow_error(answer: str) -> None:
    model = ShadowModel(BrokenRuntime(make_model().onnx, answer), None)
    with pytest.raises(ShadowError, match="v2"):
        score_shadow(model, make_rows(4).astype(np.float32), THRESHOLDS)

"""The prediction door with a shadow partner: the answer is the served version's, byte for byte
apart from ids; a partner that fails is counted and its rows are logged without shadow."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from levibot_common.features import FEATURES
from levibot_predictor.core.runtime import ModelInfo, ModelRuntime
from levibot_predictor.core.shadow import ShadowModel
from levibot_predictor.io.predlog import LogEntry
from tests.predictor.support.models import (
    make_loaded,
    make_model,
    make_rows,
    make_settings,
    running_app,
)

MODEL, PARTNER = make_model(seed=0), make_model(seed=7)
LABELS = {"model": "demo", "version": "v1", "track": "stable"}
BODY = {"rows": [dict(zip(FEATURES, map(float, r), strict=True)) for r in make_rows(4, seed=2)]}


class FailingRuntime(ModelRuntime):
    """A real session that raises on every run, as a broken partner graph would."""

    def predict_p_up(self, matrix: NDArray[np.float32]) -> NDArray[np.float64]:
        raise RuntimeError("partner graph failed")


def partner(runtime_class: type[ModelRuntime] = ModelRuntime) -> ShadowModel:
    return ShadowModel(runtime_class(PARTNER.onnx, ModelInfo("ns.demo", "v2", FEATURES, "", 60)),
                       None)  # fmt: skip


def strip_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "predictions": [{**p, "prediction_id": 0} for p in body["predictions"]]}


async def test_answers_are_unchanged_and_failures_are_counted_not_served() -> None:
    settings = make_settings()
    async with running_app(settings, make_loaded(MODEL, settings)) as running:
        service = running.app.state.service
        entries: list[LogEntry] = []
        service.log.submit = entries.append  # the log's input, without a database
        plain = await running.client.post("/v1/predict", json=BODY)
        service.shadow.current = partner()
        shadowed = await running.client.post("/v1/predict", json=BODY)
        service.shadow.current = partner(FailingRuntime)
        failing = await running.client.post("/v1/predict", json=BODY)
        errors = running.metric("levibot_shadow_errors_total", **LABELS, stage="score")
    assert [r.status_code for r in (plain, shadowed, failing)] == [200, 200, 200]
    assert strip_ids(shadowed.json()) == strip_ids(plain.json()) == strip_ids(failing.json())
    assert [e.shadow is None for e in entries] == [True, False, True]
    shadow = entries[1].shadow
    assert shadow is not None
    assert shadow.version == "v2"
    assert shadow.p_up != [p["p_up"] for p in plain.json()["predictions"]]  # another model
    assert errors == 1.0

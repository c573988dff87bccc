"""parse_spec: defaults, and every error names the field path."""

from __future__ import annotations

from typing import Any

import pytest

from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.spec import (
    build_model_fingerprint,
    parse_modeldeployment,
)
from tests.operator.support.fakes import md_body


def test_example_parses_with_its_values() -> None:
    md = parse_modeldeployment(md_body())
    assert md.model_name == "prod.btc-direction"
    assert md.spec.model.type == "logisticRegression"
    assert md.spec.features == ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")
    assert md.spec.training.schedule == "0 2 * * *"
    assert md.spec.serving.replicas == 2
    assert md.spec.traffic.provider == "replicas"


def test_defaults_apply_when_optional_sections_are_absent() -> None:
    body = md_body()
    del body["spec"]["serving"], body["spec"]["traffic"], body["spec"]["killSwitch"]
    spec = parse_modeldeployment(body).spec
    assert (spec.serving.replicas, spec.serving.buy_threshold, spec.serving.sell_threshold) == (
        2,
        0.55,
        0.45,
    )
    assert spec.kill_switch is False


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, leaf = path.split(".")
    node = body["spec"]
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return body


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("model.type", "randomForest", "spec.model.type"),
        ("model", DELETE, "spec.model"),
        ("model.calibration", "platt", "spec.model.calibration"),
        ("features", ["ret_1m", "moon_phase"], "spec.features[1]"),
        ("features", [], "spec.features"),
        ("symbols", ["BTC", "BTC"], "spec.symbols"),
        ("horizonSeconds", 0, "spec.horizonSeconds"),
        ("horizonSeconds", "60", "spec.horizonSeconds"),
        ("horizonSeconds", 10_000_000, "spec.horizonSeconds"),
        ("training.schedule", "61 * * * *", "spec.training.schedule"),
        ("training.schedule", "every day", "spec.training.schedule"),
        ("training.schedule", "0 2 30 2 *", "spec.training.schedule"),  # 30 February: never
        ("training.schedule", "0 0 31 4,6,9,11 *", "spec.training.schedule"),
        ("training.databaseSecretRef", DELETE, "spec.training.databaseSecretRef"),
        ("training.backoffLimit", -1, "spec.training.backoffLimit"),
        ("training.envelope.retrains", 3, "spec.training.envelope.retrains"),
        ("training.envelope.retrains", 33, "spec.training.envelope.retrains"),
        ("training.envelope.retrains", "eight", "spec.training.envelope.retrains"),
        ("training.envelope", 8, "spec.training.envelope"),
        ("training.activeDeadlineSeconds", 10**30, "spec.training.activeDeadlineSeconds"),
        ("serving.replicas", 10**6, "spec.serving.replicas"),
        ("serving.replicas", -1, "spec.serving.replicas"),
        ("serving.sellThreshold", 0.6, "spec.serving.sellThreshold"),
        ("serving.fallback", "panic", "spec.serving.fallback"),
        ("serving.monitoring.driftWindowSeconds", 5, "spec.serving.monitoring.driftWindowSeconds"),
        ("serving.monitoring.outcomeWindow", "many", "spec.serving.monitoring.outcomeWindow"),
        ("traffic.provider", "gatewayAPI", "spec.traffic.gatewayAPI.parentRefs"),
        ("killSwitch", "yes", "spec.killSwitch"),
        ("driftPolicy", "ignore", "spec.driftPolicy"),
    ],
)
def test_invalid_field_is_named(path: str, value: Any, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_modeldeployment(_set(md_body(), path, value))
    assert caught.value.field == field
    assert field in str(caught.value)


def test_envelope_retrains_default_to_eight_and_parse_within_bounds() -> None:
    assert parse_modeldeployment(md_body()).spec.training.envelope_retrains == 8
    for retrains in (4, 32):
        body = _set(md_body(), "training.envelope.retrains", retrains)
        assert parse_modeldeployment(body).spec.training.envelope_retrains == retrains


def test_envelope_retrains_need_no_new_model() -> None:
    """A different K changes how the next version's envelope is measured, not the model."""
    base = build_model_fingerprint(parse_modeldeployment(md_body()).spec)
    body = _set(md_body(), "training.envelope.retrains", 16)
    assert build_model_fingerprint(parse_modeldeployment(body).spec) == base


def test_fingerprint_changes_with_the_model_but_not_with_serving() -> None:
    base = build_model_fingerprint(parse_modeldeployment(md_body()).spec)
    serving = _set(md_body(), "serving.replicas", 5)
    model = _set(md_body(), "model.hyperparameters", {"C": 0.1})
    assert build_model_fingerprint(parse_modeldeployment(serving).spec) == base
    assert build_model_fingerprint(parse_modeldeployment(model).spec) != base

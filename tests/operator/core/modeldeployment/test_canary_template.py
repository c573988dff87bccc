"""spec.canaryTemplate: parsed and checked as the Canary spec it becomes (errors name
spec.canaryTemplate.<field>), the built-in default, the trigger rules, and the drift canary."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from levibot_operator.core.canary.template import (
    check_canary_template,
    parse_checked_modeldeployment,
)
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.canary_template import (
    DEFAULT_CANARY_TEMPLATE,
    build_template_spec,
)
from levibot_operator.core.modeldeployment.drift_retrain import build_drift_canary
from tests.operator.support.fakes import md_body


def without_template() -> dict[str, Any]:
    body = md_body()
    del body["spec"]["canaryTemplate"]
    return body


def test_the_production_example_writes_out_the_built_in_default() -> None:
    assert md_body()["spec"]["canaryTemplate"] == DEFAULT_CANARY_TEMPLATE
    assert parse_checked_modeldeployment(without_template()).spec.canary_template == (
        DEFAULT_CANARY_TEMPLATE
    )


def test_the_default_is_a_valid_canary_spec_with_a_judgement() -> None:
    spec = check_canary_template(DEFAULT_CANARY_TEMPLATE)
    first = spec.steps[1]
    assert first.analysis.judgement is not None  # type: ignore[union-attr]
    assert first.analysis.judgement.alpha == 0.05  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": [{"setWeight": 101}]}, "spec.canaryTemplate.steps[0].setWeight"),
        ({"steps": []}, "spec.canaryTemplate.steps"),
        ({"progressDeadline": "soon"}, "spec.canaryTemplate.progressDeadline"),
        (
            {"analysis": {"judgement": {"agreement": {"onDifferent": "ignore"}}}},
            "spec.canaryTemplate.analysis.judgement.agreement.onDifferent",
        ),
        ({"target": "other"}, "spec.canaryTemplate.target"),
    ],
)
def test_a_bad_template_field_is_named(change: dict[str, Any], field: str) -> None:
    body = md_body()
    body["spec"]["canaryTemplate"] = {**copy.deepcopy(DEFAULT_CANARY_TEMPLATE), **change}
    with pytest.raises(SpecError) as error:
        parse_checked_modeldeployment(body)
    assert error.value.field == field


def test_schedule_keeps_the_template_and_other_triggers_evaluate_differences() -> None:
    template = copy.deepcopy(DEFAULT_CANARY_TEMPLATE)
    template["steps"][1] = {"analysis": {"judgement": {"agreement": {"onDifferent": "rollback"}}}}
    schedule = build_template_spec(template, "schedule")
    assert schedule == template
    for trigger in ("specChange", "drift"):
        spec = build_template_spec(template, trigger)
        assert spec["analysis"]["judgement"]["agreement"]["onDifferent"] == "evaluate"
        assert spec["steps"][1]["analysis"]["judgement"]["agreement"]["onDifferent"] == "evaluate"
    assert template == build_template_spec(template, "schedule")  # never mutated


def test_a_template_without_a_judgement_is_used_as_it_is() -> None:
    template = {"steps": [{"setWeight": 100}], "analysis": {"thresholds": {"eceMax": 0.06}}}
    assert build_template_spec(template, "drift") == template


def test_the_drift_canary_takes_its_analysis_from_the_template() -> None:
    body = md_body()
    body["spec"]["canaryTemplate"]["analysis"]["judgement"]["alpha"] = 0.01
    body["spec"]["driftRetrain"] = {"budget": "3h"}
    md = parse_checked_modeldeployment(body)
    canary = build_drift_canary(md, 1, 3600, "why")
    spec = canary["spec"]
    assert spec["candidate"] == {"train": True, "dataWindowSeconds": 3600}
    assert spec["target"] == "btc-direction"
    assert spec["analysis"]["judgement"]["alpha"] == 0.01
    # stage 2 settles a drift retrain: its budget, and rejected when it has no verdict by then
    assert spec["analysis"]["judgement"]["budget"] == "3h"
    assert spec["analysis"]["judgement"]["onInconclusive"] == "rollback"
    assert spec["analysis"]["judgement"]["agreement"]["onDifferent"] == "evaluate"
    assert spec["steps"] == body["spec"]["canaryTemplate"]["steps"]
    assert canary["metadata"]["labels"]["levibot.io/trigger"] == "drift"

"""Parsing the Canary spec and control annotations; errors name the field (core, pure)."""

from datetime import timedelta
from typing import Any

import pytest

from levibot_operator.core.canary.spec import (
    AnalysisStep,
    CanaryControls,
    PauseStep,
    SetWeightStep,
    parse_canary_controls,
    parse_canary_spec,
)
from levibot_operator.core.fields import SpecError
from tests.operator.support.canary.builders import spec_body


def test_a_full_spec() -> None:
    spec = parse_canary_spec(
        spec_body(
            steps=[
                {"setWeight": 10},
                {"pause": {"untilResumed": True}},
                {"analysis": {"count": 7, "thresholds": {"psiMax": 0.3}}},
            ]
        )
    )
    assert spec.target == "btc-direction"
    assert spec.candidate_version == "v2"
    assert spec.steps[0] == SetWeightStep(10)
    assert spec.steps[1] == PauseStep(None)
    step = spec.steps[2]
    assert isinstance(step, AnalysisStep)
    assert (step.analysis.count, step.analysis.interval) == (7, timedelta(minutes=1))
    assert step.analysis.thresholds.psi_max == 0.3  # overridden
    assert step.analysis.thresholds.ece_max == 0.06  # inherited from spec.analysis
    assert spec.progress_deadline == timedelta(minutes=10)
    assert spec.shadow_percent == 0


def test_train_a_new_version() -> None:
    assert parse_canary_spec(spec_body(candidate={"train": True})).candidate_version is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target": None}, "spec.target"),
        ({"candidate": {}}, "spec.candidate"),
        ({"candidate": {"version": "v2", "train": True}}, "spec.candidate"),
        ({"steps": []}, "spec.steps"),
        ({"steps": [{"setWeight": 101}]}, "spec.steps[0].setWeight"),
        ({"steps": [{"setWeight": "ten"}]}, "spec.steps[0].setWeight"),
        ({"steps": [{"setWeight": 50}, {"setWeight": 10}]}, "spec.steps[1].setWeight"),
        ({"steps": [{"setWeight": 5, "pause": {"duration": "1m"}}]}, "spec.steps[0]"),
        ({"steps": [{"pause": {}}]}, "spec.steps[0].pause"),
        ({"steps": [{"pause": {"duration": "1m", "untilResumed": True}}]}, "spec.steps[0].pause"),
        ({"steps": [{"pause": {"duration": "soon"}}]}, "spec.steps[0].pause.duration"),
        ({"steps": [{"analysis": {"count": 0}}]}, "spec.steps[0].analysis.count"),
        ({"analysis": {"failureLimit": -1}}, "spec.analysis.failureLimit"),
        ({"analysis": {"thresholds": {"minSamples": 0}}}, "spec.analysis.thresholds.minSamples"),
        ({"analysis": {"thresholds": {"eceMax": 1.5}}}, "spec.analysis.thresholds.eceMax"),
        ({"analysis": {"window": "0s"}}, "spec.analysis.window"),
        ({"shadow": {"percent": 150}}, "spec.shadow.percent"),
        ({"progressDeadline": "10"}, "spec.progressDeadline"),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in spec_body(**overrides).items() if v is not None}
    with pytest.raises(SpecError) as caught:
        parse_canary_spec(body)
    assert caught.value.field == field


def test_controls_from_annotations() -> None:
    notes = {
        "levibot.io/promote": "",
        "levibot.io/abort": "x",
        "levibot.io/resume": "t1",
        "other": "y",
    }
    assert parse_canary_controls(notes) == CanaryControls(promote=None, abort="x", resume="t1")
    assert parse_canary_controls(None) == CanaryControls()

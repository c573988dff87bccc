"""Parsing ``analysis.judgement``: defaults, a full block, step overrides, each bad field named."""

from datetime import timedelta
from typing import Any

import pytest

from levibot_operator.core.canary.judgement_spec import (
    AgreementSpec,
    CalibrationSpec,
    JudgementSpec,
    NonInferioritySpec,
    parse_judgement,
    unparse_judgement,
)
from levibot_operator.core.canary.spec import AnalysisStep, parse_canary_spec
from levibot_operator.core.fields import SpecError
from tests.operator.support.canary.builders import FULL_JUDGEMENT, spec_body

FULL = FULL_JUDGEMENT


def test_defaults() -> None:
    assert parse_judgement({}, "j") == JudgementSpec(
        alpha=0.05,
        block_seconds=0,
        budget=timedelta(minutes=60),
        on_inconclusive="pause",
        agreement=AgreementSpec("rollback", 0, 1),
        non_inferiority=NonInferioritySpec("logLoss", 0.01),
        calibration=CalibrationSpec(0.01),
    )


def test_a_full_block_round_trips() -> None:
    spec = parse_judgement(FULL, "j")
    assert spec == JudgementSpec(
        0.01, 400, timedelta(minutes=90), "rollback", AgreementSpec("evaluate", 60, 6),
        NonInferioritySpec("brier", 0.002), CalibrationSpec(0.001),
    )  # fmt: skip
    assert parse_judgement(unparse_judgement(spec), "j") == spec
    relative = parse_judgement({"calibration": {"relativeToStable": True}}, "j")
    assert relative.calibration == CalibrationSpec(0.01, relative_to_stable=True)
    assert parse_judgement(unparse_judgement(relative), "j") == relative


def test_no_judgement_is_none_and_a_step_inherits_and_overrides() -> None:
    plain = parse_canary_spec(spec_body(steps=[{"analysis": {}}]))
    assert isinstance(plain.steps[0], AnalysisStep)
    assert plain.steps[0].analysis.judgement is None
    body = spec_body(
        analysis={"judgement": FULL},
        steps=[
            {"analysis": {}},
            {"analysis": {"judgement": {"agreement": {"lags": 2}, "budget": "10m"}}},
        ],
    )
    first, second = parse_canary_spec(body).steps
    assert isinstance(first, AnalysisStep)
    assert isinstance(second, AnalysisStep)
    assert first.analysis.judgement == parse_judgement(FULL, "j")
    assert second.analysis.judgement is not None
    assert second.analysis.judgement.agreement == AgreementSpec("evaluate", 60, 2)
    assert second.analysis.judgement.budget == timedelta(minutes=10)
    assert second.analysis.judgement.non_inferiority.metric == "brier"


BAD: list[tuple[dict[str, Any], str]] = [
    ({"alpha": 0}, "alpha"),
    ({"alpha": 0.7}, "alpha"),
    ({"alpha": "x"}, "alpha"),
    ({"blockSeconds": -1}, "blockSeconds"),
    ({"blockSeconds": 10**9}, "blockSeconds"),
    ({"budget": "forever"}, "budget"),
    ({"budget": "721h"}, "budget"),
    ({"onInconclusive": "retry"}, "onInconclusive"),
    ({"agreement": "yes"}, "agreement"),
    ({"agreement": {"onDifferent": "ignore"}}, "agreement.onDifferent"),
    ({"agreement": {"lags": 101}}, "agreement.lags"),
    ({"agreement": {"blockSeconds": 1.5}}, "agreement.blockSeconds"),
    ({"nonInferiority": {"metric": "accuracy"}}, "nonInferiority.metric"),
    ({"nonInferiority": {"tolerance": -0.1}}, "nonInferiority.tolerance"),
    ({"nonInferiority": {"tolerance": float("nan")}}, "nonInferiority.tolerance"),
    ({"calibration": {"alpha": 1.0}}, "calibration.alpha"),
    ({"calibration": {"relativeToStable": "yes"}}, "calibration.relativeToStable"),
]


@pytest.mark.parametrize(("block", "field"), BAD, ids=[f for _, f in BAD])
def test_each_bad_field_is_named(block: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_canary_spec(spec_body(analysis={"judgement": block}))
    assert caught.value.field == f"spec.analysis.judgement.{field}"


def test_a_bad_field_of_a_step_is_named_with_the_step() -> None:
    body = spec_body(steps=[{"analysis": {"judgement": {"calibration": {"alpha": 2}}}}])
    with pytest.raises(SpecError) as caught:
        parse_canary_spec(body)
    assert caught.value.field == "spec.steps[0].analysis.judgement.calibration.alpha"

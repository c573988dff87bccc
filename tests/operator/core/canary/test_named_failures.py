"""A canary that cannot work says which field is at fault (issue 12, 4): the trainer's reason
when its candidate's training failed, and ``spec.shadow.percent`` on a replicas target."""

from __future__ import annotations

from levibot_operator import constants as c
from levibot_operator.core.canary.decision import CandidateTraining
from levibot_operator.core.canary.status import Phase
from levibot_operator.core.intents import EVENT_WARNING
from tests.operator.support.canary.builders import Driver, make_spec, observe

REFUSED = (
    "spec.model.hyperparameters.C: rejected by the estimator (trainer: bad_config, exit code 2)"
)


def test_failed_training_names_the_trainers_reason() -> None:
    driver = Driver(make_spec(candidate={"train": True}))
    driver.tick(observe(next_version="v2"))
    seen = observe(training=CandidateTraining.FAILED, training_message=REFUSED)
    decision = driver.tick(seen)
    assert (decision.status.phase, decision.status.reason) == (Phase.FAILED, "TrainingFailed")
    assert decision.status.message == f"training of v2 failed: {REFUSED}"
    assert REFUSED in decision.events[-1].message


def test_shadow_percent_on_a_replicas_target_is_refused_naming_the_field() -> None:
    driver = Driver(make_spec(shadow={"percent": 20}))
    decision = driver.tick(observe(traffic_provider=c.PROVIDER_REPLICAS))
    assert (decision.status.phase, decision.status.reason) == (Phase.FAILED, c.REASON_INVALID_SPEC)
    assert decision.status.message.startswith("spec.shadow.percent: ")
    assert "requires traffic.provider gatewayAPI on the ModelDeployment" in decision.status.message
    assert decision.events[-1].type == EVENT_WARNING
    assert decision.traffic.weight == 0  # nothing ever moved to the candidate


def test_shadow_percent_on_a_gateway_target_starts() -> None:
    driver = Driver(make_spec(shadow={"percent": 20}))
    decision = driver.tick(observe(traffic_provider=c.PROVIDER_GATEWAY_API))
    assert decision.status.phase is Phase.PROGRESSING


def test_no_shadow_on_a_replicas_target_starts() -> None:
    decision = Driver(make_spec()).tick(observe(traffic_provider=c.PROVIDER_REPLICAS))
    assert decision.status.phase is Phase.PROGRESSING

"""Canary arithmetic while an autoscaler moves the stable side: the candidate follows the
stable's observed replica count, not spec.serving.replicas (core, pure)."""

from dataclasses import replace

import pytest

from levibot_operator.core.canary.decision import CanaryDecision
from levibot_operator.core.canary.planning import (
    CandidateView,
    assess_candidate,
    plan_canary_writes,
)
from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.intents import ApplyObject, Scale, TrafficIntent
from levibot_operator.core.modeldeployment.observation import DeploymentObservation
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.traffic.weights import plan_replicas, plan_stable_replicas
from levibot_operator.settings import OperatorSettings
from tests.operator.support.canary.builders import make_spec
from tests.operator.support.fakes import md_body


@pytest.mark.parametrize(
    ("configured", "observed", "weight", "candidate", "achieved"),
    [
        (2, None, 25, 1, 100 / 3),  # not observed yet: the configured count
        (2, 2, 25, 1, 100 / 3),
        (2, 6, 25, 2, 25.0),  # the HPA scaled stable 2 -> 6: 25 % needs 2 candidate pods
        (2, 6, 10, 1, 100 / 7),
        (2, 6, 50, 6, 50.0),
        (6, 3, 25, 1, 25.0),  # scaled in below the configured count
        (2, 0, 25, 1, 100 / 3),  # scaled to zero: the configured count
    ],
)
def test_the_candidate_follows_the_observed_stable(
    configured: int, observed: int | None, weight: int, candidate: int, achieved: float
) -> None:
    stable = plan_stable_replicas(observed, configured)
    plan = plan_replicas(TrafficIntent(weight, Scale.WEIGHTED, Scale.FULL), stable)
    assert plan.candidate == candidate
    assert plan.achieved_weight == pytest.approx(achieved)


def test_the_canary_scales_its_candidate_from_the_stable_the_hpa_set() -> None:
    md = parse_modeldeployment(md_body())
    assert md.spec.serving.replicas == 2
    stable = DeploymentObservation("btc-direction-v1", "v1", "stable", 6, 6)
    seen = assess_candidate(DeploymentObservation("btc-direction-v2", "v2", "canary", 1, 1), stable)
    assert seen.stable_replicas == 6
    live = CanaryStatus(Phase.PROGRESSING, stable_version="v1", candidate_version="v2")
    decision = CanaryDecision(status=live, traffic=TrafficIntent(25, Scale.WEIGHTED, Scale.FULL))
    writes = plan_canary_writes(
        md, "c", decision, spec=make_spec(), old=live, seen=seen,
        settings=OperatorSettings().build_core_settings(),
    )  # fmt: skip
    (deployment,) = [w for w in writes if isinstance(w, ApplyObject)]
    assert deployment.manifest["spec"]["replicas"] == 2  # type: ignore[index]
    unobserved = replace(seen, stable_replicas=None)
    assert isinstance(unobserved, CandidateView)

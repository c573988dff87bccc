"""The operator's check series: a judgement check's estimate, bounds, threshold, effective n and
verdict are published; infinite and NaN numbers are left out."""

import math

from prometheus_client import CollectorRegistry

from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.status import CanaryStatus, Phase

LABELS = {"namespace": "ns", "canary": "c", "modeldeployment": "md"}


def test_check_series() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    check = CheckVerdict(
        "agreement", 0.1, 0.03, "<=", Verdict.DIFFERENT, "why", lower=0.09, upper=math.inf,
        n=900, n_eff=9,
    )  # fmt: skip
    metrics.observe_canary("ns", "c", "md", CanaryStatus(phase=Phase.PROGRESSING, checks=(check,)))

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {**LABELS, "check": "agreement", **labels})

    assert value("levibot_canary_check_estimate", bound="estimate") == 0.1
    assert value("levibot_canary_check_estimate", bound="lower") == 0.09
    assert value("levibot_canary_check_estimate", bound="upper") is None
    assert value("levibot_canary_check_estimate", bound="threshold") == 0.03
    assert value("levibot_canary_check_estimate", bound="effective_n") == 9.0
    assert value("levibot_canary_check_verdict", verdict="Different") == 1.0
    assert value("levibot_canary_check_verdict", verdict="Pass") == 0.0

"""Analysis assessment tables and PromQL building (core, pure)."""

import math

import pytest

from levibot_operator.core.canary.analysis import (
    AnalysisTarget,
    Query,
    Values,
    Verdict,
    assess_checks,
    assess_measurement,
    build_analysis_queries,
    first_failure,
)
from levibot_operator.core.canary.spec import Thresholds

SEEDS = Thresholds(
    min_samples=100,
    ece_max=0.06,
    ece_max_worse_than_stable=0.01,
    ks_pvalue_min=0.05,
    psi_max=0.2,
    error_rate_max=0.01,
    latency_p95_max_seconds=0.3,
)
HEALTHY: Values = {
    Query.SAMPLES: 250.0,
    Query.ECE: 0.04,
    Query.STABLE_ECE: 0.035,
    Query.KS_PVALUE: 0.4,
    Query.PSI: 0.05,
    Query.ERROR_RATE: 0.001,
    Query.LATENCY_P95: 0.02,
}


def verdicts_of(values: Values) -> dict[str, Verdict]:
    return {c.name: c.verdict for c in assess_checks(values, SEEDS)}


def test_a_healthy_candidate_passes_every_check() -> None:
    verdicts = assess_checks(HEALTHY, SEEDS)
    assert [c.name for c in verdicts] == [
        "samples",
        "ece",
        "eceWorseThanStable",
        "ksPValue",
        "psi",
        "errorRate",
        "latencyP95",
    ]
    assert assess_measurement(verdicts) is Verdict.PASS


@pytest.mark.parametrize(
    ("query", "value", "check", "verdict"),
    [
        (Query.ECE, 0.06, "ece", Verdict.PASS),  # at the threshold passes
        (Query.ECE, 0.0601, "ece", Verdict.FAIL),
        (Query.STABLE_ECE, 0.02, "eceWorseThanStable", Verdict.FAIL),  # 0.04 - 0.02 > 0.01
        (Query.STABLE_ECE, None, "eceWorseThanStable", Verdict.INCONCLUSIVE),
        (Query.KS_PVALUE, 0.049, "ksPValue", Verdict.FAIL),
        (Query.KS_PVALUE, 0.05, "ksPValue", Verdict.PASS),
        (Query.PSI, 0.35, "psi", Verdict.FAIL),
        (Query.ERROR_RATE, 0.02, "errorRate", Verdict.FAIL),
        (Query.ERROR_RATE, math.nan, "errorRate", Verdict.INCONCLUSIVE),  # 0/0: no requests
        (Query.LATENCY_P95, 0.31, "latencyP95", Verdict.FAIL),
        (Query.LATENCY_P95, math.inf, "latencyP95", Verdict.FAIL),
        (Query.LATENCY_P95, None, "latencyP95", Verdict.INCONCLUSIVE),
    ],
)
def test_each_check(query: Query, value: float | None, check: str, verdict: Verdict) -> None:
    assert verdicts_of({**HEALTHY, query: value})[check] is verdict


@pytest.mark.parametrize("samples", [None, math.nan, 0.0, 99.0])
def test_below_min_samples_every_check_is_inconclusive_never_a_pass(samples: float | None) -> None:
    values = {**HEALTHY, Query.SAMPLES: samples, Query.ECE: 0.5}
    verdicts = assess_checks(values, SEEDS)
    assert {c.verdict for c in verdicts} == {Verdict.INCONCLUSIVE}
    assert assess_measurement(verdicts) is Verdict.INCONCLUSIVE
    assert verdicts[1].value == 0.5  # the value is still reported


def test_empty_results_are_inconclusive() -> None:
    verdicts = assess_checks({}, SEEDS)
    assert assess_measurement(verdicts) is Verdict.INCONCLUSIVE
    assert all(c.value is None for c in verdicts)


def test_disabled_checks_are_not_assessed() -> None:
    verdicts = assess_checks(HEALTHY, Thresholds(min_samples=10, psi_max=0.2))
    assert [c.name for c in verdicts] == ["samples", "psi"]


def test_one_failure_fails_the_measurement_and_is_named() -> None:
    verdicts = assess_checks({**HEALTHY, Query.PSI: 0.31}, SEEDS)
    assert assess_measurement(verdicts) is Verdict.FAIL
    failing = first_failure(verdicts)
    assert failing is not None
    assert failing.describe() == "psi=0.31 (threshold <= 0.2)"


def test_queries_select_one_version_with_every_label() -> None:
    candidate = AnalysisTarget("prod", "btc-direction", "v2", "canary")
    stable = AnalysisTarget("prod", "btc-direction", "v1", "stable")
    queries = build_analysis_queries(candidate, stable, "5m")
    sel = '{namespace="prod",model="btc-direction",version="v2",track="canary"}'
    assert queries[Query.ECE] == f"max(levibot_model_ece{sel})"
    assert queries[Query.SAMPLES] == f"max(levibot_resolved_predictions{sel})"
    assert 'version="v1",track="stable"' in queries[Query.STABLE_ECE]
    assert queries[Query.KS_PVALUE].startswith("min(levibot_feature_ks_pvalue{")
    assert f"rate(levibot_model_errors_total{sel}[5m])) or vector(0)" in queries[Query.ERROR_RATE]
    assert queries[Query.LATENCY_P95].startswith("histogram_quantile(0.95, sum by (le)")


def test_label_values_are_escaped() -> None:
    target = AnalysisTarget('a"b', "m\\", "v", "canary")
    query = build_analysis_queries(target, target, "1m")[Query.PSI]
    assert 'namespace="a\\"b",model="m\\\\"' in query


def test_error_rate_is_server_faults_over_requests_no_client_spoiled() -> None:
    """Issue 12, item 2: junk requests (4xx) neither raise the rate nor dilute it."""
    target = AnalysisTarget("prod", "btc-direction", "v2", "canary")
    query = build_analysis_queries(target, target, "5m")[Query.ERROR_RATE]
    numerator, denominator = query.split(" / ")
    assert "levibot_model_errors_total" in numerator
    assert "levibot_client_errors_total" not in query
    assert 'track="canary",endpoint!="other",status!~"4.."}[5m]' in denominator

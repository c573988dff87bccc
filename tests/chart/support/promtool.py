"""promtool unit-test cases for the chart's alert rules: one case per alert.

Test support layer. Each case feeds two predictors to promtool: version v2 (canary) just past the
seed's threshold, which must fire, and version v1 (stable) exactly at the threshold, which must
stay silent. `build_promtool_tests` turns the cases into promtool's test-file document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "ml"
MODEL = "btc-direction"
SCRAPE = 'job="predictors", instance="10.0.0.7:8080"'
PLACE = {"namespace": NAMESPACE, "model": MODEL}
WHO = "ml/btc-direction v2 (canary)"
LENGTH = "x40"


@dataclass(frozen=True)
class AlertCase:
    """One alert: series per version (value expressions), when to evaluate, what it says."""

    alert: str
    severity: str
    eval_minutes: int
    firing: dict[str, str]
    silent: dict[str, str]
    summary: str
    description: str
    extra_labels: dict[str, str] = field(default_factory=dict)


def _series(metric: str, version: str, track: str, extra: dict[str, str]) -> str:
    labels = {**PLACE, "version": version, "track": track, **extra}
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}, {SCRAPE}}}"


def _input_series(case: AlertCase) -> list[dict[str, str]]:
    """Series of both versions; a key "metric|k=v" adds the label k=v to that series."""
    out = []
    for version, track, values in (("v2", "canary", case.firing), ("v1", "stable", case.silent)):
        for key, value in values.items():
            metric, _, extra = key.partition("|")
            labels = dict(item.split("=", 1) for item in extra.split(",") if item)
            out.append({"series": _series(metric, version, track, labels), "values": value})
    return out


def _expected(case: AlertCase) -> dict[str, Any]:
    labels = {**PLACE, "modeldeployment": MODEL, "version": "v2", "track": "canary"}
    labels |= {"severity": case.severity, "levibot": "true", **case.extra_labels}
    return {
        "exp_labels": labels,
        "exp_annotations": {"summary": case.summary, "description": case.description},
    }


def build_promtool_tests(rule_file: str, cases: list[AlertCase]) -> dict[str, Any]:
    """promtool's `test rules` document: one test group per case."""
    tests = [
        {
            "name": f"{case.alert}: v2 past the threshold fires, v1 at it stays silent",
            "interval": "1m",
            "input_series": _input_series(case),
            "alert_rule_test": [
                {
                    "eval_time": f"{case.eval_minutes}m",
                    "alertname": case.alert,
                    "exp_alerts": [_expected(case)],
                }
            ],
        }
        for case in cases
    ]
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}


def gauge(value: float) -> str:
    return f"{value}{LENGTH}"


def counter(per_minute: float) -> str:
    return f"0+{per_minute}{LENGTH}"


ECE_DESC = "Expected calibration error is {} over the resolved predictions of the rolling window."
PSI_DESC = "Population stability index of ret_1m is {} against the training reference."
KS_DESC = (
    "Kolmogorov-Smirnov p-value of ret_1m is {}: served rows no longer look like the training data."
)
SCORE_DESC = (
    "Drift score of ret_1m (ks) is {}: the statistic over the threshold calibrated on the "
    "version's training period for the target false-alarm rate."
)
SCORE = "|feature=ret_1m,statistic=ks"
STALE_DESC = "The newest price of BTCUSDT is {} old; predictions fall back."
FEATURE = "|feature=ret_1m"
SYMBOL = "|symbol=BTCUSDT"
LATENCY = "levibot_model_latency_seconds_bucket|le="
REQUESTS = "levibot_predict_requests_total|endpoint=/v1/predict,status=200"
JUNK = "levibot_predict_requests_total|endpoint=/v1/predict,status=404"

# The seeds' figures: ECE 0.05 target / 0.06 max, PSI 0.2 / 0.25, KS p 0.05, staleness 60 s
# (3m) and 1800 s (marathon), p95 latency 0.3 s, error rate 1 %, fallback rate 5 %, 30 ticks/min.
SEED_CASES = [
    AlertCase(
        "LevibotCalibrationECEWarning",
        "warning",
        12,
        {"levibot_model_ece": gauge(0.051), "levibot_resolved_predictions": gauge(100)},
        {"levibot_model_ece": gauge(0.05), "levibot_resolved_predictions": gauge(500)},
        f"{WHO}: ECE above 0.05",
        ECE_DESC.format("0.0510"),
    ),
    AlertCase(
        "LevibotCalibrationECECritical",
        "critical",
        7,
        {"levibot_model_ece": gauge(0.061), "levibot_resolved_predictions": gauge(100)},
        {"levibot_model_ece": gauge(0.06), "levibot_resolved_predictions": gauge(500)},
        f"{WHO}: ECE above 0.06",
        ECE_DESC.format("0.0610"),
    ),
    AlertCase(  # issue 14: the score is the statistic over its calibrated threshold, 1 = at it
        "LevibotFeatureDriftScore",
        "critical",
        7,
        {"levibot_feature_drift_score" + SCORE: gauge(1.01)},
        {"levibot_feature_drift_score" + SCORE: gauge(1.0)},
        f"{WHO}: drift on ret_1m (ks) beyond its calibrated threshold",
        SCORE_DESC.format("1.01"),
        {"feature": "ret_1m", "statistic": "ks"},
    ),
    AlertCase(
        "LevibotFeatureDriftPSIWarning",
        "warning",
        12,
        {"levibot_feature_psi" + FEATURE: gauge(0.21)},
        {"levibot_feature_psi" + FEATURE: gauge(0.2)},
        f"{WHO}: PSI drift on ret_1m above 0.2",
        PSI_DESC.format("0.210"),
        {"feature": "ret_1m"},
    ),
    AlertCase(
        "LevibotFeatureDriftPSICritical",
        "critical",
        7,
        {"levibot_feature_psi" + FEATURE: gauge(0.26)},
        {"levibot_feature_psi" + FEATURE: gauge(0.25)},
        f"{WHO}: PSI drift on ret_1m above 0.25",
        PSI_DESC.format("0.260"),
        {"feature": "ret_1m"},
    ),
    AlertCase(
        "LevibotFeatureDriftKS",
        "warning",
        12,
        {"levibot_feature_ks_pvalue" + FEATURE: gauge(0.049)},
        {"levibot_feature_ks_pvalue" + FEATURE: gauge(0.05)},
        f"{WHO}: KS drift on ret_1m (p < 0.05)",
        KS_DESC.format("0.0490"),
        {"feature": "ret_1m"},
    ),
    AlertCase(
        "LevibotDataStaleWarning",
        "warning",
        5,
        {"levibot_features_staleness_seconds" + SYMBOL: gauge(61)},
        {"levibot_features_staleness_seconds" + SYMBOL: gauge(60)},
        f"{WHO}: market data for BTCUSDT older than 60s",
        STALE_DESC.format("1m 1s"),
        {"symbol": "BTCUSDT"},
    ),
    AlertCase(
        "LevibotDataStaleCritical",
        "critical",
        7,
        {"levibot_features_staleness_seconds" + SYMBOL: gauge(1801)},
        {"levibot_features_staleness_seconds" + SYMBOL: gauge(1800)},
        f"{WHO}: market data for BTCUSDT older than 1800s",
        STALE_DESC.format("30m 1s"),
        {"symbol": "BTCUSDT"},
    ),
    AlertCase(
        # 100 requests/min: v2 has 10 in (0.25, 0.5] (p95 = 0.375 s), v1 4 (p95 = 0.225 s).
        "LevibotLatencyP95High",
        "warning",
        12,
        {
            LATENCY + "0.1": counter(90),
            LATENCY + "0.25": counter(90),
            LATENCY + "0.5": counter(100),
            LATENCY + "+Inf": counter(100),
        },
        {
            LATENCY + "0.1": counter(90),
            LATENCY + "0.25": counter(96),
            LATENCY + "0.5": counter(100),
            LATENCY + "+Inf": counter(100),
        },
        f"{WHO}: p95 prediction latency above 0.3s",
        "p95 latency is 375ms.",
    ),
    AlertCase(
        "LevibotErrorRateHigh",
        "critical",
        12,
        # 4xx answers (a junk flood) neither dilute the fault rate nor count as faults
        {
            REQUESTS: counter(100),
            "levibot_model_errors_total|error_type=onnx": counter(1.1),
            JUNK: counter(10_000),
            "levibot_client_errors_total|reason=not_found": counter(10_000),
        },
        {
            REQUESTS: counter(100),
            "levibot_model_errors_total|error_type=onnx": counter(1),
            "levibot_client_errors_total|reason=invalid_request": counter(10_000),
        },
        f"{WHO}: prediction error rate above 0.01",
        "1.1% of prediction requests fail.",
    ),
    AlertCase(
        "LevibotFallbackRateHigh",
        "warning",
        12,
        {REQUESTS: counter(100), "levibot_fallback_events_total|reason=stale": counter(5.5)},
        {REQUESTS: counter(100), "levibot_fallback_events_total|reason=stale": counter(5)},
        f"{WHO}: fallback rate above 0.05",
        "5.5% of predictions fall back (stale data or model error).",
    ),
    AlertCase(
        "LevibotTickRateLow",
        "warning",
        5,
        {"levibot_market_ticks_per_minute" + SYMBOL: gauge(29)},
        {"levibot_market_ticks_per_minute" + SYMBOL: gauge(30)},
        f"{WHO}: fewer than 30 ticks/min for BTCUSDT",
        "BTCUSDT receives 29 ticks per minute.",
        {"symbol": "BTCUSDT"},
    ),
    # the operator's gauge (issue 15): 1 for the tripped breaker, 0 for a closed one
    AlertCase(
        "LevibotCircuitBreakerTripped",
        "critical",
        1,
        {"levibot_circuit_breaker_tripped|breaker=losingStreak": gauge(1)},
        {"levibot_circuit_breaker_tripped|breaker=losingStreak": gauge(0)},
        f"{WHO}: circuit breaker losingStreak tripped",
        "The losingStreak breaker tripped on the version's paper trades: every answer is HOLD"
        " until it is reset (kubectl levibot reset-breaker) or its cool-down ends with the"
        " condition cleared.",
        {"breaker": "losingStreak"},
    ),
]

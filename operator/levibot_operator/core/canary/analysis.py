"""Canary analysis: PromQL queries per version, and the verdict of each check.

Layer: core (pure). ``build_analysis_queries`` turns a target (namespace, model, version, track)
into PromQL over the predictor metrics of docs/contracts.md; the shell runs them and hands the
values back to ``assess_checks``, which says pass, fail or inconclusive per check.

Rules: a check whose value is missing, NaN, or measured on fewer than ``minSamples`` resolved
predictions is *inconclusive* — never a pass. Max thresholds pass at ``value <= max``, min
thresholds at ``value >= min``.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from levibot_operator.core.canary.spec import Thresholds


class Query(StrEnum):
    """One PromQL query of an analysis measurement."""

    SAMPLES = "samples"
    ECE = "ece"
    STABLE_ECE = "stableEce"
    KS_PVALUE = "ksPValue"
    PSI = "psi"
    ERROR_RATE = "errorRate"
    LATENCY_P95 = "latencyP95"


class Verdict(StrEnum):
    """A check's verdict. ``Waiting``: too few finished blocks (never counted as inconclusive);
    ``Equivalent`` / ``Different``: stage 1 of a judgement; ``Reading``: shown, no verdict."""

    PASS = "Pass"  # noqa: S105 - a verdict, not a password
    FAIL = "Fail"
    INCONCLUSIVE = "Inconclusive"
    WAITING = "Waiting"
    EQUIVALENT = "Equivalent"
    DIFFERENT = "Different"
    READING = "Reading"


@dataclass(frozen=True)
class AnalysisTarget:
    """Whose series to read: the ModelDeployment's namespace and name, a version and its track."""

    namespace: str
    model: str
    version: str
    track: str


@dataclass(frozen=True)
class CheckVerdict:
    """One check's outcome; ``comparison`` is ``<=`` or ``>=`` (value against threshold).

    A judgement's checks also carry the interval (``lower``, ``upper``), the rows ``n`` and the
    effective n (finished blocks); ``gating`` False marks a reading that does not decide.
    """

    name: str
    value: float | None
    threshold: float
    comparison: str
    verdict: Verdict
    reason: str
    lower: float | None = None
    upper: float | None = None
    n: int | None = None
    n_eff: int | None = None
    gating: bool = True

    def describe(self) -> str:
        """``ece=0.091 (threshold <= 0.06): Fail`` — the text used in events and registry;
        a judgement's check adds its interval, ``agreement=0.1 [0.09, 0.11] (...)``."""
        value = "none" if self.value is None else f"{self.value:.4g}"
        if self.lower is not None or self.upper is not None:
            low, high = (f"{b:.4g}" if b is not None else "?" for b in (self.lower, self.upper))
            value += f" [{low}, {high}]"
        return f"{self.name}={value} (threshold {self.comparison} {self.threshold:g})"

    @property
    def is_failing(self) -> bool:
        """A gating check that fails (stage 1's Different fails when it gates)."""
        return self.gating and self.verdict in (Verdict.FAIL, Verdict.DIFFERENT)


Values = Mapping[Query, float | None]


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def build_selector(target: AnalysisTarget) -> str:
    """The label matchers selecting one version's series."""
    labels = (
        ("namespace", target.namespace),
        ("model", target.model),
        ("version", target.version),
        ("track", target.track),
    )
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels) + "}"


def build_analysis_queries(
    candidate: AnalysisTarget, stable: AnalysisTarget, window: str
) -> dict[Query, str]:
    """PromQL for every query; ``window`` is a Prometheus range like ``5m``."""
    sel, stable_sel = build_selector(candidate), build_selector(stable)
    # No error series yet means no errors: `or vector(0)`. No requests gives 0/0 = NaN.
    # Server faults over the requests a client did not spoil: model_errors counts no client
    # error, and 4xx answers and scrapes ("other") leave the denominator, so junk traffic can
    # neither raise the rate nor dilute it (issue 12, item 2).
    errors = f"(sum(rate(levibot_model_errors_total{sel}[{window}])) or vector(0))"
    served = sel[:-1] + ',endpoint!="other",status!~"4.."}'
    requests = f"sum(rate(levibot_predict_requests_total{served}[{window}]))"
    buckets = f"sum by (le) (rate(levibot_model_latency_seconds_bucket{sel}[{window}]))"
    return {
        Query.SAMPLES: f"max(levibot_resolved_predictions{sel})",
        Query.ECE: f"max(levibot_model_ece{sel})",
        Query.STABLE_ECE: f"max(levibot_model_ece{stable_sel})",
        Query.KS_PVALUE: f"min(levibot_feature_ks_pvalue{sel})",
        Query.PSI: f"max(levibot_feature_psi{sel})",
        Query.ERROR_RATE: f"{errors} / {requests}",
        Query.LATENCY_P95: f"histogram_quantile(0.95, {buckets})",
    }


def _usable(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _difference(values: Values) -> float | None:
    candidate, stable = _usable(values.get(Query.ECE)), _usable(values.get(Query.STABLE_ECE))
    return None if candidate is None or stable is None else candidate - stable


def plan_checks(values: Values, t: Thresholds) -> list[tuple[str, float | None, float, str]]:
    """(name, value, threshold, comparison) of every enabled check."""
    plan = [
        ("ece", values.get(Query.ECE), t.ece_max, "<="),
        ("eceWorseThanStable", _difference(values), t.ece_max_worse_than_stable, "<="),
        ("ksPValue", values.get(Query.KS_PVALUE), t.ks_pvalue_min, ">="),
        ("psi", values.get(Query.PSI), t.psi_max, "<="),
        ("errorRate", values.get(Query.ERROR_RATE), t.error_rate_max, "<="),
        ("latencyP95", values.get(Query.LATENCY_P95), t.latency_p95_max_seconds, "<="),
    ]
    return [(n, v, limit, op) for n, v, limit, op in plan if limit is not None]


def assess_samples(values: Values, thresholds: Thresholds) -> CheckVerdict:
    """The minSamples gate: Pass when enough predictions are resolved, else Inconclusive."""
    samples = _usable(values.get(Query.SAMPLES))
    enough = samples is not None and samples >= thresholds.min_samples
    reason = "enough resolved predictions" if enough else "too few resolved predictions"
    verdict = Verdict.PASS if enough else Verdict.INCONCLUSIVE
    return CheckVerdict("samples", samples, float(thresholds.min_samples), ">=", verdict, reason)


def assess_check(
    name: str, value: float | None, threshold: float, comparison: str, gated: bool
) -> CheckVerdict:
    """One check; ``gated`` (too few samples) turns any outcome into Inconclusive."""
    usable = _usable(value)
    if usable is None:
        return CheckVerdict(name, None, threshold, comparison, Verdict.INCONCLUSIVE, "no data")
    if gated:
        reason = "too few resolved predictions"
        return CheckVerdict(name, usable, threshold, comparison, Verdict.INCONCLUSIVE, reason)
    ok = usable <= threshold if comparison == "<=" else usable >= threshold
    verdict = Verdict.PASS if ok else Verdict.FAIL
    reason = "within threshold" if ok else "outside threshold"
    return CheckVerdict(name, usable, threshold, comparison, verdict, reason)


def assess_checks(values: Values, thresholds: Thresholds) -> tuple[CheckVerdict, ...]:
    """Every check's verdict, the samples gate first."""
    gate = assess_samples(values, thresholds)
    gated = gate.verdict is not Verdict.PASS
    checks = (
        assess_check(name, value, limit, op, gated)
        for name, value, limit, op in plan_checks(values, thresholds)
    )
    return (gate, *checks)


def assess_measurement(verdicts: tuple[CheckVerdict, ...]) -> Verdict:
    """Over the gating checks: Fail if any fails; else Inconclusive if any is; else Waiting if
    any waits (not counted against inconclusiveLimit); Pass if all pass (Equivalent passes)."""
    if any(v.is_failing for v in verdicts):
        return Verdict.FAIL
    kinds = {v.verdict for v in verdicts if v.gating}
    if Verdict.INCONCLUSIVE in kinds:
        return Verdict.INCONCLUSIVE
    if Verdict.WAITING in kinds:
        return Verdict.WAITING
    return (
        Verdict.PASS
        if kinds and kinds <= {Verdict.PASS, Verdict.EQUIVALENT}
        else Verdict.INCONCLUSIVE
    )


def first_failure(verdicts: tuple[CheckVerdict, ...]) -> CheckVerdict | None:
    """The first failing check (named in events and the registry's rejection reason)."""
    return next((v for v in verdicts if v.is_failing), None)

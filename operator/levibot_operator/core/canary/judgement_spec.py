"""Parse a Canary analysis's ``judgement`` block: the statistical gates of issue 13.

Layer: core (pure), in ``canary``. ``spec.analysis.judgement`` (and a step's ``analysis.judgement``,
which overrides the fields it sets) says how the paired shadow rows are judged:

- ``alpha`` (0.05): the error rate of every sequential verdict, at all looks together;
- ``blockSeconds`` (0 = auto: the target's horizon + the longest feature window): the time block;
- ``budget`` (60m): how long a run may measure without a verdict; then ``onInconclusive``
  (``pause`` or ``rollback``);
- ``agreement``: stage 1, ``onDifferent`` (``rollback`` for a retrain by the same recipe,
  ``evaluate`` to go on to stage 2), ``blockSeconds`` (0 = the judgement's) and ``lags`` (the
  dependent neighbours of a block: 1 for blocks of at least horizon + feature window);
- ``nonInferiority``: stage 2, ``metric`` (``logLoss`` or ``brier``) and ``tolerance`` (the loss
  difference per prediction, candidate minus stable, that still counts as non-inferior);
- ``calibration``: ``alpha`` (0.01) of the absolute calibration test, split over the looks;
  ``relativeToStable`` (false): it fails the candidate only when the stable, tested on the same
  rows, passes it (the drift loop's canaries: on a drifted market the stable is miscalibrated
  too, and the paired loss, a proper score, compares the two);
- ``trading`` (absent: none): the paired paper-trading checks (``trading_spec``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from levibot_operator.core.canary.durations import (
    check_bounded,
    format_duration,
    parse_duration,
)
from levibot_operator.core.canary.trading_spec import (
    TradingChecksSpec,
    parse_trading_checks,
    unparse_trading_checks,
)
from levibot_operator.core.fields import check_enum, read_field

Json = Mapping[str, Any]

ON_DIFFERENT = ("rollback", "evaluate")
ON_INCONCLUSIVE = ("pause", "rollback")
METRICS = ("logLoss", "brier")
MAX_BLOCK_SECONDS = 86_400
MAX_LAGS = 100


@dataclass(frozen=True)
class AgreementSpec:
    """Stage 1: label-free agreement with the stable, against the retraining-noise envelope."""

    on_different: str = "rollback"
    block_seconds: int = 0
    lags: int = 1


@dataclass(frozen=True)
class NonInferioritySpec:
    """Stage 2: the paired loss difference on resolved outcomes, against ``tolerance``."""

    metric: str = "logLoss"
    tolerance: float = 0.01


@dataclass(frozen=True)
class CalibrationSpec:
    """The absolute calibration test of the candidate (Bonferroni over the planned looks);
    ``relative_to_stable``: a gate only while the stable passes it on the same rows."""

    alpha: float = 0.01
    relative_to_stable: bool = False


@dataclass(frozen=True)
class JudgementSpec:
    """How an analysis judges the candidate from paired shadow rows (see the module docstring)."""

    alpha: float = 0.05
    block_seconds: int = 0
    budget: timedelta = timedelta(minutes=60)
    on_inconclusive: str = "pause"
    agreement: AgreementSpec = AgreementSpec()
    non_inferiority: NonInferioritySpec = NonInferioritySpec()
    calibration: CalibrationSpec = CalibrationSpec()
    trading: TradingChecksSpec | None = None


def _probability(obj: Json, key: str, path: str, default: float, high: float = 0.5) -> float:
    value = read_field(obj, key, path, float, default)
    check_bounded(value, 1e-9, high, f"{path}.{key}")
    return value


def _count(obj: Json, key: str, path: str, default: int, *, high: int) -> int:
    value = read_field(obj, key, path, int, default)
    check_bounded(value, 0, high, f"{path}.{key}")
    return value


def parse_agreement(obj: Json, path: str) -> AgreementSpec:
    """Parse ``agreement``: ``onDifferent``, ``blockSeconds`` and ``lags``."""
    return AgreementSpec(
        on_different=check_enum(
            read_field(obj, "onDifferent", path, str, "rollback"), ON_DIFFERENT,
            f"{path}.onDifferent",
        ),
        block_seconds=_count(obj, "blockSeconds", path, 0, high=MAX_BLOCK_SECONDS),
        lags=_count(obj, "lags", path, 1, high=MAX_LAGS),
    )  # fmt: skip


def parse_non_inferiority(obj: Json, path: str) -> NonInferioritySpec:
    """Parse ``nonInferiority``: ``metric`` and ``tolerance`` (0..1 per prediction)."""
    metric = read_field(obj, "metric", path, str, "logLoss")
    tolerance = read_field(obj, "tolerance", path, float, 0.01)
    check_bounded(tolerance, 0.0, 1.0, f"{path}.tolerance")
    return NonInferioritySpec(check_enum(metric, METRICS, f"{path}.metric"), tolerance)


def _merge(base: JudgementSpec | None, obj: Json) -> Json:
    """A step's block over the analysis's: nested blocks merge field by field."""
    if base is None:
        return obj
    old = unparse_judgement(base)
    merged = {**old, **obj}
    for key in ("agreement", "nonInferiority", "calibration"):
        override = obj.get(key)
        merged[key] = {**old[key], **(override if isinstance(override, Mapping) else {})}
    if isinstance(obj.get("trading"), Mapping) and isinstance(old.get("trading"), Mapping):
        merged["trading"] = {**old["trading"], **obj["trading"]}
    return merged


def parse_judgement(obj: Json, path: str, base: JudgementSpec | None = None) -> JudgementSpec:
    """Parse a ``judgement`` block; SpecError names the first bad field."""
    obj = _merge(base, obj)
    on_inconclusive = read_field(obj, "onInconclusive", path, str, "pause")
    calibration = read_field(obj, "calibration", path, dict, {})
    trading = obj.get("trading")
    return JudgementSpec(
        alpha=_probability(obj, "alpha", path, 0.05),
        block_seconds=_count(obj, "blockSeconds", path, 0, high=MAX_BLOCK_SECONDS),
        budget=parse_duration(read_field(obj, "budget", path, str, "60m"), f"{path}.budget"),
        on_inconclusive=check_enum(on_inconclusive, ON_INCONCLUSIVE, f"{path}.onInconclusive"),
        agreement=parse_agreement(
            read_field(obj, "agreement", path, dict, {}), f"{path}.agreement"
        ),
        non_inferiority=parse_non_inferiority(
            read_field(obj, "nonInferiority", path, dict, {}), f"{path}.nonInferiority"
        ),
        calibration=CalibrationSpec(
            _probability(calibration, "alpha", f"{path}.calibration", 0.01),
            read_field(calibration, "relativeToStable", f"{path}.calibration", bool, False),
        ),
        trading=None
        if trading is None
        else parse_trading_checks(read_field(obj, "trading", path, dict), f"{path}.trading"),
    )


def unparse_judgement(spec: JudgementSpec) -> dict[str, Any]:
    """The camelCase form ``parse_judgement`` reads back to ``spec``."""
    return {
        "alpha": spec.alpha,
        "blockSeconds": spec.block_seconds,
        "budget": format_duration(spec.budget),
        "onInconclusive": spec.on_inconclusive,
        "agreement": {
            "onDifferent": spec.agreement.on_different,
            "blockSeconds": spec.agreement.block_seconds,
            "lags": spec.agreement.lags,
        },
        "nonInferiority": {
            "metric": spec.non_inferiority.metric,
            "tolerance": spec.non_inferiority.tolerance,
        },
        "calibration": {
            "alpha": spec.calibration.alpha,
            "relativeToStable": spec.calibration.relative_to_stable,
        },
        **({"trading": unparse_trading_checks(spec.trading)} if spec.trading else {}),
    }

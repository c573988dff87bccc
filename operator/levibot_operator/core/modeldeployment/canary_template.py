"""A ModelDeployment's canary template: how every new version after the first is rolled out.

Layer: core (pure), in ``modeldeployment``. ``spec.canaryTemplate`` is a Canary spec without
``target`` and ``candidate`` (steps, analysis with its judgement, progressDeadline, shadow).
``parse_canary_template`` checks its shape only: the Canary's own parser checks its fields
(``core.canary.template``, a layer above this one), naming ``spec.canaryTemplate.<field>``.
Without a template, ``DEFAULT_CANARY_TEMPLATE`` applies: the production defaults of
``examples/canary.yaml``, judged with stated error rates.

``build_template_spec`` turns the template into the spec of one Canary for one trigger: a
``schedule`` retrain is the same recipe, so the template's ``onDifferent`` (``rollback`` by
default) stands; after a ``specChange`` (a deliberate new recipe) or a ``drift`` (the market
moved) a difference from the stable is expected, so stage 1's ``onDifferent`` is ``evaluate``
and stage 2 decides.
"""

import copy
from collections.abc import Mapping
from typing import Any, Final

from levibot_operator.core.fields import SpecError

Json = Mapping[str, Any]
PATH: Final = "spec.canaryTemplate"
TRIGGER_DRIFT: Final = "drift"
EVALUATING_TRIGGERS: Final = frozenset({"specChange", TRIGGER_DRIFT})
ON_DIFFERENT_EVALUATE: Final = "evaluate"

# The production defaults (examples/canary.yaml): 10 → 25 → 50 → 100 %, an analysis at each
# weight, judged by the statistical gates at their documented defaults; the seed's ECE and
# drift thresholds are readings, errorRate and p95 latency still gate (server faults).
DEFAULT_CANARY_TEMPLATE: Final[dict[str, Any]] = {
    "progressDeadline": "10m",
    "analysis": {
        "interval": "1m",
        "count": 3,
        "failureLimit": 0,
        "inconclusiveLimit": 60,
        "consecutiveErrorLimit": 4,
        "window": "5m",
        "thresholds": {
            "eceMax": 0.06,
            "ksPValueMin": 0.05,
            "psiMax": 0.2,
            "errorRateMax": 0.01,
            "latencyP95MaxSeconds": 0.3,
        },
        "judgement": {
            "alpha": 0.05,
            "blockSeconds": 0,
            "budget": "45m",
            "onInconclusive": "pause",
            "agreement": {"onDifferent": "rollback", "blockSeconds": 30, "lags": 11},
            "nonInferiority": {"metric": "logLoss", "tolerance": 0.01},
            "calibration": {"alpha": 0.01},
        },
    },
    "steps": [
        {"setWeight": 10},
        {"analysis": {}},
        {"setWeight": 25},
        {"analysis": {}},
        {"setWeight": 50},
        {"analysis": {}},
        {"setWeight": 100},
        {"analysis": {}},
    ],
}


def parse_canary_template(obj: Json | None, path: str = PATH) -> dict[str, Any]:
    """The template (a deep copy; the default when ``obj`` is None) without the two fields the
    operator sets; its fields are checked by ``core.canary.template.check_canary_template``."""
    if obj is None:
        return copy.deepcopy(DEFAULT_CANARY_TEMPLATE)
    for key in ("target", "candidate"):
        if key in obj:
            raise SpecError(f"{path}.{key}", "is set by the operator, not in a template")
    return copy.deepcopy(dict(obj))


def _evaluate_differences(analysis: Any) -> None:
    """Set ``judgement.agreement.onDifferent: evaluate`` where an analysis block judges."""
    if not isinstance(analysis, dict) or not isinstance(analysis.get("judgement"), dict):
        return
    judgement = analysis["judgement"]
    agreement = judgement.get("agreement")
    judgement["agreement"] = {
        **(agreement if isinstance(agreement, Mapping) else {}),
        "onDifferent": ON_DIFFERENT_EVALUATE,
    }


def build_template_spec(template: Json, trigger: str) -> dict[str, Any]:
    """The Canary spec (without target and candidate) the template gives for ``trigger``."""
    spec = copy.deepcopy(dict(template))
    if trigger in EVALUATING_TRIGGERS:
        _evaluate_differences(spec.get("analysis"))
        for step in spec.get("steps") or ():
            _evaluate_differences(step.get("analysis") if isinstance(step, dict) else None)
    return spec

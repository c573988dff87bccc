"""Route a firing alert: to the live canaries whose candidate it names, or to the target's
drift policy when it names the stable version (retrain and open a new Canary).

Layer: core (pure). ``find_alerted_canaries`` reads Canary bodies; ``build_drift_canary``
returns the Canary manifest opened by the ``retrainAndCanary`` policy, with a deterministic
name (so a repeated or out-of-order delivery cannot open two), an owner reference to the
ModelDeployment (so it is garbage collected with it) and the ModelDeployment's canary template
(``spec.canaryTemplate``, or its built-in default) for the trigger ``drift``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.core.canary.status import TERMINAL, Phase
from levibot_operator.core.modeldeployment.canary_template import (
    TRIGGER_DRIFT,
    build_template_spec,
)
from levibot_operator.core.modeldeployment.manifests import build_labels, build_metadata, build_name
from levibot_operator.core.modeldeployment.spec import ModelDeployment

Body = Mapping[str, Any]
_TERMINAL_NAMES = frozenset(p.value for p in TERMINAL)


def is_live(body: Body) -> bool:
    """A canary that has not finished (Pending counts: it may already serve soon)."""
    phase = (body.get("status") or {}).get("phase") or Phase.PENDING.value
    return phase not in _TERMINAL_NAMES


def _candidate_of(body: Body) -> str | None:
    status, spec = body.get("status") or {}, body.get("spec") or {}
    version = status.get("candidateVersion") or (spec.get("candidate") or {}).get("version")
    return str(version) if version else None


def find_live_canaries(bodies: Iterable[Body], target: str) -> list[Body]:
    """Live canaries of one ModelDeployment."""
    return [b for b in bodies if (b.get("spec") or {}).get("target") == target and is_live(b)]


def find_alerted_canaries(bodies: Iterable[Body], alert: AlertTarget) -> list[str]:
    """Names of the live canaries of the alert's target whose candidate is the alert's version."""
    live = find_live_canaries(bodies, alert.modeldeployment)
    return [b["metadata"]["name"] for b in live if _candidate_of(b) == alert.version]


def build_drift_canary_name(md: ModelDeployment, stable: str) -> str:
    """One drift canary per drifting stable version."""
    return build_name(md.name, "drift", stable)


def build_drift_canary(md: ModelDeployment, stable: str, alert: AlertTarget) -> dict[str, Any]:
    """The Canary that retrains ``md`` and rolls the new version out as its template says."""
    labels = build_labels(md, "canary", **{c.LABEL_TRIGGER: TRIGGER_DRIFT})
    metadata = build_metadata(md, build_drift_canary_name(md, stable), labels)
    metadata["annotations"] = {
        f"{c.ANNOTATION_PREFIX}/opened-by": f"alert {alert.alertname} on {stable}",
    }
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.CANARY_KIND,
        "metadata": metadata,
        "spec": {
            "target": md.name,
            "candidate": {"train": True},
            **build_template_spec(md.spec.canary_template, TRIGGER_DRIFT),
        },
    }

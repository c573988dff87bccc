"""Route a firing alert to the canaries it concerns: the live canaries whose candidate it
names (a fault of the candidate: roll back), or, for a drift alert, every live canary of its
target (the market's drift or the candidate's: ``core.canary.market_drift`` decides).

Layer: core (pure): reads Canary bodies. The drift policy is not an alert's business: the
ModelDeployment's loop (``core.modeldeployment.drift_retrain``) reads the alert's state itself.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.core.canary.status import TERMINAL, Phase

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

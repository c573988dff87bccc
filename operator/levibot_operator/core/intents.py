"""Every write intent the core asks the shell to make, each defined once.

Layer: core (pure), the bottom of the core. The ModelDeployment and the Canary planners both
return these values; the shell applies them. Every intent is idempotent, so a crash at any point
converges on the next pass.
"""

from dataclasses import dataclass
from enum import StrEnum

EVENT_NORMAL = "Normal"
EVENT_WARNING = "Warning"


@dataclass(frozen=True)
class ApplyObject:
    """Server-side apply of a manifest; ``field_manager`` None is the operator's own."""

    manifest: dict[str, object]
    field_manager: str | None = None


@dataclass(frozen=True)
class CreateJob:
    """Create the trainer Job (idempotent: an existing Job of that name is left alone)."""

    manifest: dict[str, object]


@dataclass(frozen=True)
class CreateCanary:
    """Create the Canary that rolls a new version out (idempotent: one of that name is left
    alone, whatever its phase)."""

    manifest: dict[str, object]


@dataclass(frozen=True)
class DeleteDeployment:
    """Delete a predictor Deployment (a replaced stable version)."""

    name: str
    version: str


@dataclass(frozen=True)
class DeleteObject:
    """Delete a namespaced object the operator no longer wants (an HPA or PDB whose setting was
    removed); one already gone is fine."""

    api_version: str
    kind: str
    name: str


@dataclass(frozen=True)
class SetRegistryStatus:
    """Set a version's registry status (``active``, ``retired``, ``rejected``) with a reason."""

    version: str
    status: str
    reason: str


@dataclass(frozen=True)
class EventIntent:
    """A Kubernetes Event on the object being reconciled."""

    reason: str
    message: str
    type: str = EVENT_NORMAL


Intent = (
    ApplyObject | CreateJob | CreateCanary | DeleteDeployment | DeleteObject | SetRegistryStatus
)


class Scale(StrEnum):
    """How a side is scaled: not at all, in proportion to the weight, or fully."""

    ZERO = "Zero"
    WEIGHTED = "Weighted"
    FULL = "Full"


@dataclass(frozen=True)
class TrafficIntent:
    """Desired canary weight (0..100) and how each side is scaled."""

    weight: int
    candidate: Scale
    stable: Scale

"""The Canary's ``status.conditions``, derived from its phase, reason and message alone.

Layer: core (pure), in ``canary``. Kubernetes convention (type, status, reason, message,
lastTransitionTime, observedGeneration), so ``kubectl wait --for=condition=Promoted canary/x``
works. Each type, and when it is ``True``:

- ``Progressing``: the canary is moving on its own (Pending, Training, Progressing, Promoting).
- ``Paused``: it waits for someone or something (Paused: a pause step, the market's drift, an
  inconclusive or errored analysis; Halted: the kill-switch of its target).
- ``Promoted``: the candidate became the stable version (Succeeded).
- ``RolledBack``: all traffic went back to the stable version (RolledBack).
- ``Ready``: the canary has finished with a verdict (Succeeded or RolledBack) and its traffic
  has settled there; one ``kubectl wait --for=condition=Ready`` waits for either outcome.

A ``True`` condition carries the status's reason and message; a ``False`` one names the phase
as its reason. The lastTransitionTime changes only when a condition's status changes, so
deriving them again from the same status writes nothing new.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from levibot_operator.core.canary.status import CanaryStatus, Phase, is_traffic_settled
from levibot_operator.core.modeldeployment.status import (
    Condition,
    build_condition_json,
    build_conditions,
    parse_condition,
)

PROGRESSING, PAUSED, PROMOTED, ROLLED_BACK, READY = (
    "Progressing",
    "Paused",
    "Promoted",
    "RolledBack",
    "Ready",
)
CONDITION_TYPES = (PROGRESSING, PAUSED, PROMOTED, ROLLED_BACK, READY)
MOVING = frozenset({Phase.PENDING, Phase.TRAINING, Phase.PROGRESSING, Phase.PROMOTING})
WAITING = frozenset({Phase.PAUSED, Phase.HALTED})
REASON_PATTERN = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")  # metav1.Condition's


def is_condition_true(status: CanaryStatus, kind: str) -> bool:
    """Whether condition ``kind`` holds for ``status`` (the table in the module docstring)."""
    phase = status.phase
    if kind == PROGRESSING:
        return phase in MOVING
    if kind == PAUSED:
        return phase in WAITING
    if kind == PROMOTED:
        return phase is Phase.SUCCEEDED
    if kind == ROLLED_BACK:
        return phase is Phase.ROLLED_BACK
    settled = is_traffic_settled(status)
    return phase in (Phase.SUCCEEDED, Phase.ROLLED_BACK) and settled


def build_condition(status: CanaryStatus, kind: str) -> Condition:
    """One condition, without its time (``merge_conditions`` stamps it)."""
    held = is_condition_true(status, kind)
    reason = status.reason if held and REASON_PATTERN.match(status.reason) else status.phase.value
    if kind == READY and not held and status.phase in (Phase.SUCCEEDED, Phase.ROLLED_BACK):
        reason = "TrafficSettling"
    message = status.message or f"phase {status.phase.value}"
    return Condition(kind, "True" if held else "False", reason, message, "", 0)


def plan_conditions(
    status: CanaryStatus, old: Sequence[Mapping[str, Any]], now: datetime, generation: int
) -> list[dict[str, Any]]:
    """``status.conditions`` for ``status``, merged over the ``old`` JSON entries: a condition
    keeps its lastTransitionTime while its status is unchanged."""
    before = tuple(parse_condition(x) for x in old if x.get("type") in CONDITION_TYPES)
    new = tuple(build_condition(status, kind) for kind in CONDITION_TYPES)
    merged = build_conditions(before, new, now.replace(microsecond=0), generation)
    order = {kind: i for i, kind in enumerate(CONDITION_TYPES)}
    ranked = sorted(merged, key=lambda x: order[x.type])
    return [build_condition_json(x) for x in ranked]

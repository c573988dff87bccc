"""What a written Canary transition announces: a model switch (counted) and a notification.

Layer: core (pure), in ``canary``. Both are planned from the status before and after ONE
written status change, so a tick that writes nothing (a repeat, a retry after a conflict)
announces nothing, and each promotion or rollback is counted exactly once.

Notification kinds: ``promoted`` (into Succeeded), ``rolledBack`` (into RolledBack), ``phase``
(any other phase change), ``step`` (a new step in the same phase) and ``verdict`` (a check of
the analysis reached a new verdict, no transition).
"""

from datetime import datetime
from typing import Any

from levibot_operator.core.canary.status import CanaryStatus, Phase
from levibot_operator.core.fields import format_time

PROMOTION, ROLLBACK = "promotion", "rollback"


def plan_switch(old: CanaryStatus, new: CanaryStatus) -> str | None:
    """``promotion`` or ``rollback`` when this change makes one, else None."""
    if new.phase is old.phase:
        return None
    if new.phase is Phase.SUCCEEDED:
        return PROMOTION
    return ROLLBACK if new.phase is Phase.ROLLED_BACK else None


def plan_notice_kind(old: CanaryStatus, new: CanaryStatus) -> str | None:
    """The notification kind of this change, or None when it is not worth one."""
    switch = plan_switch(old, new)
    if switch is not None:
        return "promoted" if switch == PROMOTION else "rolledBack"
    if new.phase is not old.phase:
        return "phase"
    if len(new.history) != len(old.history) or new.history[-1:] != old.history[-1:]:
        return "step"
    verdicts = {c.name: c.verdict for c in new.checks}
    return "verdict" if verdicts != {c.name: c.verdict for c in old.checks} else None


def build_notice(
    kind: str, status: CanaryStatus, now: datetime, *, namespace: str, name: str, target: str
) -> dict[str, Any]:
    """The JSON body posted to the notification webhook."""
    return {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "target": target,
        "phase": status.phase.value,
        "reason": status.reason,
        "message": status.message,
        "stableVersion": status.stable_version,
        "candidateVersion": status.candidate_version,
        "time": format_time(now.replace(microsecond=0)),
    }

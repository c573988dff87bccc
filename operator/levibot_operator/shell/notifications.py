"""What the canary shell does once a status change is written: count a model switch, notify.

Layer: shell. Called right after the guarded status write succeeded (never before, never on
a tick that writes nothing), so a promotion or rollback is counted once, even across retries;
the notification is only enqueued (``adapters.notifier``): the rollback never waits for it.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.adapters.notifier import Notifier
from levibot_operator.core.canary.notices import build_notice, plan_notice_kind, plan_switch
from levibot_operator.core.canary.status import CanaryStatus


def announce_written(
    metrics: OperatorMetrics,
    notifier: Notifier | None,
    body: Mapping[str, Any],
    old: CanaryStatus,
    new: CanaryStatus,
    *,
    now: datetime,
) -> None:
    """The switch counter and the notification of one written change ``old`` -> ``new``."""
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    target = str((body.get("spec") or {}).get("target") or "")
    switch = plan_switch(old, new)
    if switch is not None:
        metrics.count_switch(namespace, target, switch)
    kind = plan_notice_kind(old, new)
    if notifier is not None and kind is not None:
        notifier.notify(build_notice(kind, new, now, namespace=namespace, name=name, target=target))

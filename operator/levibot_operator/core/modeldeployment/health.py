"""The ModelDeployment's health conditions from outside systems: registry and data freshness.

Layer: core (pure). ``DatabaseReachable`` follows the registry calls the reconcile made (a
missing DSN Secret or an unreachable database turns it False; it turns True again by itself on
the next successful call; with no call this time, the previous condition stays).
``DataFresh`` compares ``max(levibot_features_staleness_seconds)`` of the model's predictors
with ``spec.serving.stalenessLimitSeconds``; Unknown when Prometheus cannot say.
"""

from levibot_operator import constants as c
from levibot_operator.core.modeldeployment.observation import Snapshot
from levibot_operator.core.modeldeployment.status import Condition, find_condition

NOT_MEASURED = Condition(c.COND_DATA_FRESH, "Unknown", c.REASON_UNKNOWN, "no Prometheus configured")


def build_database_condition(snap: Snapshot) -> Condition | None:
    """DatabaseReachable from this reconcile's registry calls; None keeps the previous one."""
    if snap.registry_error is not None:
        message = f"model registry unavailable: {snap.registry_error}"
        return Condition(c.COND_DATABASE, "False", c.REASON_REGISTRY_UNAVAILABLE, message)
    if snap.registry_checked:
        return Condition(c.COND_DATABASE, "True", c.REASON_REGISTRY_REACHABLE, "registry answered")
    previous = find_condition(snap.status.conditions, c.COND_DATABASE)
    return (
        None
        if previous is not None
        else Condition(c.COND_DATABASE, "Unknown", c.REASON_UNKNOWN, "registry not consulted yet")
    )


def build_data_fresh_condition(snap: Snapshot) -> Condition:
    """DataFresh: True when the worst staleness is within the spec's limit."""
    fresh, limit = snap.freshness, snap.md.spec.serving.staleness_limit_seconds
    if fresh is None:
        return NOT_MEASURED
    if fresh.error is not None:
        message = f"Prometheus unreachable: {fresh.error}"
        return Condition(c.COND_DATA_FRESH, "Unknown", c.REASON_PROMETHEUS_UNREACHABLE, message)
    if fresh.staleness_seconds is None:
        message = "no levibot_features_staleness_seconds series for this model yet"
        return Condition(c.COND_DATA_FRESH, "Unknown", c.REASON_NO_STALENESS_DATA, message)
    value = fresh.staleness_seconds
    if value <= limit:
        text = f"features within the staleness limit ({limit}s)"
        return Condition(c.COND_DATA_FRESH, "True", c.REASON_DATA_FRESH, text)
    text = f"features {value:.0f}s old (limit {limit}s): predictors fall back"
    return Condition(c.COND_DATA_FRESH, "False", c.REASON_DATA_STALE, text)


def build_freshness_query(namespace: str, model: str) -> str:
    """PromQL of the worst feature staleness of one ModelDeployment's predictors."""
    return f'max(levibot_features_staleness_seconds{{namespace="{namespace}",model="{model}"}})'

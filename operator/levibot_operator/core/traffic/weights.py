"""Traffic arithmetic: weight ↔ replicas, achieved weight, and the HTTPRoute's weights.

Layer: core (pure).

``replicas`` provider: one Service selects both versions, so the candidate's share of traffic is
its share of ready pods. The stable side keeps all ``S`` of its replicas until promotion
completes; for a desired weight ``w`` the candidate gets::

    c = floor(w·S / (100 - w))       the most pods whose share c/(S+c) does not exceed w
    c = max(c, 1)       when w > 0   (a non-zero step always exercises the candidate)
    c = min(c, cap)                  (w = 100, and large w, would need unbounded pods)

and the weight actually achieved, ``100·c/(S+c)``, is reported as is (e.g. w=25, S=3 → c=1,
achieved 25; w=10, S=3 → c=1, achieved 25: above desired only because of the one-pod floor).

``S`` is the stable Deployment's OBSERVED replica count (``plan_stable_replicas``), not
``spec.serving.replicas``: with ``spec.serving.autoscaling`` a HorizontalPodAutoscaler owns the
stable side's ``replicas`` (the operator then leaves that field out of what it applies, so they
never fight), and the candidate follows it: stable scaled 2 → 6 at w=25 gives c = 25·6/75 = 2
instead of 1. The candidate is never autoscaled itself; its count is re-planned every tick.

The HTTPRoute itself is built in ``traffic.routes``.
"""

from dataclasses import dataclass

from levibot_operator.core.intents import Scale, TrafficIntent


@dataclass(frozen=True)
class ReplicaPlan:
    """Replica counts of both sides and the weight they give the candidate (0..100)."""

    candidate: int
    stable: int
    achieved_weight: float


def assess_achieved_weight(candidate_ready: int, stable_ready: int) -> float:
    """The candidate's share of traffic, in percent, when one Service selects both sides."""
    total = candidate_ready + stable_ready
    return 0.0 if total <= 0 else 100.0 * candidate_ready / total


def plan_candidate_replicas(weight: int, stable_replicas: int, cap: int) -> int:
    """Candidate pods for ``weight`` beside ``stable_replicas`` stable ones (module rule)."""
    if not 0 <= weight <= 100:
        raise ValueError(f"weight must be within 0..100 (got {weight})")
    if weight == 0 or cap <= 0:
        return 0
    if weight == 100 or stable_replicas <= 0:
        return cap
    exact = (weight * stable_replicas) // (100 - weight)
    return min(max(exact, 1), cap)


def plan_stable_replicas(observed: int | None, configured: int) -> int:
    """``S``: the stable Deployment's observed ``spec.replicas`` (what an autoscaler set), or
    the configured count while it is not observed (absent, or scaled to zero)."""
    return observed if observed is not None and observed > 0 else configured


def plan_replicas(intent: TrafficIntent, replicas: int, cap: int | None = None) -> ReplicaPlan:
    """Both sides' replicas for an intent; ``replicas`` is the target's full count.

    ``cap`` bounds the candidate (default: ``replicas``, so the canary never outgrows stable).
    """
    limit = replicas if cap is None else cap
    stable = replicas if intent.stable is Scale.FULL else 0
    if intent.candidate is Scale.ZERO:
        candidate = 0
    elif intent.candidate is Scale.FULL:
        candidate = replicas
    else:
        candidate = plan_candidate_replicas(intent.weight, stable, limit)
    return ReplicaPlan(candidate, stable, assess_achieved_weight(candidate, stable))


@dataclass(frozen=True)
class RouteWeights:
    stable: int
    candidate: int
    mirror_percent: int


def plan_route_weights(
    intent: TrafficIntent, candidate_available: bool, shadow_percent: int
) -> RouteWeights:
    """HTTPRoute weights: no weight and no mirror towards an unavailable candidate.

    The mirror copies ``shadow_percent`` of requests to a running candidate that does not
    already serve everything (mirrored responses are discarded by the gateway).
    """
    weight = intent.weight if candidate_available else 0
    running = candidate_available and intent.candidate is not Scale.ZERO
    mirror = shadow_percent if running and weight < 100 else 0
    return RouteWeights(stable=100 - weight, candidate=weight, mirror_percent=mirror)

"""What a Canary spec asks of its target ModelDeployment's traffic provider.

Layer: core (pure). The provider lives on the target (``spec.traffic.provider``), so the Canary's
parser cannot see it: this check runs when the canary starts, on the observed provider.
``spec.shadow.percent`` mirrors live traffic to the candidate with the HTTPRoute's RequestMirror
filter; the replicas provider has no mirror, and silently ignoring the field would let a user
believe the candidate sees that traffic. (Shadow *scoring* in the predictor pairs every request
whatever the provider; it needs no ``shadow.percent``.)
"""

from levibot_operator import constants as c
from levibot_operator.core.canary.spec import CanarySpec


def find_provider_conflict(spec: CanarySpec, provider: str | None) -> tuple[str, str] | None:
    """(field, problem) when the spec needs what the target's provider cannot do, else None."""
    if spec.shadow_percent > 0 and provider not in (None, c.PROVIDER_GATEWAY_API):
        problem = (
            f"mirroring live traffic to the candidate requires traffic.provider "
            f"{c.PROVIDER_GATEWAY_API} on the ModelDeployment {spec.target}, which uses "
            f"{provider}; set shadow.percent to 0 or switch the ModelDeployment to "
            f"{c.PROVIDER_GATEWAY_API}"
        )
        return "spec.shadow.percent", problem
    return None

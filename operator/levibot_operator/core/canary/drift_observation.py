"""What the shell observed of drift alerts for a canary's target (read by ``market_drift``).

Layer: core (pure value), in ``canary``; it imports nothing of the canary, so the observation
(``decision``) and the rule (``market_drift``) can both hold it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DriftObservation:
    """Drift alerts firing for the canary's target, by version, and both versions' drift scores.

    ``alerts``: (alertname, version) pairs firing now; ``stable_score``: the stable version's
    highest normalised drift score at any time over the confirmation span (None: no reading);
    ``candidate_score``: the candidate's highest score at its lowest over that span, so above 1
    only when it stayed above 1 throughout (None: no reading); ``drift_canary``: the canary was
    opened by the drift policy (the market's drift is what it is there to be judged on)."""

    alerts: tuple[tuple[str, str], ...] = ()
    stable_score: float | None = None
    drift_canary: bool = False
    candidate_score: float | None = None

    def names(self, version: str | None) -> list[str]:
        return sorted({name for name, v in self.alerts if v == version})

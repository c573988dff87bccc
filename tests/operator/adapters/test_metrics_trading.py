"""The operator's paper-trading and circuit-breaker series (issue 15, 5): per version and window,
labelled like the predictors' series; a version gone from the status leaves no series behind."""

from prometheus_client import CollectorRegistry

from levibot_operator.adapters.metrics import OperatorMetrics
from levibot_operator.core.modeldeployment.breaker_state import TRIPPED, BreakerState

ROW = {
    "version": "v1", "track": "stable", "window": "1d", "trades": 20, "pnl": -0.05,
    "sharpe": None, "maxDrawdown": 0.07, "winRate": 0.15, "winRateLow": 0.05, "winRateHigh": 0.36,
}  # fmt: skip


def test_paper_and_breaker_series() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    metrics.observe_paper("ns", "md", [ROW])
    labels = {"namespace": "ns", "model": "md", "version": "v1", "track": "stable", "window": "1d"}
    assert registry.get_sample_value("levibot_paper_pnl", labels) == -0.05
    assert registry.get_sample_value("levibot_paper_trades", labels) == 20
    assert registry.get_sample_value("levibot_paper_sharpe", labels) is None
    assert registry.get_sample_value("levibot_paper_win_rate", {**labels, "bound": "upper"}) == 0.36
    metrics.observe_paper("ns", "md", [])
    assert registry.get_sample_value("levibot_paper_pnl", labels) is None

    readings = ({"breaker": "losingStreak", "value": 5.0, "limit": 5.0},)
    state = BreakerState(TRIPPED, "v1", "losingStreak", readings=readings)
    metrics.observe_breaker("ns", "md", state)
    where = {"namespace": "ns", "model": "md", "version": "v1", "track": "stable"}
    assert (
        registry.get_sample_value(
            "levibot_circuit_breaker_tripped", {**where, "breaker": "losingStreak"}
        )
        == 1.0
    )
    assert (
        registry.get_sample_value(
            "levibot_circuit_breaker_tripped", {**where, "breaker": "winRate"}
        )
        == 0.0
    )
    assert (
        registry.get_sample_value(
            "levibot_circuit_breaker_reading",
            {**where, "breaker": "losingStreak", "bound": "limit"},
        )
        == 5.0
    )

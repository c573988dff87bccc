"""Parse ``spec.trading``: the costs paper trades are settled with (issue 15).

Layer: core (pure). The trainer's backtest (through its Job's arguments), the circuit breakers and
the canary's trading checks all settle BUY/SELL signals with ``levibot_common.trading`` using these
costs, so a version's paper results mean the same wherever they are shown. Bounds are the CRD's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from levibot_common.trading import Costs
from levibot_operator.core.fields import SpecError, read_field

Json = Mapping[str, Any]
MAX_BPS = 1000.0


@dataclass(frozen=True)
class TradingSpec:
    """Per-side fee and slippage in basis points of the notional (the CRD's defaults)."""

    fee_bps: float = 10.0
    slippage_bps: float = 5.0

    def costs(self) -> Costs:
        """The costs for ``levibot_common.trading.simulate_trades``."""
        return Costs(fee_bps=self.fee_bps, slippage_bps=self.slippage_bps)


def parse_bps(obj: Json, key: str, default: float, path: str) -> float:
    """A basis-point field within 0..1000."""
    value = read_field(obj, key, path, float, default)
    if not 0.0 <= value <= MAX_BPS:
        raise SpecError(f"{path}.{key}", f"must be within 0..{MAX_BPS:g} (got {str(value)[:24]})")
    return value


def parse_trading(obj: Json, path: str = "spec.trading") -> TradingSpec:
    """Parse ``spec.trading``; absent fields take the CRD's defaults."""
    d = TradingSpec()
    return TradingSpec(
        fee_bps=parse_bps(obj, "feeBps", d.fee_bps, path),
        slippage_bps=parse_bps(obj, "slippageBps", d.slippage_bps, path),
    )


def build_backtest_env(
    trading: TradingSpec, buy_threshold: float, sell_threshold: float
) -> dict[str, str]:
    """The trainer's backtest settings (LEVIBOT_TRAINER_ suffixes, docs/contracts.md): the serving
    policy's thresholds and these costs, so the backtest trades as the predictor would."""
    return {
        "BUY_THRESHOLD": repr(buy_threshold),
        "SELL_THRESHOLD": repr(sell_threshold),
        "FEE_BPS": repr(trading.fee_bps),
        "SLIPPAGE_BPS": repr(trading.slippage_bps),
    }

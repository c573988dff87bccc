"""Parse a judgement's ``trading`` block: the paired paper-trading checks (issue 15).

Layer: core (pure), in ``canary``. ``spec.analysis.judgement.trading`` (absent: no trading
check; ``{}``: every default) compares the candidate's paper returns with the stable's on the
same requests (``core.canary.trading_checks``). The defaults are the go-live guide's (seed 003):

- ``promoteSharpeDelta`` (0.2): the check passes when the lower bound of the annualised Sharpe
  difference (candidate minus stable) is at least this;
- ``rollbackSharpeDelta`` (0.3): it fails when the upper bound is below minus this;
- ``drawdownRatioMax`` (0.9): the candidate's max drawdown over the stable's, a reading;
- ``blockSeconds`` (0 = the judgement's block) and ``lags`` (1) of the time blocks.

The costs the paper trades pay are the ModelDeployment's ``spec.trading`` (fee, slippage).

The effective rollback threshold. The seed's 0.3 is the stated default, but pairing makes the
difference precise enough that healthy retrains genuinely differ by more (on the benchmark's
seed market a nightly retrain's expected difference is -1 to -6 annualised: it trades a little
more and pays the round trip). So when the stable version recorded its retraining noise
(the trainer's ``backtest.retrainNoise``), the check rolls back only below
``-max(rollbackSharpeDelta, margin)`` (the recorded margin in the check's units) and judges the
difference against the band a healthy retrain stays in; status shows that effective threshold
(``trading_checks``, ``trading_band``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from levibot_operator.core.canary.durations import check_bounded
from levibot_operator.core.fields import read_field

Json = Mapping[str, Any]
MAX_SHARPE_DELTA = 100.0
MAX_BLOCK_SECONDS = 86_400
MAX_LAGS = 100


@dataclass(frozen=True)
class TradingChecksSpec:
    """The trading checks of a judgement (see the module docstring)."""

    promote_sharpe_delta: float = 0.2
    rollback_sharpe_delta: float = 0.3
    drawdown_ratio_max: float = 0.9
    block_seconds: int = 0
    lags: int = 1


def _number(obj: Json, key: str, path: str, default: float, high: float) -> float:
    value = read_field(obj, key, path, float, default)
    check_bounded(value, 0.0, high, f"{path}.{key}")
    return value


def _count(obj: Json, key: str, path: str, default: int, high: int) -> int:
    value = read_field(obj, key, path, int, default)
    check_bounded(value, 0, high, f"{path}.{key}")
    return value


def parse_trading_checks(obj: Json, path: str) -> TradingChecksSpec:
    """Parse ``trading``; SpecError names the first bad field."""
    return TradingChecksSpec(
        promote_sharpe_delta=_number(obj, "promoteSharpeDelta", path, 0.2, MAX_SHARPE_DELTA),
        rollback_sharpe_delta=_number(obj, "rollbackSharpeDelta", path, 0.3, MAX_SHARPE_DELTA),
        drawdown_ratio_max=_number(obj, "drawdownRatioMax", path, 0.9, MAX_SHARPE_DELTA),
        block_seconds=_count(obj, "blockSeconds", path, 0, MAX_BLOCK_SECONDS),
        lags=_count(obj, "lags", path, 1, MAX_LAGS),
    )


def unparse_trading_checks(spec: TradingChecksSpec) -> dict[str, Any]:
    """The camelCase form ``parse_trading_checks`` reads back to ``spec``."""
    return {
        "promoteSharpeDelta": spec.promote_sharpe_delta,
        "rollbackSharpeDelta": spec.rollback_sharpe_delta,
        "drawdownRatioMax": spec.drawdown_ratio_max,
        "blockSeconds": spec.block_seconds,
        "lags": spec.lags,
    }

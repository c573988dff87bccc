"""spec.trading (issue 15): paper-trade costs, their defaults and bounds, and the CRD agreeing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from levibot_common.trading import Costs
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.trading import TradingSpec, parse_trading
from levibot_operator.core.modeldeployment.workloads import build_trainer_env
from levibot_operator.settings import OperatorSettings
from levibot_trainer.settings import TrainerSettings
from tests.operator.support.fakes import md_body

CRD = Path(__file__).resolve().parents[4] / "crds" / "modeldeployment.yaml"


def with_trading(trading: Any) -> dict[str, Any]:
    """The example ModelDeployment with ``spec.trading`` set."""
    body = md_body()
    body["spec"]["trading"] = trading
    return body


def test_absent_trading_takes_the_defaults() -> None:
    body = md_body()
    body["spec"].pop("trading", None)
    spec = parse_modeldeployment(body).spec
    assert spec.trading == TradingSpec(fee_bps=10.0, slippage_bps=5.0)
    assert spec.trading.costs() == Costs(fee_bps=10.0, slippage_bps=5.0)


def test_trading_costs_are_read_as_floats() -> None:
    spec = parse_modeldeployment(with_trading({"feeBps": 4, "slippageBps": 0.5})).spec
    assert spec.trading == TradingSpec(fee_bps=4.0, slippage_bps=0.5)
    assert spec.trading.costs().round_trip() == pytest.approx(2 * 4.5 / 1e4)
    assert parse_trading({"feeBps": 0, "slippageBps": 0}).costs().round_trip() == 0.0


@pytest.mark.parametrize(
    ("trading", "field"),
    [
        ({"feeBps": -1}, "spec.trading.feeBps"),
        ({"feeBps": 1000.5}, "spec.trading.feeBps"),
        ({"slippageBps": "5"}, "spec.trading.slippageBps"),
        ({"slippageBps": True}, "spec.trading.slippageBps"),
        ({"slippageBps": float("nan")}, "spec.trading.slippageBps"),
        ({"feeBps": 10**400}, "spec.trading.feeBps"),
        ("cheap", "spec.trading"),
    ],
)
def test_invalid_trading_is_named(trading: Any, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_modeldeployment(with_trading(trading))
    assert caught.value.field == field


def test_the_crd_has_the_parsers_defaults_and_bounds() -> None:
    crd = yaml.safe_load(CRD.read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    props = schema["properties"]["spec"]["properties"]["trading"]["properties"]
    default = TradingSpec()
    assert props["feeBps"]["default"] == default.fee_bps
    assert props["slippageBps"]["default"] == default.slippage_bps
    for key in ("feeBps", "slippageBps"):
        assert (props[key]["minimum"], props[key]["maximum"]) == (0, 1000)


def test_the_trainer_job_backtests_with_the_spec_thresholds_and_costs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = with_trading({"feeBps": 2.5, "slippageBps": 1})
    body["spec"]["serving"].update(buyThreshold=0.6, sellThreshold=0.4)
    env = build_trainer_env(
        parse_modeldeployment(body), "v3", OperatorSettings().build_core_settings()
    )
    for item in env:
        monkeypatch.setenv(str(item["name"]), str(item.get("value", "postgresql://u@db/x")))
    settings = TrainerSettings()  # type: ignore[call-arg]
    assert (settings.buy_threshold, settings.sell_threshold) == (0.6, 0.4)
    assert (settings.fee_bps, settings.slippage_bps) == (2.5, 1.0)

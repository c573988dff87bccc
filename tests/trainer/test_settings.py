"""TrainerSettings and the CLI's flag layer: env, flags over env, errors that name the field."""

from __future__ import annotations

import pytest

from levibot_trainer.cli import build_settings, build_train_parser, parse_overrides
from levibot_trainer.errors import BadConfigError
from tests.trainer.support.data import make_settings


def test_env_is_read_with_the_contract_prefix_and_flags_override_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "DSN": "postgresql://u:secret@db/x", "MODEL_NAME": "ns.md", "VERSION": "v3",
        "MODEL_TYPE": "histGradientBoosting", "HYPERPARAMETERS": '{"max_iter": 50}',
        "CALIBRATION": "sigmoid", "FEATURES": '["ret_1m", "vol_5m"]', "SYMBOLS": '["BTCUSDT"]',
        "HORIZON_SECONDS": "120", "DATA_WINDOW_SECONDS": "7200", "RESULT_PATH": "r.json",
    }  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(f"LEVIBOT_TRAINER_{key}", value)
    flags = vars(build_train_parser().parse_args(["--version", "v4", "--symbols", '["ETHUSDT"]']))
    settings = build_settings(parse_overrides(flags))
    assert settings.version == "v4"
    assert settings.symbols == ["ETHUSDT"]
    assert settings.model_name == "ns.md"
    assert settings.hyperparameters == {"max_iter": 50}
    assert settings.features == ["ret_1m", "vol_5m"]
    assert settings.horizon_seconds == 120
    assert settings.effective_gap_seconds == 120
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"features": ["ret_1m", "ret_2m"]}, "features: .*unknown feature 'ret_2m'"),
        ({"gap_seconds": 30, "horizon_seconds": 60}, "gap_seconds .30. must be >= horizon"),
        ({"data_window_seconds": 300}, "shorter than one feature window plus the horizon"),
        ({"model_type": "xgboost"}, "model_type: Input should be"),
        ({"calibration": "platt"}, "calibration: Input should be"),
        ({"calibration": "isotonic"}, "calibration: Input should be .none. or .sigmoid."),
        ({"symbols": []}, "symbols: List should have at least 1 item"),
        ({"horizon_seconds": 0}, "horizon_seconds: Input should be greater than 0"),
        ({"end_time": "2025-01-01T00:00:00"}, "end_time: .*time zone"),
    ],
)
def test_bad_settings_name_the_field(overrides: dict[str, object], message: str) -> None:
    values = make_settings().model_dump()
    values["dsn"] = "postgresql://x@h/d"
    values.update(overrides)
    with pytest.raises(BadConfigError, match=message):
        build_settings(values)


def test_missing_required_fields_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DSN", "MODEL_NAME", "VERSION", "SYMBOLS"):
        monkeypatch.delenv(f"LEVIBOT_TRAINER_{key}", raising=False)
    with pytest.raises(BadConfigError, match=r"dsn: Field required.*model_name: Field required"):
        build_settings({})


def test_json_flags_must_be_json() -> None:
    with pytest.raises(BadConfigError, match="symbols: not valid JSON"):
        parse_overrides({"symbols": "BTCUSDT,ETHUSDT"})

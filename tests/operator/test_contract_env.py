"""The env the operator renders is accepted by the trainer's and predictor's settings."""

from __future__ import annotations

import pytest

from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.workloads import build_predictor_env, build_trainer_env
from levibot_operator.settings import OperatorSettings
from levibot_predictor.settings import PredictorSettings
from levibot_trainer.settings import TrainerSettings
from tests.operator.support.fakes import md_body

DSN = "postgresql://u:p@db:5432/levibot"


def export(monkeypatch: pytest.MonkeyPatch, env: list[dict[str, object]]) -> None:
    for item in env:
        value = item.get("value", DSN)  # secretKeyRef -> the Secret's value at run time
        monkeypatch.setenv(str(item["name"]), str(value))


def test_trainer_settings_accept_the_job_env(monkeypatch: pytest.MonkeyPatch) -> None:
    md = parse_modeldeployment(md_body())
    export(monkeypatch, build_trainer_env(md, "v7", OperatorSettings().build_core_settings()))
    settings = TrainerSettings()  # type: ignore[call-arg]
    dumped = settings.model_dump()
    assert dumped["version"] == "v7"
    assert dumped["model_name"] == "prod.btc-direction"


def test_envelope_retrains_reach_the_trainer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13, item 2: spec.training.envelope.retrains → LEVIBOT_TRAINER_ENVELOPE_RETRAINS."""
    settings = OperatorSettings().build_core_settings()
    export(monkeypatch, build_trainer_env(parse_modeldeployment(md_body()), "v1", settings))
    assert TrainerSettings().envelope_retrains == 8  # type: ignore[call-arg]
    body = md_body()
    body["spec"]["training"]["envelope"] = {"retrains": 4}
    export(monkeypatch, build_trainer_env(parse_modeldeployment(body), "v1", settings))
    assert TrainerSettings().envelope_retrains == 4  # type: ignore[call-arg]


def test_drift_calibration_reaches_the_trainer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14, item 1: the predictor's drift windows, the alert's persistence and the target
    false-alarm rate reach the trainer, which calibrates the drift thresholds for them."""
    body = md_body()
    body["spec"]["serving"]["monitoring"] = {
        "intervalSeconds": 2, "driftWindowSeconds": 150, "driftThinSeconds": 5,
        "driftMinRows": 80, "driftAlertForSeconds": 10, "driftFalseAlarmsPerDay": 0.5,
    }  # fmt: skip
    settings = OperatorSettings().build_core_settings()
    export(monkeypatch, build_trainer_env(parse_modeldeployment(body), "v1", settings))
    trainer = TrainerSettings()  # type: ignore[call-arg]
    assert (trainer.drift_window_seconds, trainer.drift_thin_seconds) == (150, 5)
    assert (trainer.drift_interval_seconds, trainer.drift_min_rows) == (2, 80)
    assert (trainer.drift_alert_for_seconds, trainer.drift_false_alarms_per_day) == (10, 0.5)


def test_drift_false_alarm_rate_must_be_positive() -> None:
    body = md_body()
    body["spec"]["serving"]["monitoring"] = {"driftFalseAlarmsPerDay": 0}
    with pytest.raises(SpecError, match="driftFalseAlarmsPerDay"):
        parse_modeldeployment(body)


def test_predictor_settings_accept_the_deployment_env(monkeypatch: pytest.MonkeyPatch) -> None:
    md = parse_modeldeployment(md_body())
    export(
        monkeypatch,
        build_predictor_env(md, "v7", OperatorSettings().build_core_settings()),
    )
    dumped = PredictorSettings().model_dump()  # type: ignore[call-arg]
    assert dumped["version"] == "v7"
    assert str(dumped["kill_switch_path"]) == "/etc/levibot/killswitch/enabled"
    # The track is not in the env (promotion restarts nothing): it follows this file.
    assert str(dumped["stable_version_path"]) == "/etc/levibot/killswitch/stableVersion"


def test_monitoring_windows_reach_the_predictor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    body = md_body()
    body["spec"]["serving"]["monitoring"] = {"intervalSeconds": 2, "driftWindowSeconds": 240}
    export(
        monkeypatch,
        build_predictor_env(
            parse_modeldeployment(body), "v1", OperatorSettings().build_core_settings()
        ),
    )
    settings = PredictorSettings()  # type: ignore[call-arg]
    assert (settings.monitor_interval_seconds, settings.drift_window_seconds) == (2.0, 240.0)
    assert (settings.outcome_window, settings.drift_thin_seconds, settings.drift_min_rows) == (
        1000,
        60.0,
        20,
    )


def test_log_retention_reaches_the_predictor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12, item 10: spec.serving.predictionLog.retentionSeconds → LOG_RETENTION_SECONDS."""
    settings = OperatorSettings().build_core_settings()
    export(monkeypatch, build_predictor_env(parse_modeldeployment(md_body()), "v1", settings))
    assert PredictorSettings().log_retention_seconds == 604_800  # type: ignore[call-arg]
    body = md_body()
    body["spec"]["serving"]["predictionLog"] = {"retentionSeconds": 86_400}
    export(monkeypatch, build_predictor_env(parse_modeldeployment(body), "v1", settings))
    assert PredictorSettings().log_retention_seconds == 86_400  # type: ignore[call-arg]


@pytest.mark.parametrize("seconds", [60, 10**9])
def test_log_retention_out_of_bounds_is_refused_naming_the_field(seconds: int) -> None:
    body = md_body()
    body["spec"]["serving"]["predictionLog"] = {"retentionSeconds": seconds}
    with pytest.raises(SpecError, match=r"spec\.serving\.predictionLog\.retentionSeconds"):
        parse_modeldeployment(body)

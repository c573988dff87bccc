"""Pure builders: predictor env matches the contract, hardening, kill-switch independence."""

from __future__ import annotations

from levibot_operator.core.modeldeployment.manifests import build_killswitch_configmap, build_name
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.workloads import (
    build_predictor_deployment,
    build_trainer_job,
)
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import md_body

SETTINGS = OperatorSettings().build_core_settings()


def env_of(manifest: dict) -> dict[str, str]:  # type: ignore[type-arg]
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "<ref>") for e in container["env"]}


def test_predictor_env_is_exactly_the_contract() -> None:
    md = parse_modeldeployment(md_body())
    dep = build_predictor_deployment(md, "v3", "canary", 4, SETTINGS)
    assert env_of(dep) == {
        "LEVIBOT_PREDICTOR_DSN": "<ref>",
        "LEVIBOT_PREDICTOR_MODEL_NAME": "prod.btc-direction",
        "LEVIBOT_PREDICTOR_VERSION": "v3",
        "LEVIBOT_PREDICTOR_HOST": "0.0.0.0",
        "LEVIBOT_PREDICTOR_PORT": "8080",
        "LEVIBOT_PREDICTOR_SYMBOLS": '["BTCUSDT", "ETHUSDT"]',
        "LEVIBOT_PREDICTOR_HORIZON_SECONDS": "60",
        "LEVIBOT_PREDICTOR_STALENESS_LIMIT_SECONDS": "60",
        "LEVIBOT_PREDICTOR_FALLBACK": "hold",
        "LEVIBOT_PREDICTOR_BUY_THRESHOLD": "0.55",
        "LEVIBOT_PREDICTOR_SELL_THRESHOLD": "0.45",
        "LEVIBOT_PREDICTOR_KILL_SWITCH_PATH": "/etc/levibot/killswitch/enabled",
        "LEVIBOT_PREDICTOR_STABLE_VERSION_PATH": "/etc/levibot/killswitch/stableVersion",
        "LEVIBOT_PREDICTOR_MONITOR_INTERVAL_SECONDS": "15",
        "LEVIBOT_PREDICTOR_OUTCOME_WINDOW": "1000",
        "LEVIBOT_PREDICTOR_DRIFT_WINDOW_SECONDS": "1800",
        "LEVIBOT_PREDICTOR_DRIFT_THIN_SECONDS": "60",
        "LEVIBOT_PREDICTOR_DRIFT_MIN_ROWS": "20",
        "LEVIBOT_PREDICTOR_LOG_RETENTION_SECONDS": "604800",
    }
    assert dep["spec"]["replicas"] == 4
    assert dep["metadata"]["labels"]["levibot.io/track"] == "canary"
    assert "levibot.io/track" not in dep["spec"]["selector"]["matchLabels"]


def test_predictor_is_hardened() -> None:
    dep = build_predictor_deployment(parse_modeldeployment(md_body()), "v1", "stable", 2, SETTINGS)
    pod = dep["spec"]["template"]["spec"]
    sec = pod["containers"][0]["securityContext"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert sec["readOnlyRootFilesystem"] is True
    assert sec["capabilities"] == {"drop": ["ALL"]}
    assert sec["allowPrivilegeEscalation"] is False
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_kill_switch_never_changes_the_pod_template() -> None:
    off = parse_modeldeployment(md_body(killSwitch=False))
    on = parse_modeldeployment(md_body(killSwitch=True))
    template = build_predictor_deployment(off, "v1", "stable", 2, SETTINGS)["spec"]["template"]
    assert (
        build_predictor_deployment(on, "v1", "stable", 2, SETTINGS)["spec"]["template"] == template
    )
    assert build_killswitch_configmap(on, True)["data"] == {"enabled": "true", "stableVersion": ""}
    assert build_killswitch_configmap(off, False, "v1")["data"] == {
        "enabled": "false",
        "stableVersion": "v1",
    }


def test_promotion_never_changes_the_pod_template() -> None:
    """Zero-restart promotion: a version's pods are the same on either track; only the
    Deployment object's own label says which track it serves."""
    md = parse_modeldeployment(md_body())
    canary = build_predictor_deployment(md, "v2", "canary", 1, SETTINGS)
    stable = build_predictor_deployment(md, "v2", "stable", 1, SETTINGS)
    assert canary["spec"]["template"] == stable["spec"]["template"]
    assert canary["spec"]["selector"] == stable["spec"]["selector"]
    assert stable["metadata"]["labels"]["levibot.io/track"] == "stable"
    assert "levibot.io/track" not in stable["spec"]["template"]["metadata"]["labels"]
    env = {e["name"] for e in stable["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "LEVIBOT_PREDICTOR_TRACK" not in env


def test_trainer_job_uses_the_secret_by_reference_only() -> None:
    job = build_trainer_job(parse_modeldeployment(md_body()), "v1", SETTINGS)
    dsn = job["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert dsn == {
        "name": "LEVIBOT_TRAINER_DSN",
        "valueFrom": {"secretKeyRef": {"name": "levibot-db", "key": "dsn"}},
    }


def test_long_names_are_shortened_to_a_dns_label_stably() -> None:
    name = build_name("m" * 60, "train", "v12", "3")
    assert len(name) <= 63
    assert name == build_name("m" * 60, "train", "v12", "3")
    assert name != build_name("m" * 60, "train", "v12", "4")

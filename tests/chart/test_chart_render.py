"""The chart renders, lints, validates its values, and renders what the operator expects."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import jsonschema
import pytest
import yaml

from levibot_operator.settings import OperatorSettings
from tests.chart.support.render import (
    CHART,
    DEV_VALUES,
    FULL_VALUES,
    ROOT,
    container_env,
    find,
    one,
    render,
    run_helm,
)

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge key by key, everything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        both_maps = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merge(out[key], value) if both_maps else value
    return out


def operator_deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment", "levibot-operator")


@pytest.mark.parametrize(
    "values", [[], [FULL_VALUES], [DEV_VALUES]], ids=["default", "full", "dev"]
)
def test_helm_lint_passes(values: list[Any]) -> None:
    args = ["lint", "--strict", str(CHART)] + [a for v in values for a in ("--values", str(v))]
    out = run_helm(*args, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(
    "path", [CHART / "values.yaml", FULL_VALUES, DEV_VALUES], ids=lambda p: p.name
)
def test_values_files_meet_the_schema(path: Any) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(merge(defaults, yaml.safe_load(path.read_text())), SCHEMA)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("operator.replicas=-1", "operator.replicas"),
        ('prometheusRule.rules.eceCritical.threshold="high"', "eceCritical.threshold"),
        ('prometheusRule.rules.psiCritical.for="5 minutes"', "psiCritical.for"),
        ('operator.watchNamespaces=["Not_A_Namespace"]', "watchNamespaces"),
        ("webhook.service.port=70000", "webhook.service.port"),
        ("operator.replica=2", "replica"),
    ],
)
def test_bad_values_are_refused_naming_the_field(bad: str, field: str) -> None:
    out = run_helm("template", "x", str(CHART), "--set-json", bad, check=False)
    assert out.returncode != 0
    assert field in out.stderr


def test_crd_copies_are_identical_to_crds_dir() -> None:
    source = {p.name: p.read_bytes() for p in (ROOT / "crds").glob("*.yaml")}
    copies = {p.name: p.read_bytes() for p in (CHART / "crds").glob("*.yaml")}
    assert source, "crds/ holds no CRD"
    assert copies == source, "run hack/sync-crds.sh"
    check = subprocess.run(
        [str(ROOT / "hack" / "sync-crds.sh"), "--check"], capture_output=True, check=False
    )
    assert check.returncode == 0, check.stderr


def test_chart_carries_both_crds() -> None:
    names = {o["metadata"]["name"] for o in find(render(), "CustomResourceDefinition")}
    assert names == {"modeldeployments.levibot.io", "canaries.levibot.io"}


def test_operator_env_is_accepted_by_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env = container_env(operator_deployment(render(values=[FULL_VALUES])))
    fields = {f"LEVIBOT_OPERATOR_{name.upper()}" for name in OperatorSettings.model_fields}
    assert set(env) <= fields, f"env the settings ignore: {set(env) - fields}"
    for name, value in env.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
    settings = OperatorSettings()
    assert settings.namespaces == ["levibot-models", "levibot-research"]
    assert settings.predictor_image == "ghcr.io/levibot/predictor:0.1.0"
    assert settings.trainer_image == "ghcr.io/levibot/trainer:0.1.0"
    assert settings.standalone is False
    assert settings.lease_namespace == "levibot-system"
    assert settings.webhook_port == 8443
    assert settings.webhook_token_file == "/var/run/secrets/levibot/webhook/token"
    assert env["LEVIBOT_OPERATOR_IDENTITY"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_operator_pod_is_non_root_and_read_only() -> None:
    pod = operator_deployment(render())["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/tmp", "/var/run/secrets/levibot/webhook"}  # noqa: S108
    assert pod["serviceAccountName"] == "levibot-operator"


def test_two_replicas_get_a_pdb_and_spread() -> None:
    objects = render(sets=["operator.replicas=2"])
    assert one(objects, "PodDisruptionBudget", "levibot-operator")["spec"]["minAvailable"] == 1
    assert "podAntiAffinity" in operator_deployment(objects)["spec"]["template"]["spec"]["affinity"]
    assert not find(render(), "PodDisruptionBudget")


def test_predictor_and_trainer_accounts_mount_no_token() -> None:
    objects = render(values=[FULL_VALUES])
    for who in ("predictor", "trainer"):
        accounts = find(objects, "ServiceAccount", f"levibot-{who}")
        assert {a["metadata"]["namespace"] for a in accounts} == {
            "levibot-models",
            "levibot-research",
        }
        assert all(a["automountServiceAccountToken"] is False for a in accounts)
    subjects = [
        s["name"]
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for b in find(objects, kind)
        for s in b["subjects"]
    ]
    assert set(subjects) == {"levibot-operator"}


def test_watch_namespaces_bind_per_namespace_not_cluster_wide() -> None:
    objects = render(values=[FULL_VALUES])
    bindings = find(objects, "RoleBinding", "levibot-operator")
    assert {b["metadata"]["namespace"] for b in bindings} == {"levibot-models", "levibot-research"}
    assert not find(objects, "ClusterRoleBinding", "levibot-operator")
    assert find(render(), "ClusterRoleBinding", "levibot-operator")


def test_webhook_secret_and_service() -> None:
    objects = render()
    secret = one(objects, "Secret", "levibot-webhook")
    assert len(secret["data"]["token"]) >= 48
    service = one(objects, "Service", "levibot-webhook")
    assert service["spec"]["ports"][0]["targetPort"] == "webhook"
    existing = render(sets=['webhook.existingSecret="my-token"'])
    assert not find(existing, "Secret")
    volumes = operator_deployment(existing)["spec"]["template"]["spec"]["volumes"]
    assert {
        "secretName": "my-token",
        "defaultMode": 0o440,
        "items": [{"key": "token", "path": "token"}],
    } in [v.get("secret") for v in volumes]


def test_servicemonitor_selects_the_operators_predictor_services() -> None:
    monitor = one(render(values=[FULL_VALUES]), "ServiceMonitor", "levibot-predictors")
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "levibot",
        "app.kubernetes.io/component": "predictor",
        "app.kubernetes.io/managed-by": "levibot-operator",
    }
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert not find(render(), "ServiceMonitor")


def test_helm_test_hook_posts_without_token() -> None:
    pod = one(render(), "Pod", "levibot-test-webhook")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert (
        pod["spec"]["containers"][0]["command"][-1]
        == "http://levibot-webhook.levibot-system.svc:8443/alerts"
    )

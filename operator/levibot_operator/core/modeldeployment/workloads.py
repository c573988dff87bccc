"""Workload manifests: the trainer Job and the predictor Deployment, with their env and probes.

Layer: core (pure), in ``modeldeployment``. Plain dicts, ready for server-side apply; names,
labels and metadata come from ``manifests``.

Zero-restart promotion (KServe-style: move the name, not the pods): the pod template of a
version is the same whether it serves as canary or stable. The track is only a label of the
Deployment object (which the operator reads; changing it rolls nothing), the Services select by
version, and the predictor derives its own track (metrics labels, answers) from the stable
version in the mounted serving ConfigMap. So promotion changes no pod template: the candidate's
pods keep running, with their monitoring windows. The env names are the trainer's and the
predictor's settings (checked by tests/operator/test_contract_env.py).
"""

import json
from collections.abc import Mapping

from levibot_operator import constants as c
from levibot_operator.core.config import CoreSettings
from levibot_operator.core.modeldeployment.manifests import (
    Manifest,
    build_container_security,
    build_deployment_name,
    build_job_name,
    build_killswitch_name,
    build_labels,
    build_metadata,
    build_model_pods_selector,
    build_pod_security,
    build_predictor_selector,
    build_service_account,
)
from levibot_operator.core.modeldeployment.monitoring import MonitoringSpec
from levibot_operator.core.modeldeployment.placement import build_pod_placement
from levibot_operator.core.modeldeployment.spec import (
    ModelDeployment,
    SecretRef,
    build_model_fingerprint,
)
from levibot_operator.core.modeldeployment.trading import build_backtest_env


def build_dsn_env(prefix: str, ref: SecretRef, settings: CoreSettings) -> Manifest:
    """The DSN env var, by reference to the database Secret (never the value itself)."""
    key = ref.key or settings.registry_dsn_secret_key
    return {"name": f"{prefix}DSN", "valueFrom": {"secretKeyRef": {"name": ref.name, "key": key}}}


def _env(prefix: str, values: Mapping[str, str]) -> list[Manifest]:
    return [{"name": f"{prefix}{key}", "value": value} for key, value in values.items()]


def build_trainer_env(md: ModelDeployment, version: str, settings: CoreSettings) -> list[Manifest]:
    """Trainer env exactly as docs/contracts.md (prefix LEVIBOT_TRAINER_)."""
    spec, prefix = md.spec, "LEVIBOT_TRAINER_"
    values = {
        "MODEL_NAME": md.model_name,
        "VERSION": version,
        "MODEL_TYPE": spec.model.type,
        "HYPERPARAMETERS": json.dumps(dict(spec.model.hyperparameters), sort_keys=True),
        "CALIBRATION": spec.model.calibration,
        "FEATURES": json.dumps(list(spec.features)),
        "SYMBOLS": json.dumps(list(spec.symbols)),
        "HORIZON_SECONDS": str(spec.horizon_seconds),
        "DATA_WINDOW_SECONDS": str(spec.training.data_window_seconds),
        "ENVELOPE_RETRAINS": str(spec.training.envelope_retrains),
        **build_backtest_env(spec.trading, spec.serving.buy_threshold, spec.serving.sell_threshold),
        **build_drift_calibration_env(spec.serving.monitoring),
        "RESULT_PATH": c.TRAINER_RESULT_PATH,
    }
    return [build_dsn_env(prefix, spec.training.database_secret, settings), *_env(prefix, values)]


def build_drift_calibration_env(monitoring: MonitoringSpec) -> dict[str, str]:
    """What the trainer calibrates the drift thresholds for: the predictor's windows, the
    alert's persistence and the target false-alarm rate (spec.serving.monitoring)."""
    return {
        "DRIFT_WINDOW_SECONDS": str(monitoring.drift_window_seconds),
        "DRIFT_THIN_SECONDS": str(monitoring.drift_thin_seconds),
        "DRIFT_INTERVAL_SECONDS": str(monitoring.interval_seconds),
        "DRIFT_MIN_ROWS": str(monitoring.drift_min_rows),
        "DRIFT_ALERT_FOR_SECONDS": str(monitoring.drift_alert_for_seconds),
        "DRIFT_FALSE_ALARMS_PER_DAY": repr(monitoring.drift_false_alarms_per_day),
    }


def _tmp_volume() -> tuple[Manifest, Manifest]:
    return {"name": "tmp", "emptyDir": {}}, {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108


def build_trainer_job(
    md: ModelDeployment, version: str, settings: CoreSettings, attempt: int = 1
) -> Manifest:
    """The trainer Job for one version and attempt."""
    training = md.spec.training
    labels = build_labels(md, c.COMPONENT_TRAINER, **{c.LABEL_VERSION: version})
    metadata = build_metadata(md, build_job_name(md, version, attempt), labels)
    metadata["annotations"] = {
        c.ANNOTATION_TRAINING_ATTEMPT: str(attempt),
        c.ANNOTATION_SPEC_HASH: build_model_fingerprint(md.spec),
    }
    volume, mount = _tmp_volume()
    container = {
        "name": "trainer",
        "image": training.image or settings.trainer_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["python", "-m", "levibot_trainer", "train"],
        "env": build_trainer_env(md, version, settings),
        "resources": dict(training.resources),
        "securityContext": build_container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [mount],
    }
    pod_spec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": build_pod_security(),
        "containers": [container],
        "volumes": [volume],
        **build_service_account(settings.trainer_service_account),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": training.backoff_limit,
            "activeDeadlineSeconds": training.deadline_seconds,
            "ttlSecondsAfterFinished": settings.job_ttl_seconds,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def build_predictor_env(
    md: ModelDeployment, version: str, settings: CoreSettings
) -> list[Manifest]:
    """Predictor env exactly as docs/contracts.md (prefix LEVIBOT_PREDICTOR_).

    The kill-switch state and the track are deliberately absent: they come from the mounted
    ConfigMap's files, so a flip or a promotion never changes the pod template (no restarts).
    """
    spec, prefix = md.spec, "LEVIBOT_PREDICTOR_"
    monitoring = spec.serving.monitoring
    values = {
        "MODEL_NAME": md.model_name,
        "VERSION": version,
        "HOST": "0.0.0.0",
        "PORT": str(c.PREDICTOR_PORT),
        "SYMBOLS": json.dumps(list(spec.symbols)),
        "HORIZON_SECONDS": str(spec.horizon_seconds),
        "STALENESS_LIMIT_SECONDS": str(spec.serving.staleness_limit_seconds),
        "FALLBACK": spec.serving.fallback,
        "BUY_THRESHOLD": repr(spec.serving.buy_threshold),
        "SELL_THRESHOLD": repr(spec.serving.sell_threshold),
        "KILL_SWITCH_PATH": c.KILLSWITCH_PATH,
        "STABLE_VERSION_PATH": c.STABLE_VERSION_PATH,
        "MONITOR_INTERVAL_SECONDS": str(monitoring.interval_seconds),
        "OUTCOME_WINDOW": str(monitoring.outcome_window),
        "DRIFT_WINDOW_SECONDS": str(monitoring.drift_window_seconds),
        "DRIFT_THIN_SECONDS": str(monitoring.drift_thin_seconds),
        "DRIFT_MIN_ROWS": str(monitoring.drift_min_rows),
        "LOG_RETENTION_SECONDS": str(spec.serving.log_retention_seconds),
    }
    return [build_dsn_env(prefix, spec.training.database_secret, settings), *_env(prefix, values)]


def _probe(path: str, period: int, failures: int) -> Manifest:
    return {
        "httpGet": {"path": path, "port": c.PREDICTOR_PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def build_predictor_container(
    md: ModelDeployment, version: str, settings: CoreSettings
) -> Manifest:
    """The predictor container: env, port, probes, resources, kill-switch mount, hardening."""
    return {
        "name": "predictor",
        "image": md.spec.serving.image or settings.predictor_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["python", "-m", "levibot_predictor"],
        "env": build_predictor_env(md, version, settings),
        "ports": [{"name": c.PREDICTOR_PORT_NAME, "containerPort": c.PREDICTOR_PORT}],
        "readinessProbe": _probe("/readyz", 5, 3),
        "livenessProbe": _probe("/healthz", 10, 3),
        "startupProbe": _probe("/healthz", 2, 60),
        # Serve on while the endpoints drop this pod, so a scale-down or promotion loses nothing.
        "lifecycle": {"preStop": {"sleep": {"seconds": c.PREDICTOR_PRESTOP_SECONDS}}},
        "resources": dict(md.spec.serving.resources),
        "securityContext": build_container_security(),
        "volumeMounts": [
            {"name": "killswitch", "mountPath": c.KILLSWITCH_MOUNT_DIR, "readOnly": True},
            _tmp_volume()[1],
        ],
    }


def build_predictor_pod_template(
    md: ModelDeployment, version: str, settings: CoreSettings
) -> Manifest:
    """The predictor pod template with scrape annotations; the same on either track."""
    labels = build_labels(md, c.COMPONENT_PREDICTOR, **{c.LABEL_VERSION: version})
    killswitch = {"name": build_killswitch_name(md), "optional": True}
    return {
        "metadata": {
            "labels": labels,
            "annotations": {
                c.ANNOTATION_PROM_SCRAPE: "true",
                c.ANNOTATION_PROM_PORT: str(c.PREDICTOR_PORT),
                c.ANNOTATION_PROM_PATH: "/metrics",
            },
        },
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": build_pod_security(),
            "containers": [build_predictor_container(md, version, settings)],
            "volumes": [{"name": "killswitch", "configMap": killswitch}, _tmp_volume()[0]],
            **build_service_account(settings.predictor_service_account),
            **build_pod_placement(md.spec.serving.placement, build_model_pods_selector(md)),
        },
    }


def build_predictor_deployment(
    md: ModelDeployment, version: str, track: str, replicas: int | None, settings: CoreSettings
) -> Manifest:
    """The predictor Deployment serving one version; ``track`` (stable or canary) labels only
    the Deployment object, never its pod template (promotion restarts nothing). ``replicas``
    None leaves the field out: an autoscaler owns it."""
    labels = build_labels(
        md, c.COMPONENT_PREDICTOR, **{c.LABEL_VERSION: version, c.LABEL_TRACK: track}
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": build_metadata(md, build_deployment_name(md, version), labels),
        "spec": {
            **({} if replicas is None else {"replicas": replicas}),
            "selector": {"matchLabels": build_predictor_selector(md, version)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": build_predictor_pod_template(md, version, settings),
        },
    }

"""The operator process's settings (pydantic-settings, env prefix ``LEVIBOT_OPERATOR_``).

Layer: configuration. Built once in ``__main__`` and passed down; nothing else reads the
environment. The pure core receives only ``CoreSettings``, a frozen copy of what it reads.
"""

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from levibot_operator.core.config import CoreSettings


class OperatorSettings(BaseSettings):
    """Everything the operator needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="LEVIBOT_OPERATOR_", frozen=True, extra="ignore")

    namespaces: list[str] = Field(
        default_factory=list,
        description="Namespaces to watch (JSON list); empty means cluster-wide.",
    )
    trainer_image: str = Field(
        default="ghcr.io/levibot/trainer:0.1.0",
        description="Trainer image used when spec.training.image is not set.",
    )
    predictor_image: str = Field(
        default="ghcr.io/levibot/predictor:0.1.0",
        description="Predictor image used when spec.serving.image is not set.",
    )
    image_pull_policy: str = Field(
        default="IfNotPresent", description="imagePullPolicy of trainer and predictor containers."
    )
    identity: str = Field(
        default="",
        description="This replica's identity for leader election; empty means hostname + pid.",
    )
    standalone: bool = Field(
        default=False,
        description="Run without leader election (a single replica, tests, development).",
    )
    lease_name: str = Field(
        default="levibot-operator", description="Name of the coordination.k8s.io Lease for HA."
    )
    lease_namespace: str = Field(
        default="default", description="Namespace of the leader-election Lease."
    )
    lease_duration_seconds: int = Field(
        default=15, ge=2, description="How long a leader's claim is valid without renewal."
    )
    lease_renew_seconds: float = Field(
        default=5.0, gt=0, description="How often the leader renews (and followers retry)."
    )
    prometheus_url: str = Field(
        default="http://prometheus-operated.monitoring:9090",
        description="Prometheus base URL for canary analysis queries.",
    )
    webhook_host: str = Field(
        default="0.0.0.0", description="Listen address of the Alertmanager webhook."
    )
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, description="Listen port of the Alertmanager webhook."
    )
    webhook_token_file: str = Field(
        default="/var/run/secrets/levibot/webhook/token",
        description="Path of the mounted Secret key holding the webhook bearer token.",
    )
    analysis_default_interval_seconds: float = Field(
        default=60.0, gt=0, description="Canary analysis interval when the Canary sets none."
    )
    registry_dsn_secret_key: str = Field(
        default="dsn",
        description="Key in the database Secret holding the DSN when the spec names no key.",
    )
    resync_seconds: float = Field(
        default=30.0, gt=0, description="Safety-net reconcile interval of every ModelDeployment."
    )
    retry_delay_seconds: float = Field(
        default=10.0, gt=0, description="Delay before retrying after a transient I/O error."
    )
    training_backoff_seconds: float = Field(
        default=60.0, gt=0, description="First delay before retrying a failed training; doubles."
    )
    training_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="Upper bound of the training retry delay."
    )
    job_ttl_seconds: int = Field(
        default=86400, ge=0, description="ttlSecondsAfterFinished of trainer Jobs."
    )
    version_history_limit: int = Field(
        default=20, ge=1, description="How many versions status.versions keeps."
    )
    registry_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Connect/query timeout when reading the model registry."
    )
    prometheus_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Timeout of one Prometheus query (analysis, DataFresh)."
    )
    webhook_path: str = Field(
        default="/alerts",
        pattern=r"^/[A-Za-z0-9/_.-]*$",
        description="HTTP path of the Alertmanager webhook (the chart's webhook.path).",
    )
    webhook_max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest webhook request body accepted (413 above)."
    )
    metrics_host: str = Field(
        default="0.0.0.0", description="Listen address of the operator's /metrics and /healthz."
    )
    metrics_port: int = Field(
        default=8081,
        ge=1,
        le=65535,
        description="Listen port of the operator's /metrics and /healthz.",
    )
    canary_resync_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait between two decisions of an active Canary."
    )
    predictor_service_account: str = Field(
        default="",
        description="ServiceAccount of predictor pods; empty means the namespace default.",
    )
    trainer_service_account: str = Field(
        default="", description="ServiceAccount of trainer pods; empty means the namespace default."
    )
    notify_url: str = Field(
        default="",
        description="URL the operator POSTs a JSON notice to on every canary phase change and "
        "verdict (promoted, rolledBack, phase, step, verdict); empty disables notifications.",
    )
    notify_token_file: str = Field(
        default="/var/run/secrets/levibot/notify/token",
        description="Mounted Secret key with the notification bearer token; absent: no header.",
    )
    notify_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Timeout of one notification attempt."
    )
    notify_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a failed notification (backoff doubles)."
    )
    notify_backoff_seconds: float = Field(
        default=1.0, gt=0, description="Delay before the first notification retry."
    )
    notify_queue_size: int = Field(
        default=100, ge=1, description="Notices waiting to be sent; more are dropped (logged)."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        validation_alias=AliasChoices("LEVIBOT_LOG_FORMAT", "LEVIBOT_OPERATOR_LOG_FORMAT"),
        description="Log lines as JSON or text; auto: text when stderr is a terminal, else JSON. "
        "Env LEVIBOT_LOG_FORMAT.",
    )

    def build_core_settings(self) -> CoreSettings:
        """The frozen subset the pure core reads (it never sees this class)."""
        names = CoreSettings.__dataclass_fields__
        return CoreSettings(**{name: getattr(self, name) for name in names})

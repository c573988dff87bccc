"""Settings of the predictor process (used by the outer layers): one pydantic-settings class.

Built once in ``__main__`` and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PredictorSettings(BaseSettings):
    """Everything the predictor needs, from ``LEVIBOT_PREDICTOR_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="LEVIBOT_PREDICTOR_", extra="ignore", frozen=True)

    dsn: SecretStr | None = Field(
        None, description="PostgreSQL DSN; without it only /v1/predict serves."
    )
    model_name: str = Field(
        "default.model", min_length=1, description="Registry model name <namespace>.<name>."
    )
    version: str = Field("v1", min_length=1, description="Registry version to load and label.")
    track: Literal["stable", "canary"] = Field(
        "stable", description="Traffic track label while STABLE_VERSION_PATH names no version."
    )
    model_path: Path | None = Field(
        None, description="Load this ONNX file instead of the registry (tests, benchmarks)."
    )
    model_features: list[str] | None = Field(
        None, description="Feature names of MODEL_PATH (default: all shared features)."
    )
    host: str = Field("0.0.0.0", description="Listen address.")
    port: int = Field(8080, ge=1, le=65535, description="Listen port.")
    symbols: list[str] = Field(
        default_factory=list, description="Symbols the symbol endpoint serves."
    )
    horizon_seconds: int = Field(60, gt=0, description="Horizon for resolving outcomes.")
    staleness_limit_seconds: float = Field(
        60.0, gt=0, description="Older market data than this triggers the fallback."
    )
    fallback: Literal["hold", "zscore"] = Field("hold", description="Fallback policy.")
    zscore_threshold: float = Field(
        1.0, gt=0, description="|zscore_60| above which the zscore fallback leaves HOLD."
    )
    buy_threshold: float = Field(0.55, ge=0, le=1, description="p_up at or above → BUY.")
    sell_threshold: float = Field(0.45, ge=0, le=1, description="p_up at or below → SELL.")
    kill_switch: bool = Field(False, description="Initial kill-switch state (true → HOLD).")
    kill_switch_path: Path | None = Field(
        None, description="File watched at run time (a ConfigMap); content 'true' → HOLD."
    )
    stable_version_path: Path | None = Field(
        None,
        description="File watched at run time (a ConfigMap) naming the stable version: the "
        "track is stable when it names VERSION, canary otherwise (promotion restarts no pod).",
    )
    max_batch_rows: int = Field(1000, gt=0, description="Most feature rows in one request.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Largest accepted request body.")
    refresh_interval_seconds: float = Field(
        1.0, gt=0, description="Feature cache refresh (tick) cadence."
    )
    monitor_interval_seconds: float = Field(
        15.0, gt=0, description="Outcome resolution, calibration and drift recompute cadence."
    )
    outcome_window: int = Field(1000, gt=0, description="Resolved predictions in the window.")
    drift_window: int = Field(
        10_000, gt=0, description="Most rows the drift window holds (a memory bound)."
    )
    drift_window_seconds: float = Field(
        1800.0, gt=0, description="The drift window: rows of the market's last seconds."
    )
    drift_thin_seconds: float = Field(
        60.0, gt=0,
        description="KS uses one row per symbol per this many seconds (independent samples).",
    )  # fmt: skip
    drift_min_rows: int = Field(
        20, gt=0,
        description="Thinned rows needed before PSI/KS are exported (absent until then).",
    )  # fmt: skip
    shadow_poll_seconds: float = Field(
        5.0, gt=0,
        description="Cadence of reading the registry's shadow pair: a partner version named "
        "there is loaded and scores every request in shadow within about this long.",
    )  # fmt: skip
    drift_client_rows_per_second: int = Field(
        10, ge=0,
        description="Rows from /v1/predict the drift window takes a second when SYMBOLS is "
        "empty (the clients are the measure); with symbols it takes none (the market is).",
    )  # fmt: skip
    log_queue_size: int = Field(10_000, gt=0, description="Prediction log queue bound.")
    log_batch_rows: int = Field(500, gt=0, description="Prediction log insert batch size.")
    log_flush_seconds: float = Field(0.2, gt=0, description="Prediction log flush period.")
    log_retention_seconds: int = Field(
        604_800, ge=0,
        description="Prediction log rows of this model older than this are deleted (every "
        "version's, by one replica at a time; spec.serving.predictionLog.retentionSeconds); "
        "0 keeps every row.",
    )  # fmt: skip
    log_retention_interval_seconds: float = Field(
        300.0, gt=0, description="Cadence of the retention pass."
    )
    log_retention_batch_rows: int = Field(
        5000, gt=0, description="Most rows one DELETE of the retention pass removes."
    )
    db_timeout_seconds: float = Field(2.0, gt=0, description="Timeout of one database call.")

    @model_validator(mode="after")
    def _check_thresholds(self) -> PredictorSettings:
        if self.sell_threshold > self.buy_threshold:
            raise ValueError("sell_threshold must not exceed buy_threshold")
        return self

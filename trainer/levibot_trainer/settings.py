"""The trainer's settings (trainer, shell edge): one pydantic-settings class, env prefix
``LEVIBOT_TRAINER_`` (docs/contracts.md), built once in ``cli`` from env and flags."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from levibot_common.features import FEATURES, LOOKBACK_SECONDS, validate_feature_names
from levibot_common.registry import MAX_REFERENCE_ROWS

ModelType = Literal["logisticRegression", "histGradientBoosting"]
# Isotonic is left out: skl2onnx converts it up to 0.012 away from scikit-learn (no parity).
Calibration = Literal["none", "sigmoid"]


class TrainerSettings(BaseSettings):
    """Everything one training run needs; flags override env, env overrides defaults."""

    model_config = SettingsConfigDict(env_prefix="LEVIBOT_TRAINER_", extra="forbid")

    dsn: SecretStr = Field(description="PostgreSQL DSN (from the database Secret); never logged.")
    model_name: str = Field(
        min_length=1, max_length=253, description="Registry model name: <namespace>.<name>."
    )
    version: str = Field(
        min_length=1, max_length=63, description="Registry version to write (v1, v2, ...)."
    )
    model_type: ModelType = Field(
        default="logisticRegression", description="Estimator: logisticRegression (scaled) or "
        "histGradientBoosting.",
    )  # fmt: skip
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="JSON object of estimator parameters (set_params)."
    )
    calibration: Calibration = Field(
        default="none", description="Probability calibration: none or sigmoid."
    )
    features: list[str] = Field(
        default_factory=lambda: list(FEATURES), description="JSON list of feature names."
    )
    symbols: list[str] = Field(min_length=1, description="JSON list of symbols to train on.")
    horizon_seconds: int = Field(default=60, gt=0, le=86_400, description="Label horizon.")
    data_window_seconds: int = Field(
        default=86_400, gt=0, description="History to train on, ending at end_time."
    )
    end_time: datetime | None = Field(
        default=None, description="End of the data window (ISO 8601 with zone); default: now."
    )
    result_path: Path = Field(
        default=Path("/dev/termination-log"), description="Where the JSON result is written."
    )
    test_fraction: float = Field(
        default=0.2, ge=0.05, le=0.5, description="Share of rows (the latest) held out for test."
    )
    gap_seconds: int | None = Field(
        default=None, ge=0, description="Gap between train and test; default and minimum: horizon."
    )
    random_seed: int = Field(default=0, description="Seed for the estimator and the sampling.")
    reference_rows: int = Field(
        default=MAX_REFERENCE_ROWS, ge=1, le=MAX_REFERENCE_ROWS,
        description="Most rows kept as the drift reference (thinned to one a minute, newest).",
    )  # fmt: skip
    parity_tolerance: float = Field(
        default=1e-5, gt=0, le=0.1,
        description="Max |p_sklearn - p_onnxruntime| on held-out rows (float32 inputs in ONNX).",
    )  # fmt: skip
    envelope_retrains: int = Field(
        default=8, ge=4, le=32,
        description="Retrains of the same recipe on shifted windows whose disagreement on the "
        "test rows is the retraining-noise envelope (registry metrics envelope_rms, ...); with "
        "the factor 2, K = 8 keeps a healthy retrain inside with about 99.5 % probability.",
    )  # fmt: skip
    drift_window_seconds: float = Field(
        default=1800.0, gt=0, description="The predictor's drift window "
        "(spec.serving.monitoring.driftWindowSeconds), which the drift calibration replays.",
    )  # fmt: skip
    drift_thin_seconds: float = Field(
        default=60.0, gt=0, description="The predictor's KS thinning (driftThinSeconds)."
    )
    drift_interval_seconds: float = Field(
        default=15.0, gt=0, description="The predictor's drift cadence (intervalSeconds)."
    )
    drift_min_rows: int = Field(
        default=20, ge=1, description="Thinned rows before drift is exported (driftMinRows)."
    )
    drift_alert_for_seconds: float = Field(
        default=300.0, ge=0, description="The drift alert's persistence (driftAlertForSeconds)."
    )
    drift_false_alarms_per_day: float = Field(
        default=0.1, gt=0, le=100, description="Target drift false alarms a day, the whole "
        "model's (driftFalseAlarmsPerDay): the calibrated thresholds' rate.",
    )  # fmt: skip
    buy_threshold: float = Field(
        default=0.55, ge=0, le=1, description="Serving policy (spec.serving.buyThreshold): the "
        "backtest's signal is BUY at p_up >= this.",
    )  # fmt: skip
    sell_threshold: float = Field(
        default=0.45, ge=0, le=1, description="Serving policy (spec.serving.sellThreshold): the "
        "backtest's signal is SELL at p_up <= this (and below buy_threshold).",
    )  # fmt: skip
    fee_bps: float = Field(
        default=10.0, ge=0, le=1000, description="Backtest fee per side in bps (spec.trading)."
    )
    slippage_bps: float = Field(
        default=5.0, ge=0, le=1000, description="Backtest slippage per side in bps (spec.trading)."
    )
    min_train_rows: int = Field(default=1000, ge=10, description="Fewer train rows: exit 3.")
    min_test_rows: int = Field(default=200, ge=10, description="Fewer test rows: exit 3.")
    db_connect_attempts: int = Field(
        default=5, ge=1, le=20, description="Connection attempts before exit 4."
    )
    db_retry_delay_seconds: float = Field(
        default=1.0, ge=0, le=60, description="First retry delay; doubles per attempt."
    )
    db_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one connection attempt."
    )

    @field_validator("features")
    @classmethod
    def _known_features(cls, names: list[str]) -> list[str]:
        return list(validate_feature_names(names))

    @field_validator("symbols")
    @classmethod
    def _clean_symbols(cls, symbols: list[str]) -> list[str]:
        if any(not s.strip() for s in symbols) or len(set(symbols)) != len(symbols):
            raise ValueError("symbols must be non-empty and distinct")
        return symbols

    @field_validator("end_time")
    @classmethod
    def _aware_end(cls, end: datetime | None) -> datetime | None:
        if end is not None and end.tzinfo is None:
            raise ValueError("end_time needs a time zone (e.g. +00:00)")
        return end

    @model_validator(mode="after")
    def _consistent(self) -> TrainerSettings:
        if self.gap_seconds is not None and self.gap_seconds < self.horizon_seconds:
            raise ValueError(
                f"gap_seconds ({self.gap_seconds}) must be >= horizon_seconds "
                f"({self.horizon_seconds}): a shorter gap leaks test labels into training"
            )
        if not self.sell_threshold < self.buy_threshold:
            raise ValueError("sell_threshold must be below buy_threshold")
        needed = LOOKBACK_SECONDS + self.horizon_seconds
        if self.data_window_seconds <= needed:
            raise ValueError(
                f"data_window_seconds ({self.data_window_seconds}) is shorter than one feature "
                f"window plus the horizon ({needed} s)"
            )
        return self

    @property
    def effective_gap_seconds(self) -> int:
        """The train/test gap actually used."""
        return self.gap_seconds if self.gap_seconds is not None else self.horizon_seconds

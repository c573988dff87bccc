"""The plain values the core reads from the operator's settings: images, accounts, delays, limits.

Layer: core (pure), the bottom of the core with ``intents`` and ``fields``. The core never imports
``levibot_operator.settings`` (which reads the environment): ``__main__`` builds the settings
once, and ``OperatorSettings.build_core_settings`` hands the core this frozen copy.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CoreSettings:
    """What a plan needs to know that is not in the spec (documented in ``OperatorSettings``)."""

    trainer_image: str
    predictor_image: str
    image_pull_policy: str
    trainer_service_account: str
    predictor_service_account: str
    registry_dsn_secret_key: str
    job_ttl_seconds: int
    retry_delay_seconds: float
    training_backoff_seconds: float
    training_backoff_max_seconds: float
    version_history_limit: int

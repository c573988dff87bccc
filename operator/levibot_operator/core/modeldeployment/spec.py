"""Parse a ModelDeployment body into frozen dataclasses; errors name the field path.

Layer: core (pure). The CRD schema catches most mistakes; this catches the rest (and protects
against a server without the schema) so the operator never acts on a half-understood spec.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.fields import (
    SpecError,
    check_enum,
    check_within,
    read_field,
    read_optional,
    read_strings,
)
from levibot_operator.core.modeldeployment.breaker_spec import (
    CircuitBreakers,
    parse_circuit_breakers,
)
from levibot_operator.core.modeldeployment.canary_template import (
    DEFAULT_CANARY_TEMPLATE,
    parse_canary_template,
)
from levibot_operator.core.modeldeployment.drift_memory import (
    DriftRetrainSpec,
    parse_drift_retrain,
)
from levibot_operator.core.modeldeployment.monitoring import MonitoringSpec, parse_monitoring
from levibot_operator.core.modeldeployment.placement import Placement, parse_placement
from levibot_operator.core.modeldeployment.scaling import (
    Autoscaling,
    DisruptionBudget,
    parse_autoscaling,
    parse_disruption_budget,
)
from levibot_operator.core.modeldeployment.schedule import is_valid_schedule
from levibot_operator.core.modeldeployment.trading import TradingSpec, parse_trading
from levibot_operator.core.traffic.routes import ParentRef

Json = Mapping[str, Any]


@dataclass(frozen=True)
class ModelSpec:
    type: str
    hyperparameters: Json
    calibration: str


@dataclass(frozen=True)
class SecretRef:
    name: str
    key: str


@dataclass(frozen=True)
class TrainingSpec:
    data_window_seconds: int
    schedule: str | None
    image: str | None
    resources: Json
    database_secret: SecretRef
    deadline_seconds: int
    backoff_limit: int
    envelope_retrains: int = 8  # spec.training.envelope.retrains


@dataclass(frozen=True)
class ServingSpec:
    image: str | None
    replicas: int
    resources: Json
    staleness_limit_seconds: int
    fallback: str
    buy_threshold: float
    sell_threshold: float
    monitoring: MonitoringSpec = field(default_factory=MonitoringSpec)
    log_retention_seconds: int = 604_800  # spec.serving.predictionLog.retentionSeconds
    autoscaling: Autoscaling | None = None  # an HPA owns the stable side's replicas
    disruption_budget: DisruptionBudget | None = None
    placement: Placement = field(default_factory=Placement)


@dataclass(frozen=True)
class TrafficSpec:
    provider: str
    route_name: str | None
    parent_refs: tuple[ParentRef, ...]


@dataclass(frozen=True)
class ModelDeploymentSpec:
    model: ModelSpec
    features: tuple[str, ...]
    symbols: tuple[str, ...]
    horizon_seconds: int
    training: TrainingSpec
    serving: ServingSpec
    traffic: TrafficSpec
    kill_switch: bool
    drift_policy: str
    # spec.canaryTemplate (or the built-in default): how every version after the first rolls out
    canary_template: Json = field(default_factory=lambda: dict(DEFAULT_CANARY_TEMPLATE))
    trading: TradingSpec = field(default_factory=TradingSpec)  # spec.trading: paper-trade costs
    circuit_breakers: CircuitBreakers | None = None  # spec.circuitBreakers; None: no breaker
    # spec.driftRetrain: when and on what the drift policy retrains (drift_retrain)
    drift_retrain: DriftRetrainSpec = field(default_factory=DriftRetrainSpec)


@dataclass(frozen=True)
class ModelDeployment:
    """A parsed ModelDeployment: identity plus spec."""

    name: str
    namespace: str
    uid: str
    generation: int
    spec: ModelDeploymentSpec

    @property
    def model_name(self) -> str:
        """The registry key ``<namespace>.<name>`` (docs/contracts.md)."""
        return f"{self.namespace}.{self.name}"


def parse_model(obj: Json, path: str = "spec.model") -> ModelSpec:
    """Parse ``spec.model``."""
    kind = check_enum(read_field(obj, "type", path, str), c.MODEL_TYPES, f"{path}.type")
    calibration = read_field(obj, "calibration", path, str, "none")
    return ModelSpec(
        type=kind,
        hyperparameters=read_field(obj, "hyperparameters", path, dict, {}),
        calibration=check_enum(calibration, c.CALIBRATIONS, f"{path}.calibration"),
    )


def parse_training(obj: Json, path: str = "spec.training") -> TrainingSpec:
    """Parse ``spec.training``."""
    schedule = read_optional(obj, "schedule", path, str)
    if schedule is not None and not is_valid_schedule(schedule):
        raise SpecError(f"{path}.schedule", f"is not a valid cron expression ({schedule!r})")
    secret = read_field(obj, "databaseSecretRef", path, dict)
    spath = f"{path}.databaseSecretRef"
    window = read_field(obj, "dataWindowSeconds", path, int, 604800)
    deadline = read_field(obj, "activeDeadlineSeconds", path, int, 3600)
    backoff = read_field(obj, "backoffLimit", path, int, 2)
    return TrainingSpec(
        data_window_seconds=check_within(window, 3600, 31_536_000, f"{path}.dataWindowSeconds"),
        schedule=schedule,
        image=read_optional(obj, "image", path, str),
        resources=read_field(obj, "resources", path, dict, {}),
        database_secret=SecretRef(
            name=read_field(secret, "name", spath, str),
            key=read_field(secret, "key", spath, str, ""),
        ),
        deadline_seconds=check_within(deadline, 60, 86_400, f"{path}.activeDeadlineSeconds"),
        backoff_limit=check_within(backoff, 0, 10, f"{path}.backoffLimit"),
        envelope_retrains=parse_envelope_retrains(
            read_field(obj, "envelope", path, dict, {}), f"{path}.envelope"
        ),
    )


def parse_envelope_retrains(obj: Json, path: str) -> int:
    """``spec.training.envelope.retrains``: 4 to 32 (as the CRD), default 8."""
    return check_within(read_field(obj, "retrains", path, int, 8), 4, 32, f"{path}.retrains")


def parse_serving(obj: Json, path: str = "spec.serving") -> ServingSpec:
    """Parse ``spec.serving``; thresholds must satisfy 0 <= sell < buy <= 1."""
    buy = read_field(obj, "buyThreshold", path, float, 0.55)
    sell = read_field(obj, "sellThreshold", path, float, 0.45)
    if not 0.0 <= sell < buy <= 1.0:
        problem = "must satisfy 0 <= sellThreshold < buyThreshold <= 1"
        raise SpecError(f"{path}.sellThreshold", problem)
    staleness = read_field(obj, "stalenessLimitSeconds", path, int, 60)
    return ServingSpec(
        image=read_optional(obj, "image", path, str),
        replicas=check_within(
            read_field(obj, "replicas", path, int, 2), 0, 100, f"{path}.replicas"
        ),
        resources=read_field(obj, "resources", path, dict, {}),
        staleness_limit_seconds=check_within(staleness, 1, 86_400, f"{path}.stalenessLimitSeconds"),
        fallback=check_enum(
            read_field(obj, "fallback", path, str, "hold"), c.FALLBACKS, f"{path}.fallback"
        ),
        buy_threshold=buy,
        sell_threshold=sell,
        monitoring=parse_monitoring(
            read_field(obj, "monitoring", path, dict, {}), f"{path}.monitoring"
        ),
        log_retention_seconds=parse_log_retention(
            read_field(obj, "predictionLog", path, dict, {}), f"{path}.predictionLog"
        ),
        autoscaling=parse_autoscaling(
            read_optional(obj, "autoscaling", path, dict), f"{path}.autoscaling"
        ),
        disruption_budget=parse_disruption_budget(
            read_optional(obj, "podDisruptionBudget", path, dict), f"{path}.podDisruptionBudget"
        ),
        placement=parse_placement(obj, path),
    )


def parse_log_retention(obj: Json, path: str) -> int:
    """``spec.serving.predictionLog.retentionSeconds``: one hour to 366 days (as the CRD)."""
    value = read_field(obj, "retentionSeconds", path, int, 604_800)
    return check_within(value, 3600, 31_622_400, f"{path}.retentionSeconds")


def parse_traffic(obj: Json, path: str = "spec.traffic") -> TrafficSpec:
    """Parse ``spec.traffic``; the gatewayAPI provider needs a route and parent references."""
    provider = read_field(obj, "provider", path, str, c.PROVIDER_REPLICAS)
    check_enum(provider, c.TRAFFIC_PROVIDERS, f"{path}.provider")
    gateway = read_field(obj, "gatewayAPI", path, dict, {})
    gpath = f"{path}.gatewayAPI"
    refs = tuple(
        ParentRef(
            name=read_field(ref, "name", f"{gpath}.parentRefs[{i}]", str),
            namespace=read_optional(ref, "namespace", f"{gpath}.parentRefs[{i}]", str),
            section_name=read_optional(ref, "sectionName", f"{gpath}.parentRefs[{i}]", str),
        )
        for i, ref in enumerate(read_field(gateway, "parentRefs", gpath, list, []))
    )
    if provider == c.PROVIDER_GATEWAY_API and not refs:
        raise SpecError(f"{gpath}.parentRefs", "is required when provider is gatewayAPI")
    return TrafficSpec(provider, read_optional(gateway, "routeName", gpath, str), refs)


def parse_spec(spec: Json) -> ModelDeploymentSpec:
    """Parse a whole ``spec``; raises SpecError naming the first bad field."""
    features = read_strings(spec, "features", "spec")
    for i, feature in enumerate(features):
        check_enum(feature, c.FEATURES, f"spec.features[{i}]")
    training = parse_training(read_field(spec, "training", "spec", dict))
    horizon = check_within(
        read_field(spec, "horizonSeconds", "spec", int), 1, 86_400, "spec.horizonSeconds"
    )
    if horizon >= training.data_window_seconds:
        problem = "must be smaller than spec.training.dataWindowSeconds"
        raise SpecError("spec.horizonSeconds", problem)
    policy = read_field(spec, "driftPolicy", "spec", str, "none")
    serving = parse_serving(read_field(spec, "serving", "spec", dict, {}))
    if serving.log_retention_seconds < horizon + 3600:  # outcomes need their rows past due
        problem = "must be at least spec.horizonSeconds + 3600"
        raise SpecError("spec.serving.predictionLog.retentionSeconds", problem)
    return ModelDeploymentSpec(
        model=parse_model(read_field(spec, "model", "spec", dict)),
        features=features,
        symbols=read_strings(spec, "symbols", "spec"),
        horizon_seconds=horizon,
        training=training,
        serving=serving,
        traffic=parse_traffic(read_field(spec, "traffic", "spec", dict, {})),
        kill_switch=read_field(spec, "killSwitch", "spec", bool, False),
        drift_policy=check_enum(policy, c.DRIFT_POLICIES, "spec.driftPolicy"),
        canary_template=parse_canary_template(
            read_optional(spec, "canaryTemplate", "spec", dict), "spec.canaryTemplate"
        ),
        trading=parse_trading(read_field(spec, "trading", "spec", dict, {})),
        circuit_breakers=parse_circuit_breakers(
            read_optional(spec, "circuitBreakers", "spec", dict)
        ),
        drift_retrain=parse_drift_retrain(
            read_field(spec, "driftRetrain", "spec", dict, {}), horizon
        ),
    )


def parse_modeldeployment(body: Json) -> ModelDeployment:
    """Parse a ModelDeployment object (metadata + spec)."""
    meta = read_field(body, "metadata", "", dict)
    return ModelDeployment(
        name=read_field(meta, "name", "metadata", str),
        namespace=read_field(meta, "namespace", "metadata", str, "default"),
        uid=read_field(meta, "uid", "metadata", str, ""),
        generation=read_field(meta, "generation", "metadata", int, 0),
        spec=parse_spec(read_field(body, "spec", "", dict)),
    )


def build_model_fingerprint(spec: ModelDeploymentSpec) -> str:
    """A short hash of everything that needs a new model when it changes."""
    material = {
        "model": [spec.model.type, dict(spec.model.hyperparameters), spec.model.calibration],
        "features": list(spec.features),
        "symbols": list(spec.symbols),
        "horizon": spec.horizon_seconds,
        "window": spec.training.data_window_seconds,
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return digest[:16]

"""API names, labels, annotations, condition types and reasons shared by the whole operator.

Layer: constants (no imports beyond the standard library); used by the pure core, the I/O shell,
the handlers and the canary modules alike.
"""

from typing import Final

GROUP: Final = "levibot.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

MODELDEPLOYMENT_KIND: Final = "ModelDeployment"
MODELDEPLOYMENT_PLURAL: Final = "modeldeployments"
CANARY_KIND: Final = "Canary"
CANARY_PLURAL: Final = "canaries"

FIELD_MANAGER: Final = "levibot-operator"
# Holds a stable Deployment's replicas while the operator stops applying them (autoscaling on),
# so the field is not reset to 1; the HPA's first scale takes it over (k8s SSA handover).
FIELD_MANAGER_HANDOVER: Final = "levibot-operator-hpa-handover"

# Labels on every object the operator creates.
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_NAME_VALUE: Final = "levibot"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_MANAGED_BY_VALUE: Final = "levibot-operator"
COMPONENT_PREDICTOR: Final = "predictor"
COMPONENT_TRAINER: Final = "trainer"
LABEL_MODELDEPLOYMENT: Final = "levibot.io/modeldeployment"
LABEL_VERSION: Final = "levibot.io/version"
LABEL_TRACK: Final = "levibot.io/track"
LABEL_CANARY: Final = "levibot.io/canary"  # on a canary's trainer Job: the Canary's name
LABEL_TRIGGER: Final = "levibot.io/trigger"  # why the operator opened a Canary
LABEL_JOB_NAME: Final = "batch.kubernetes.io/job-name"  # set by the Job controller on its pods
TRACK_STABLE: Final = "stable"
TRACK_CANARY: Final = "canary"

# Annotations.
ANNOTATION_PREFIX: Final = "levibot.io"
ANNOTATION_TRAINING_ATTEMPT: Final = "levibot.io/training-attempt"
ANNOTATION_SPEC_HASH: Final = "levibot.io/model-spec-hash"
ANNOTATION_RESET_BREAKER: Final = "levibot.io/reset-breaker"  # a new value resets a tripped breaker
ANNOTATION_PROM_SCRAPE: Final = "prometheus.io/scrape"
ANNOTATION_PROM_PORT: Final = "prometheus.io/port"
ANNOTATION_PROM_PATH: Final = "prometheus.io/path"

# Predictor runtime contract (docs/contracts.md).
PREDICTOR_PORT: Final = 8080
PREDICTOR_PORT_NAME: Final = "http"
PREDICTOR_PRESTOP_SECONDS: Final = 5  # preStop sleep: endpoints drop the pod before SIGTERM
KILLSWITCH_MOUNT_DIR: Final = "/etc/levibot/killswitch"
KILLSWITCH_KEY: Final = "enabled"
KILLSWITCH_PATH: Final = f"{KILLSWITCH_MOUNT_DIR}/{KILLSWITCH_KEY}"
# The same ConfigMap names the stable version: a predictor derives its track from it, live.
STABLE_VERSION_KEY: Final = "stableVersion"
STABLE_VERSION_PATH: Final = f"{KILLSWITCH_MOUNT_DIR}/{STABLE_VERSION_KEY}"
TRAINER_RESULT_PATH: Final = "/dev/termination-log"

# Condition types on ModelDeployment status.
COND_READY: Final = "Ready"
COND_TRAINING: Final = "Training"
COND_SERVING: Final = "Serving"
COND_DATA_FRESH: Final = "DataFresh"
COND_KILL_SWITCH: Final = "KillSwitch"
COND_DATABASE: Final = "DatabaseReachable"
COND_CIRCUIT_BREAKER: Final = "CircuitBreaker"  # True while a breaker holds every answer at HOLD
CONDITION_TYPES: Final = (
    COND_READY,
    COND_TRAINING,
    COND_SERVING,
    COND_DATA_FRESH,
    COND_KILL_SWITCH,
    COND_CIRCUIT_BREAKER,
    COND_DATABASE,
)

# Condition reasons (CamelCase, as Kubernetes expects).
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_TRAINING_STARTED: Final = "TrainingStarted"
REASON_TRAINING_RUNNING: Final = "TrainingRunning"
REASON_TRAINING_SUCCEEDED: Final = "TrainingSucceeded"
REASON_TRAINING_FAILED: Final = "TrainingFailed"
REASON_TRAINING_BACKOFF: Final = "TrainingBackoff"
REASON_VERSION_NOT_REGISTERED: Final = "VersionNotRegistered"
REASON_REGISTRY_UNAVAILABLE: Final = "RegistryUnavailable"
REASON_REGISTRY_REACHABLE: Final = "RegistryReachable"
REASON_DATA_FRESH: Final = "FeaturesFresh"
REASON_DATA_STALE: Final = "FeaturesStale"
REASON_NO_STALENESS_DATA: Final = "NoStalenessSeries"
REASON_PROMETHEUS_UNREACHABLE: Final = "PrometheusUnreachable"
REASON_VERSION_REGISTERED: Final = "VersionRegistered"
REASON_IDLE: Final = "Idle"
REASON_NO_MODEL: Final = "NoModelYet"
REASON_DEPLOYING: Final = "Deploying"
REASON_AVAILABLE: Final = "PredictorsAvailable"
REASON_KILL_SWITCH_ON: Final = "KillSwitchOn"
REASON_KILL_SWITCH_OFF: Final = "KillSwitchOff"
REASON_BREAKER_TRIPPED: Final = "CircuitBreakerTripped"  # also the KillSwitch reason it causes
REASON_BREAKERS_CLOSED: Final = "BreakersClosed"
REASON_BREAKERS_REMOVED: Final = "BreakersRemoved"
REASON_UNKNOWN: Final = "Unknown"
REASON_READY: Final = "Ready"
REASON_NOT_READY: Final = "NotReady"
REASON_RECONCILE_ERROR: Final = "ReconcileError"  # an unexpected error; retried with backoff
REASON_WRITE_REFUSED: Final = "WriteRefused"  # the API server refused a write (4xx)

# Phases on ModelDeployment status.
PHASE_PENDING: Final = "Pending"
PHASE_TRAINING: Final = "Training"
PHASE_DEPLOYING: Final = "Deploying"
PHASE_READY: Final = "Ready"
PHASE_DEGRADED: Final = "Degraded"
PHASE_FAILED: Final = "Failed"

# Event reasons (one per transition).
EVENT_TRAINING_STARTED: Final = "TrainingStarted"
EVENT_TRAINING_SUCCEEDED: Final = "TrainingSucceeded"
EVENT_TRAINING_FAILED: Final = "TrainingFailed"
EVENT_VERSION_REGISTERED: Final = "VersionRegistered"
EVENT_PREDICTOR_APPLIED: Final = "PredictorApplied"
EVENT_PREDICTOR_RETIRED: Final = "PredictorRetired"
EVENT_READY: Final = "Ready"
EVENT_KILL_SWITCH: Final = "KillSwitch"
EVENT_INVALID_SPEC: Final = "InvalidSpec"
EVENT_RECONCILE_ERROR: Final = "ReconcileError"
EVENT_WRITE_REFUSED: Final = "WriteRefused"
EVENT_DRIFT_RETRAIN: Final = "DriftRetrain"  # the drift loop opened a canary (why, which window)
EVENT_DRIFT_WAITING: Final = "DriftRetrainWaiting"  # ... and why it waits (once per change)

# Registry statuses (docs/contracts.md).
REGISTRY_CANDIDATE: Final = "candidate"
REGISTRY_ACTIVE: Final = "active"
REGISTRY_REJECTED: Final = "rejected"
REGISTRY_RETIRED: Final = "retired"

# The shared feature set (levibot_common.features); the CRD enum lists the same names.
FEATURES: Final = ("ret_1m", "ret_5m", "vol_1m", "vol_5m", "rsi_14", "zscore_60")
MODEL_TYPES: Final = ("logisticRegression", "histGradientBoosting")
CALIBRATIONS: Final = ("none", "sigmoid")
FALLBACKS: Final = ("hold", "zscore")
PROVIDER_REPLICAS: Final = "replicas"
PROVIDER_GATEWAY_API: Final = "gatewayAPI"
TRAFFIC_PROVIDERS: Final = (PROVIDER_REPLICAS, PROVIDER_GATEWAY_API)
DRIFT_POLICIES: Final = ("none", "retrainAndCanary")

# Canary reasons (history, events, status.reason): one per transition. TrainingStarted and
# TrainingFailed are shared with the ModelDeployment (above).
REASON_WAITING_FOR_TARGET: Final = "WaitingForTarget"
REASON_INVALID_CANDIDATE: Final = "InvalidCandidate"
REASON_STEP_STARTED: Final = "StepStarted"
REASON_ANALYSIS_PASSED: Final = "AnalysisPassed"
REASON_ANALYSIS_FAILED: Final = "AnalysisFailed"
REASON_ANALYSIS_ERROR: Final = "AnalysisError"
REASON_ANALYSIS_INCONCLUSIVE: Final = "AnalysisInconclusive"
REASON_MEASUREMENT_FAILED: Final = "MeasurementFailed"
REASON_CHECK_VERDICT: Final = "CheckVerdict"  # a judgement check reached a new verdict
REASON_OUT_OF_BUDGET: Final = "JudgementOutOfBudget"
REASON_RESUMED: Final = "Resumed"
REASON_METRICS_RECOVERED: Final = "MetricsRecovered"
REASON_PROMOTING: Final = "Promoting"
REASON_PROMOTED: Final = "Promoted"
REASON_ABORTED: Final = "Aborted"
REASON_ALERT_FIRING: Final = "AlertFiring"
REASON_PROGRESS_DEADLINE: Final = "ProgressDeadlineExceeded"
REASON_HALTED: Final = "Halted"
REASON_UNHALTED: Final = "KillSwitchCleared"
REASON_DELETED: Final = "Deleted"
REASON_RETRIED: Final = "Retried"
REASON_RETRY_REFUSED: Final = "RetryRefused"
REASON_RESTARTED: Final = "AnalysisRestarted"
# A drift alert describes the market (core.canary.market_drift): it pauses a canary, and only a
# drift the candidate alone sees rolls it back.
REASON_MARKET_DRIFT: Final = "MarketDrift"
REASON_MARKET_DRIFT_ENDED: Final = "MarketDriftEnded"
REASON_CANDIDATE_DRIFT: Final = "CandidateDrift"

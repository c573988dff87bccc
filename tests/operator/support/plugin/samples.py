"""Sample Canary and ModelDeployment objects for the kubectl plugin tests.

Statuses are built with the core's own ``build_canary_status`` and ``build_status_json``, so the
samples follow the real layout the operator writes.
"""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.status import (
    AnalysisRun,
    CanaryStatus,
    HistoryEntry,
    Phase,
    build_canary_status,
)
from levibot_operator.core.modeldeployment.status import (
    MDStatus,
    Training,
    VersionRecord,
    build_status_json,
)
from tests.operator.support.canary.builders import STEPS, T0

MD_EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "modeldeployment.yaml"
# The canary core's sample steps: 1 setWeight 10, 2 pause 1m, 3 analysis, 4 setWeight 50,
# 5 pause until resumed, 6 setWeight 100.
SPEC: dict[str, Any] = {
    "target": "btc-direction",
    "candidate": {"version": "v2"},
    "steps": STEPS,
    "analysis": {"interval": "1m", "count": 3, "thresholds": {"minSamples": 100, "eceMax": 0.06}},
}

CHECKS = (
    CheckVerdict("samples", 250.0, 100.0, ">=", Verdict.PASS, "enough resolved predictions"),
    CheckVerdict("ece", 0.0412, 0.06, "<=", Verdict.PASS, "within threshold"),
    CheckVerdict("psi", 0.31, 0.2, "<=", Verdict.FAIL, "above threshold"),
    CheckVerdict("ksPValue", None, 0.05, ">=", Verdict.INCONCLUSIVE, "no data"),
)


def history(count: int) -> tuple[HistoryEntry, ...]:
    """``count`` decisions a minute apart, entering steps 0, 1, 2, ... (reason ``Step<i>``)."""
    return tuple(
        HistoryEntry(T0 + timedelta(minutes=i), Phase.PROGRESSING, i, f"Step{i}", f"entered {i}")
        for i in range(count)
    )


def progressing_status() -> CanaryStatus:
    """At step 3 (index 2, an analysis) with 25 % asked and 24.5 % achieved, 7 decisions."""
    return CanaryStatus(
        phase=Phase.PROGRESSING,
        reason="StepStarted",
        message="step 2 started",
        stable_version="v1",
        candidate_version="v2",
        current_step=2,
        step_started_at=T0,
        desired_weight=25,
        achieved_weight=24.5,
        analysis=AnalysisRun(step=2, started_at=T0, passes=2, failures=1, inconclusives=0),
        checks=CHECKS,
        history=history(7),
    )


def paused_status(**fields: Any) -> CanaryStatus:
    """Paused at step 5 (index 4, a pause until resumed) at 50 %."""
    status = CanaryStatus(
        phase=Phase.PAUSED,
        reason="StepStarted",
        message="waiting for a resume",
        stable_version="v1",
        candidate_version="v2",
        current_step=4,
        step_started_at=T0,
        desired_weight=50,
        achieved_weight=50.0,
        history=history(2),
    )
    return replace(status, **fields)


def canary(
    status: CanaryStatus | None = None,
    name: str = "btc-next",
    annotations: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Canary object as ``kubectl get -o json`` prints it."""
    return {
        "apiVersion": "levibot.io/v1alpha1",
        "kind": "Canary",
        "metadata": {"name": name, "namespace": "trading", "annotations": annotations or {}},
        "spec": spec or SPEC,
        "status": build_canary_status(status) if status else {},
    }


def version(name: str, registry_status: str, accuracy: float, ece: float) -> VersionRecord:
    metrics: dict[str, Any] = {"accuracy": accuracy, "roc_auc": 0.571, "ece": ece}
    metrics |= {"brier": 0.2461, "test_rows": 12000, "ece_bins": [0.1, 0.2]}
    created = f"2026-11-2{name[-1]}T02:00:00Z"
    return VersionRecord(name, created, metrics, registry_status, "abc123", f"btc-train-{name}")


def md_status(**fields: Any) -> MDStatus:
    """Ready, stable v2, with v1 retired, v2 active and v3 rejected."""
    status = MDStatus(
        phase="Ready",
        message="v2 served",
        stable_version="v2",
        versions=(
            version("v1", "retired", 0.5312, 0.0481),
            version("v2", "active", 0.5401, 0.0395),
            version("v3", "rejected", 0.5102, 0.0913),
        ),
    )
    return replace(status, **fields)


def training(state: str = "Running") -> Training:
    failed = {"reason": "TrainingFailed", "message": "exit code 3"} if state == "Failed" else {}
    return Training("v4", 2, "btc-train-v4-2", "abc123", "schedule", state, "2026-11-24T02:00:00Z",
                    **failed)  # fmt: skip


def model_deployment(status: MDStatus | None = None, kill_switch: bool = False) -> dict[str, Any]:
    """A ModelDeployment object as ``kubectl get -o json`` prints it."""
    return {
        "apiVersion": "levibot.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "btc-direction", "namespace": "trading"},
        "spec": yaml.safe_load(MD_EXAMPLE.read_text())["spec"] | {"killSwitch": kill_switch},
        "status": build_status_json(status) if status else {},
    }

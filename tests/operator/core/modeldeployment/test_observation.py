"""Observation of a failed trainer Job: the trainer's result document (the pod's termination
message) becomes the Training condition's text, in the spec's words (issue 12, 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from levibot_operator.core.modeldeployment.observation import parse_job
from levibot_operator.core.modeldeployment.planning import decide_modeldeployment
from levibot_operator.core.modeldeployment.trainer_result import (
    describe_trainer_result,
    parse_trainer_result,
)
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import snapshot

SETTINGS = OperatorSettings().build_core_settings()
JOB = "btc-direction-train-v1-1"
REFUSED = (
    "hyperparameters.C: rejected by the estimator: The 'C' parameter of LogisticRegression "
    "must be a float in the range (0.0, inf]. Got -1.0 instead."
)


def failed_job() -> dict[str, Any]:
    condition = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit"}  # fmt: skip
    return {"metadata": {"name": JOB}, "status": {"conditions": [condition]}}


def trainer_pod(message: str, created: str = "2026-11-21T12:00:00Z") -> dict[str, Any]:
    terminated = {"exitCode": 2, "reason": "Error", "message": message}
    return {
        "metadata": {"name": f"{JOB}-x", "creationTimestamp": created},
        "status": {"containerStatuses": [{"name": "trainer", "state": {"terminated": terminated}}]},
    }


def result(message: str, reason: str = "bad_config", code: int = 2) -> str:
    return json.dumps({"status": "error", "exitCode": code, "reason": reason, "message": message})


def test_failed_job_message_names_the_spec_field_from_the_trainer_result() -> None:
    job = parse_job(failed_job(), [trainer_pod(result(REFUSED))])
    assert job.failed
    assert job.message.startswith("spec.model.hyperparameters.C: rejected by the estimator")
    assert "bad_config, exit code 2" in job.message


def test_training_condition_names_the_hyperparameter() -> None:
    first = decide_modeldeployment(snapshot(), SETTINGS)
    job = parse_job(failed_job(), [trainer_pod(result(REFUSED))])
    plan = decide_modeldeployment(snapshot(first.status, job=job), SETTINGS)
    training = next(x for x in plan.status.conditions if x.type == "Training")
    assert (training.status, training.reason) == ("False", "TrainingFailed")
    assert "spec.model.hyperparameters.C" in training.message
    assert any("spec.model.hyperparameters.C" in e.message for e in plan.events)


def test_without_a_readable_result_the_job_condition_is_the_message() -> None:
    assert parse_job(failed_job()).message.startswith("BackoffLimitExceeded: Job has reached")
    garbage = parse_job(failed_job(), [trainer_pod("Traceback ... MemoryError")])
    assert garbage.message.startswith("BackoffLimitExceeded")


def test_the_newest_pod_with_a_result_speaks() -> None:
    old = trainer_pod(result("dsn: unreachable", "database_unreachable", 4), "2026-11-21T11:00:00Z")
    new = trainer_pod(result(REFUSED), "2026-11-21T12:00:00Z")
    assert parse_trainer_result([new, old]) == parse_trainer_result([old, new])
    found = parse_trainer_result([old, new])
    assert found is not None
    assert found["reason"] == "bad_config"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hyperparameters.depth: not a parameter of histGradientBoosting",
         "spec.model.hyperparameters.depth: not a parameter of histGradientBoosting"),
        ("model_type: unknown model type 'x'", "spec.model.type: unknown model type 'x'"),
        ("data_window_seconds: 12 usable rows", "spec.training.dataWindowSeconds: 12 usable rows"),
        ("labels: the training rows hold a single class",
         "labels: the training rows hold a single class"),
    ],
)  # fmt: skip
def test_trainer_fields_are_named_as_the_spec_names_them(message: str, expected: str) -> None:
    text = describe_trainer_result({"reason": "bad_config", "exitCode": 2, "message": message})
    assert text == f"{expected} (trainer: bad_config, exit code 2)"

"""Failures that must name the field, through the shells on the recording fake API (issue 12, 4):
a write the API server refuses for a Canary, and a trainer Job that failed on a hyperparameter
(for the ModelDeployment and for a Canary that trains its candidate)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator.settings import OperatorSettings
from levibot_operator.shell.modeldeployment import Reconciler
from tests.operator.support.canary.builders import T0
from tests.operator.support.canary.handlers import (
    CANARY,
    MD,
    NS,
    RegistryRecorder,
    ScriptedPrometheus,
    build_world,
    canary_body,
    canary_status,
    events,
)
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import md_body

REFUSED_FIELD = "metadata.name"
RESULT = json.dumps({
    "status": "error", "exitCode": 2, "reason": "bad_config",
    "message": "hyperparameters.C: rejected by the estimator: The 'C' parameter of "
               "LogisticRegression must be a float in the range (0.0, inf]. Got -1.0 instead.",
})  # fmt: skip


class FakeResponse:
    def __init__(self, status: int, reason: str, data: str) -> None:
        self.status, self.reason, self.data = status, reason, data

    def getheaders(self) -> dict[str, str]:
        return {}


def refusal(status: int = 422) -> ApiException:
    cause = {"field": REFUSED_FIELD, "message": "a lowercase RFC 1123 subdomain must consist of"}
    body = {"kind": "Status", "reason": "Invalid", "details": {"causes": [cause]}}
    return ApiException(http_resp=FakeResponse(status, "Unprocessable Entity", json.dumps(body)))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RegistryRecorder:
    rec = RegistryRecorder()
    rec.install(monkeypatch)
    return rec


def refuse_deployments(api: FakeApi, status: int = 422) -> None:
    """The server refuses every write of a predictor Deployment (as for version ``V2``)."""
    inner = api.call_api

    async def call_api(path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        if method != "GET" and "/deployments/" in path:
            api.writes.append((method, path))
            raise refusal(status)
        return await inner(path, method, **kwargs)

    api.call_api = call_api  # type: ignore[method-assign]


async def test_a_refused_canary_write_is_a_status_reason_and_an_event(
    recorder: RegistryRecorder,
) -> None:
    api, rec, _ = build_world(ScriptedPrometheus())
    refuse_deployments(api)
    delay = await rec.reconcile_named(NS, CANARY)
    assert delay is not None  # the loop keeps going
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("Progressing", "WriteRefused")
    assert f"Deployment {MD}-v2 (422): {REFUSED_FIELD}: a lowercase" in status["message"]
    assert status["desiredWeight"] == 25  # the memory is kept
    refused = [e for e in events(api) if e["reason"] == "WriteRefused"]
    assert len(refused) == 1
    assert REFUSED_FIELD in refused[0]["message"]
    assert refused[0]["involvedObject"]["kind"] == "Canary"
    await rec.reconcile_named(NS, CANARY)  # refused again: no second Event
    assert len([e for e in events(api) if e["reason"] == "WriteRefused"]) == 1


async def test_an_accepted_write_restores_the_transition_reason(
    recorder: RegistryRecorder,
) -> None:
    api, rec, _ = build_world(ScriptedPrometheus())
    inner = api.call_api
    refuse_deployments(api)
    await rec.reconcile_named(NS, CANARY)
    api.call_api = inner  # type: ignore[method-assign]
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert status["reason"] == status["history"][-1]["reason"] != "WriteRefused"


@pytest.mark.parametrize("code", [404, 409, 429, 500])
async def test_transient_answers_are_not_refusals(recorder: RegistryRecorder, code: int) -> None:
    api, rec, _ = build_world(ScriptedPrometheus())
    refuse_deployments(api, code)
    with pytest.raises(ApiException):
        await rec.reconcile_named(NS, CANARY)


def failed_job(name: str) -> dict[str, Any]:
    condition = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
    return {"metadata": {"name": name, "namespace": NS}, "status": {"conditions": [condition]}}


def trainer_pod(job: str) -> dict[str, Any]:
    terminated = {"exitCode": 2, "message": RESULT}
    return {
        "metadata": {"name": f"{job}-abcde", "namespace": NS,
                     "labels": {"batch.kubernetes.io/job-name": job}},
        "status": {"containerStatuses": [{"name": "trainer", "state": {"terminated": terminated}}]},
    }  # fmt: skip


def put_failed_training(api: FakeApi, job: str) -> None:
    api.put(f"/apis/batch/v1/namespaces/{NS}/jobs/{job}", failed_job(job))
    api.put(f"/api/v1/namespaces/{NS}/pods/{job}-abcde", trainer_pod(job))


async def test_a_canarys_failed_training_names_the_hyperparameter(
    recorder: RegistryRecorder,
) -> None:
    api, rec, _ = build_world(ScriptedPrometheus(), canary_body(candidate={"train": True}))
    await rec.reconcile_named(NS, CANARY)
    assert canary_status(api)["phase"] == "Training"
    put_failed_training(api, f"{MD}-train-v2-1")
    await rec.reconcile_named(NS, CANARY)
    status = canary_status(api)
    assert (status["phase"], status["reason"]) == ("Failed", "TrainingFailed")
    assert "spec.model.hyperparameters.C: rejected by the estimator" in status["message"]


async def test_a_modeldeployments_failed_training_names_the_hyperparameter(
    recorder: RegistryRecorder,
) -> None:
    recorder.highest = 0  # a new ModelDeployment trains v1
    api = FakeApi()
    path = f"/apis/levibot.io/v1alpha1/namespaces/{NS}/modeldeployments/{MD}"
    api.put(path, md_body())
    shell = Reconciler(api=api, settings=OperatorSettings(), clock=lambda: T0)  # type: ignore[arg-type]
    await shell.reconcile_named(NS, MD)
    put_failed_training(api, f"{MD}-train-v1-1")
    await shell.reconcile_named(NS, MD)
    conditions = api.store[path]["status"]["conditions"]
    training = next(x for x in conditions if x["type"] == "Training")
    assert training["reason"] == "TrainingFailed"
    assert "spec.model.hyperparameters.C: rejected by the estimator" in training["message"]

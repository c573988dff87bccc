"""Undo planning: the previous stable version, and an at-once undo acted on once per value."""

import pytest

from levibot_operator import constants as c
from levibot_operator.core.intents import EVENT_WARNING, SetRegistryStatus
from levibot_operator.core.modeldeployment.spec import (
    build_model_fingerprint,
    parse_modeldeployment,
)
from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord
from levibot_operator.core.modeldeployment.undo import (
    REASON_UNDO_REFUSED,
    REASON_UNDONE,
    UndoError,
    UndoRequest,
    decide_undo_now,
    find_previous_stable,
    parse_undo_request,
    plan_undo_target,
)
from tests.operator.support.fakes import md_body

MD = parse_modeldeployment(md_body())
NOW = UndoRequest("v2", now=True)


def record(version: str, registry_status: str) -> VersionRecord:
    return VersionRecord(version, "", {}, registry_status, "fp", "")


def served(stable: str = "v3", **statuses: str) -> MDStatus:
    history = {"v1": c.REGISTRY_RETIRED, "v2": c.REGISTRY_RETIRED, "v3": c.REGISTRY_ACTIVE}
    history.update(statuses)
    versions = tuple(record(v, s) for v, s in history.items())
    return MDStatus(stable_version=stable, stable_fingerprint="old", versions=versions)


@pytest.mark.parametrize(
    ("notes", "request_"),
    [
        (None, None),
        ({"levibot.io/undo": ""}, None),
        ({"levibot.io/undo": "v2"}, UndoRequest("v2", now=False)),
        ({"levibot.io/undo": "v2", "levibot.io/undo-now": "true"}, NOW),
        ({"levibot.io/undo": "v2", "levibot.io/undo-now": "True"}, NOW),
    ],
)
def test_the_annotations(notes: dict[str, str] | None, request_: UndoRequest | None) -> None:
    assert parse_undo_request(notes) == request_


def test_the_previous_stable_is_the_newest_retired_version() -> None:
    assert find_previous_stable(served()) == "v2"
    assert find_previous_stable(served(v2=c.REGISTRY_REJECTED)) == "v1"
    assert find_previous_stable(served("v1", v1=c.REGISTRY_ACTIVE, v3=c.REGISTRY_RETIRED)) == "v3"


@pytest.mark.parametrize(
    ("status", "requested", "problem"),
    [
        (MDStatus(), None, "no stable version"),
        (served(v1=c.REGISTRY_CANDIDATE, v2=c.REGISTRY_CANDIDATE), None, "no previous"),
        (served(), "v9", "not a version"),
        (served(), "v3", "already the stable"),
        (served(v2=c.REGISTRY_REJECTED), "v2", "rejected"),
    ],
)
def test_refused_targets(status: MDStatus, requested: str | None, problem: str) -> None:
    with pytest.raises(UndoError, match=problem):
        plan_undo_target(status, requested)


def test_undo_now_makes_the_version_stable_once() -> None:
    decision = decide_undo_now(MD, served(), NOW, ())
    status = decision.status
    assert (status.stable_version, status.handled_undo) == ("v2", "v2")
    assert status.stable_fingerprint == build_model_fingerprint(MD.spec)  # no retraining
    assert [r.registry_status for r in status.versions] == ["retired", "active", "active"]
    assert decision.registry == (SetRegistryStatus("v2", "active", "restored over v3 by undo"),)
    assert [e.reason for e in decision.events] == [REASON_UNDONE]
    again = decide_undo_now(MD, status, NOW, ())
    assert (again.status, again.registry, again.events) == (status, (), ())


def test_without_now_the_operator_leaves_it_to_a_canary() -> None:
    status = served()
    assert decide_undo_now(MD, status, UndoRequest("v2", now=False), ()).status == status


def test_a_removed_annotation_clears_the_memory() -> None:
    status = decide_undo_now(MD, served(), NOW, ()).status
    assert decide_undo_now(MD, status, None, ()).status.handled_undo == ""


@pytest.mark.parametrize(
    ("status", "live", "problem"),
    [(served(), ("md-v4",), "md-v4 is live"), (served(v2=c.REGISTRY_REJECTED), (), "rejected")],
)
def test_a_refused_undo_spends_the_value_and_warns(
    status: MDStatus, live: tuple[str, ...], problem: str
) -> None:
    decision = decide_undo_now(MD, status, NOW, live)
    assert (decision.status.stable_version, decision.status.handled_undo) == ("v3", "v2")
    (event,) = decision.events
    assert (event.reason, event.type) == (REASON_UNDO_REFUSED, EVENT_WARNING)
    assert problem in event.message

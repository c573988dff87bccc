"""The fuzz layer for the custom-resource specs (issue 12, item 4): generated ModelDeployment and
Canary specs, valid-shaped and junk (wrong types, huge numbers, unicode, deep nesting, missing
fields), through the parsers and the planners. The only exception a parser may raise is
SpecError naming a field path; a planner never raises on a spec the parser accepted."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from levibot_operator.core.canary.decision import CanaryObservation, CanaryState
from levibot_operator.core.canary.machine import decide_canary
from levibot_operator.core.canary.spec import parse_canary_spec
from levibot_operator.core.canary.status import CanaryStatus
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.planning import decide_modeldeployment
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_operator.core.modeldeployment.status import MDStatus
from levibot_operator.settings import OperatorSettings
from tests.operator.support.fakes import NOW, md_body, snapshot

CORE = OperatorSettings().build_core_settings()
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**400, -(10**400), 2**63, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["0 2 30 2 *", "99999999999h", "9" * 5000 + "s", "5m", "0s", "٣m", "1e9s", "v2", "V2", ""]
    ),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)

CANARY = {
    "target": "btc-direction",
    "candidate": {"version": "v2"},
    "steps": [
        {"setWeight": 25},
        {"pause": {"duration": "1m"}},
        {"analysis": {"count": 2}},
        {"setWeight": 50},
    ],
    "analysis": {"interval": "1m", "window": "5m", "thresholds": {"minSamples": 10}},
    "shadow": {"percent": 10},
    "progressDeadline": "10m",
}


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a body, so a mutation can hit any depth."""
    found = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with up to four fields replaced by junk, deleted, or deeply nested."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(paths(body)))
        if not path:
            continue
        *parents, leaf = path
        node: Any = body
        for key in parents:
            node = node[key]
        action = draw(st.sampled_from(["junk", "delete", "nest"]))
        if action == "delete":
            del node[leaf]
        elif action == "nest":
            deep: Any = draw(JUNK)
            for _ in range(draw(st.integers(1, 60))):
                deep = {"x": [deep]}
            node[leaf] = deep
        else:
            node[leaf] = draw(JUNK)
    return body


def check_spec_error(error: SpecError) -> None:
    assert error.field, error
    assert error.field.startswith(("spec", "metadata")), error.field


@FUZZ
@given(mutated(md_body()))
def test_modeldeployment_specs_parse_or_name_a_field_and_always_plan(body: dict[str, Any]) -> None:
    try:
        md = parse_modeldeployment(body)
    except SpecError as error:
        check_spec_error(error)
        return
    snap = snapshot(MDStatus(), body=body)
    assert snap.md == md
    decide_modeldeployment(snap, CORE)
    decide_modeldeployment(snapshot(MDStatus(), body=body, now=NOW + timedelta(days=400)), CORE)


@FUZZ
@given(mutated({"spec": CANARY}))
def test_canary_specs_parse_or_name_a_field_and_always_decide(body: dict[str, Any]) -> None:
    try:
        spec = parse_canary_spec(body.get("spec") if isinstance(body.get("spec"), dict) else {})
    except SpecError as error:
        check_spec_error(error)
        return
    decide_canary(CanaryState(spec, CanaryStatus()), CanaryObservation(), NOW)

"""Durations and numbers the API server cannot refuse are bounded by the parser, naming the
field (issue 12, item 4): ``progressDeadline: 99999999999h`` was an OverflowError."""

from __future__ import annotations

from typing import Any

import pytest

from levibot_operator.core.canary.spec import parse_canary_spec
from levibot_operator.core.fields import SpecError

BASE: dict[str, Any] = {
    "target": "btc-direction",
    "candidate": {"version": "v2"},
    "steps": [{"setWeight": 25}, {"pause": {"duration": "1m"}}],
}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"progressDeadline": "99999999999h"}, "spec.progressDeadline"),
        ({"progressDeadline": "9" * 5000 + "s"}, "spec.progressDeadline"),
        ({"progressDeadline": "٣m"}, "spec.progressDeadline"),  # not an ASCII digit
        ({"steps": [{"pause": {"duration": "99999999999h"}}]}, "spec.steps[0].pause.duration"),
        ({"analysis": {"interval": "999999999999m"}}, "spec.analysis.interval"),
        ({"analysis": {"window": "99999999h"}}, "spec.analysis.window"),
        ({"analysis": {"count": 10**30}}, "spec.analysis.count"),
        (
            {"analysis": {"thresholds": {"minSamples": 10**30}}},
            "spec.analysis.thresholds.minSamples",
        ),
    ],
)
def test_an_unbounded_duration_or_count_is_refused_naming_the_field(
    patch: dict[str, Any], field: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_canary_spec({**BASE, **patch})
    assert caught.value.field == field


def test_a_long_but_sane_deadline_parses() -> None:
    assert parse_canary_spec({**BASE, "progressDeadline": "720h"}).progress_deadline.days == 30

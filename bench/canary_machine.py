"""Benchmark: cost of one canary decision tick, and of a status round trip through .status JSON.

Baseline, measured in the same run: one dataclasses.replace of the status (the least a tick can
do). Run: .venv/bin/python bench/canary_machine.py
"""

import timeit
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.decision import CanaryObservation, CanaryState, Measurement
from levibot_operator.core.canary.machine import decide_canary
from levibot_operator.core.canary.spec import parse_canary_spec
from levibot_operator.core.canary.status import (
    CanaryStatus,
    build_canary_status,
    parse_canary_status,
)

N = 20_000


SPEC = parse_canary_spec(
    {
        "target": "btc-direction",
        "candidate": {"version": "v2"},
        "steps": [{"setWeight": 10}, {"analysis": {}}, {"setWeight": 50}, {"analysis": {}}],
        "analysis": {"interval": "1m", "count": 5, "thresholds": {"eceMax": 0.06}},
    }
)
CHECK = CheckVerdict("ece", 0.03, 0.06, "<=", Verdict.PASS, "within threshold")
SEEN = CanaryObservation("v1", "v2", candidate_available=True, measurement=Measurement((CHECK,)))


def main() -> None:
    now, status = datetime(2026, 11, 21, tzinfo=UTC), CanaryStatus()
    for _ in range(3):  # Pending → setWeight → analysis → one measurement
        now += timedelta(minutes=1)
        status = decide_canary(CanaryState(SPEC, status), SEEN, now).status
    state, seen, due = CanaryState(SPEC, status), SEEN, now + timedelta(minutes=1)
    figures = {
        "baseline: dataclasses.replace(status)": lambda: replace(state.status, achieved_weight=1.0),
        "decide_canary (tick with a measurement due)": lambda: decide_canary(state, seen, due),
        "status round trip (build + parse)": lambda: parse_canary_status(
            build_canary_status(state.status)
        ),
    }
    print(f"{N} calls each, best of 3")
    for name, call in figures.items():
        best = min(timeit.repeat(call, number=N, repeat=3)) / N
        print(f"  {name:42s} {best * 1e6:8.2f} µs/call")


if __name__ == "__main__":
    main()

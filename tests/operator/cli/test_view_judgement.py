"""``kubectl levibot status`` of a canary with a judgement: every check's estimate, interval,
threshold, n, effective n, verdict and reason; waiting measurements are counted apart."""

import math
from dataclasses import replace

from levibot_operator.cli import view as kv
from levibot_operator.core.canary.analysis import CheckVerdict, Verdict
from levibot_operator.core.canary.status import AnalysisRun
from tests.operator.support.plugin.samples import T0, canary, progressing_status

JUDGED = (
    CheckVerdict("errorRate", 0.0, 0.01, "<=", Verdict.PASS, "within threshold"),
    CheckVerdict(
        "agreement", 0.1, 0.03, "<=", Verdict.DIFFERENT, "lower bound 0.09 > envelope 0.03",
        lower=0.09, upper=0.11, n=7200, n_eff=30,
    ),
    CheckVerdict(
        "nonInferiority", None, 0.01, "<=", Verdict.WAITING,
        "waiting for 8 finished blocks of 361 s, have 3", n=1200, n_eff=3, gating=False,
    ),
    CheckVerdict(
        "calibrationEce", 0.05, math.nan, "<=", Verdict.READING, "reading (not a gate)",
        lower=0.02, upper=0.08, n=7200, n_eff=30, gating=False,
    ),
)  # fmt: skip


def lines_of(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_judged_checks_show_interval_n_and_effective_n() -> None:
    run = AnalysisRun(step=2, started_at=T0, passes=0, failures=1, waits=4)
    status = replace(progressing_status(), checks=JUDGED, analysis=run)
    shown = lines_of(kv.format_canary(canary(status)))
    assert (
        "analysis step 3: 1 measurements (0 pass, 1 fail, 0 inconclusive), 0 query errors in a "
        "row, 4 waiting for finished blocks"
    ) in shown
    start = shown.index("checks") + 1
    assert shown[start : start + 5] == [
        "CHECK ESTIMATE INTERVAL THRESHOLD N NEFF VERDICT REASON",
        "errorRate 0 - <= 0.01 - - Pass within threshold",
        "agreement 0.1 [0.09, 0.11] <= 0.03 7200 30 Different lower bound 0.09 > envelope 0.03",
        "nonInferiority - - <= 0.01 1200 3 Waiting (not gating) waiting for 8 finished blocks "
        "of 361 s, have 3",
        "calibrationEce 0.05 [0.02, 0.08] - 7200 30 Reading (not gating) reading (not a gate)",
    ]


def test_the_pooled_rows_show_since_when_every_step_judges_them() -> None:
    run = AnalysisRun(step=3, started_at=T0)
    status = replace(progressing_status(), analysis=run, judgement_since=T0)
    shown = lines_of(kv.format_canary(canary(status)))
    assert f"judged paired rows since {T0.isoformat()}" in shown
    without = lines_of(kv.format_canary(canary(replace(status, judgement_since=None))))
    assert not [line for line in without if line.startswith("judged")]

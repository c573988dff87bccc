"""``kubectl levibot retry|restart|undo``: which phases they fit, the kubectl calls they make
(recorded, no cluster), and the Canary an undo opens."""

import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from levibot_operator.cli import plugin as kp
from levibot_operator.cli import undo as ku
from levibot_operator.cli import view as kv
from levibot_operator.core.canary.spec import parse_canary_spec
from levibot_operator.core.canary.status import Phase, build_canary_status
from tests.operator.support.plugin.samples import (
    SPEC,
    canary,
    md_status,
    model_deployment,
    paused_status,
    progressing_status,
)


@pytest.mark.parametrize(
    ("action", "phase", "outcome"),
    [
        ("retry", Phase.ROLLED_BACK, ""),
        ("retry", Phase.FAILED, ""),
        ("retry", Phase.SUCCEEDED, "cannot retry: the canary is Succeeded"),
        ("retry", Phase.PROGRESSING, "cannot retry: the canary is Progressing"),
        ("restart", Phase.PAUSED, "cannot restart: step 5 is not an analysis"),
        ("restart", Phase.ROLLED_BACK, "cannot restart: the canary is RolledBack"),
    ],
)
def test_which_phases_fit(action: str, phase: Phase, outcome: str) -> None:
    status = paused_status(phase=phase)
    if outcome:
        with pytest.raises(kv.PluginError, match=re.escape(outcome)):
            kv.decide_request(action, status, SPEC)
    else:
        assert kv.decide_request(action, status, SPEC) == ""


def test_restart_fits_an_analysis_step() -> None:
    assert kv.decide_request("restart", progressing_status(), SPEC) == ""  # step 3: analysis


class Recorder:
    """Stands in for kubectl: records the arguments, answers with the given objects."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.calls: list[tuple[tuple[str, ...], str | None]] = []
        self.answers = list(answers)

    def __call__(self, _: kp.Kubectl, *args: str, stdin: str | None = None) -> str:
        self.calls.append((args, stdin))
        return json.dumps(self.answers.pop(0) if self.answers else {})


def run(monkeypatch: pytest.MonkeyPatch, recorder: Recorder, argv: list[str]) -> str:
    monkeypatch.setattr(kp, "run_kubectl", recorder)
    out = io.StringIO()
    rt = kp.Runtime(
        lambda: datetime(2026, 1, 2, tzinfo=UTC), lambda: "abcdef123456", lambda _: None, out
    )
    assert kp.run_command(kp.parse_args(argv), kp.Kubectl("kubectl"), rt) == 0
    return out.getvalue()


def test_retry_sets_its_token_and_clears_abort_and_promote_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rolled_back = canary(paused_status(phase=Phase.ROLLED_BACK))
    pending = {**rolled_back, "status": build_canary_status(paused_status(phase=Phase.PENDING))}
    recorder = Recorder(rolled_back, pending)
    shown = run(monkeypatch, recorder, ["retry", "btc-next", "--wait", "0"])
    args = recorder.calls[1][0]
    assert args[:4] == ("annotate", "canaries.levibot.io", "btc-next", "--overwrite")
    assert args[4] == "levibot.io/retry=20260102T000000Z-abcdef12"
    assert args[5:7] == ("levibot.io/abort-", "levibot.io/promote-")
    assert "requested retry of canary btc-next (levibot.io/retry=" in shown
    assert "phase: RolledBack -> Pending" in shown


def test_undo_opens_a_canary_of_the_previous_version_from_the_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder(model_deployment(md_status()))
    shown = run(monkeypatch, recorder, ["undo", "btc-direction"])
    args, stdin = recorder.calls[1]
    assert args == ("create", "-f", "-")
    created = json.loads(stdin or "{}")
    assert created["metadata"]["name"] == "btc-direction-undo-v1-abcde"
    assert created["metadata"]["labels"]["levibot.io/trigger"] == "undo"
    assert created["spec"]["candidate"] == {"version": "v1"}
    assert parse_canary_spec(created["spec"]).target == "btc-direction"
    assert "rolls btc-direction back to v1" in shown


def test_undo_now_sets_the_annotation_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    undone = model_deployment(md_status(stable_version="v1"))
    recorder = Recorder(model_deployment(md_status()), undone)
    shown = run(monkeypatch, recorder, ["undo", "btc-direction", "--to", "v1", "--now"])
    assert recorder.calls[1][0][-4:-2] == ("levibot.io/undo=v1", "levibot.io/undo-now=true")
    assert "stable now: v1" in shown


@pytest.mark.parametrize(
    ("to", "problem"),
    [("v3", "v3 was rejected"), ("v2", "already the stable"), ("v7", "not a version")],
)
def test_undo_refusals(to: str, problem: str) -> None:
    with pytest.raises(kv.PluginError, match=problem) as refused:
        ku.plan_undo_version(model_deployment(md_status()), to)
    assert refused.value.code == kv.EXIT_REFUSED


def test_help_explains_every_command() -> None:
    text = kp.build_parser().format_help()
    for word in ("retry <canary>", "restart <canary>", "undo <md>", "levibot.io/undo-now"):
        assert word in text

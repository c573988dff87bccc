"""The ``kubectl levibot`` plugin: table tests of its pure views and decisions, and an
end-to-end run against the local kube-apiserver (CRDs applied, objects and status written
directly, no operator running)."""

import io
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from levibot_devstack.cluster import LocalCluster
from levibot_operator.cli import plugin as kp
from levibot_operator.cli import view as kv
from levibot_operator.core.canary.spec import (
    ANNOTATION_ABORT,
    ANNOTATION_PROMOTE,
    ANNOTATION_RESUME,
)
from levibot_operator.core.canary.status import CanaryStatus, Phase, build_canary_status
from levibot_operator.core.modeldeployment.history import RegistryEntry, merge_version_history
from tests.operator.support.plugin.cluster import (
    annotations,
    create,
    install_crds,
    patch_status,
    run_as_kubectl_plugin,
    run_plugin,
)
from tests.operator.support.plugin.samples import (
    SPEC,
    T0,
    canary,
    md_status,
    model_deployment,
    paused_status,
    progressing_status,
    training,
)


def lines_of(text: str) -> list[str]:
    """Lines with runs of spaces squeezed, so column widths do not matter."""
    return [" ".join(line.split()) for line in text.splitlines()]


# -- views ----------------------------------------------------------------------------------------


def test_the_annotations_are_the_cores() -> None:
    assert kv.ANNOTATIONS == {
        "promote": ANNOTATION_PROMOTE,
        "abort": ANNOTATION_ABORT,
        "resume": ANNOTATION_RESUME,
    }


def test_a_progressing_canary_shows_versions_step_weights_checks_and_last_decisions() -> None:
    shown = lines_of(kv.format_canary(canary(progressing_status())))
    assert shown[:5] == [
        "Canary trading/btc-next",
        "target btc-direction: v1 (stable) -> v2 (candidate)",
        "phase Progressing StepStarted: step 2 started",
        "step 3/6 analysis",
        "weight desired 25 %, achieved 24.5 %",
    ]
    assert (
        "analysis step 3: 3 measurements (2 pass, 1 fail, 0 inconclusive), 0 query errors in a row"
        in shown
    )
    checks = shown[shown.index("checks") + 1 : shown.index("checks") + 6]
    assert checks == [
        "CHECK VALUE THRESHOLD VERDICT REASON",
        "samples 250 >= 100 Pass enough resolved predictions",
        "ece 0.0412 <= 0.06 Pass within threshold",
        "psi 0.31 <= 0.2 Fail above threshold",
        "ksPValue none >= 0.05 Inconclusive no data",
    ]  # fmt: skip
    assert "history last 5 of 7 decisions" in shown
    assert [line.split()[-1] for line in shown[-5:]] == ["2", "3", "4", "5", "6"]
    assert shown[-1] == "2026-11-21 12:06:00 Progressing 7 Step6 entered 6"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ["phase Pending", "step 1/6 setWeight 10", "weight desired 0 %, achieved 0 %"]),
        (
            paused_status(),
            ["phase Paused StepStarted: waiting for a resume", "step 5/6 pause until resumed"],
        ),
        (
            paused_status(current_step=1, desired_weight=10),
            ["step 2/6 pause 1m", "weight desired 10 %, achieved 50 %"],
        ),
        (
            paused_status(
                phase=Phase.HALTED, halted_from=Phase.PAUSED, reason="Halted", message=""
            ),
            ["phase Halted (from Paused) Halted"],
        ),
        (
            paused_status(phase=Phase.PROMOTING, current_step=6, desired_weight=100, reason=""),
            ["phase Promoting waiting for a resume", "step 6/6 done"],
        ),
    ],
)
def test_phase_and_step_lines(status: CanaryStatus | None, expected: list[str]) -> None:
    shown = lines_of(kv.format_canary(canary(status)))
    for line in expected:
        assert line in shown


def test_a_fresh_canary_names_no_versions_and_has_no_tables() -> None:
    shown = lines_of(kv.format_canary(canary()))
    assert shown[1] == "target btc-direction: none (stable) -> none (candidate)"
    assert not [line for line in shown if line.startswith(("checks", "history", "analysis"))]


@pytest.mark.parametrize(
    ("notes", "handled", "expected"),
    [
        ({}, None, None),
        ({ANNOTATION_PROMOTE: "p1"}, None, "requests promote=p1"),
        ({ANNOTATION_RESUME: "r1", ANNOTATION_ABORT: "a1"}, None, "requests abort=a1, resume=r1"),
        ({ANNOTATION_RESUME: "r1"}, "r1", "requests resume=r1 (handled)"),
        ({ANNOTATION_RESUME: ""}, None, None),
    ],
)
def test_standing_requests(
    notes: dict[str, str], handled: str | None, expected: str | None
) -> None:
    obj = canary(paused_status(handled_resume=handled), annotations=notes)
    shown = [line for line in lines_of(kv.format_canary(obj)) if line.startswith("requests")]
    assert shown == ([expected] if expected else [])


def test_an_unreadable_status_is_an_error_naming_the_canary() -> None:
    obj = canary(name="broken") | {"status": {"phase": "Sideways"}}
    with pytest.raises(kv.PluginError, match="canary broken has an unreadable status"):
        kv.format_canary(obj)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.041234, "0.04123"), (12000, "12000"), (True, "-"), (None, "-"), ("0.5", "-"), (0.0, "0")],
)
def test_format_number(value: object, shown: str) -> None:
    assert kv.format_number(value) == shown


@pytest.mark.parametrize(
    ("step", "label"),
    [
        ({"setWeight": 25}, "setWeight 25"),
        ({"pause": {"duration": "5m"}}, "pause 5m"),
        ({"pause": {"untilResumed": True}}, "pause until resumed"),
        ({"analysis": {}}, "analysis"),
        ({}, "unknown"),
        ("garbage", "unknown"),
    ],
)
def test_step_labels(step: object, label: str) -> None:
    assert kv.build_step_label(step) == label


def test_the_overview_lists_canaries_and_model_deployments() -> None:
    canaries = [canary(progressing_status()), canary(paused_status(), name="eth-next")]
    deployments = [model_deployment(md_status(training=training("Failed")), kill_switch=True)]
    assert lines_of(kv.format_overview(canaries, deployments)) == [
        "CANARY TARGET STABLE CANDIDATE PHASE STEP WEIGHT",
        "btc-next btc-direction v1 v2 Progressing 3/6 25/24.5",
        "eth-next btc-direction v1 v2 Paused 5/6 50/50",
        "",
        "MODELDEPLOYMENT PHASE STABLE VERSIONS TRAINING KILLSWITCH",
        "btc-direction Ready v2 3 v4 Failed on",
    ]
    assert kv.format_overview([], []) == "No canaries.\n\nNo ModelDeployments."


def test_version_history_marks_the_stable_version_and_shows_metrics() -> None:
    shown = lines_of(kv.format_versions(model_deployment(md_status(training=training()))))
    assert shown == [
        "ModelDeployment trading/btc-direction: phase Ready, stable v2",
        "training v4 attempt 2 Running (btc-train-v4-2)",
        "VERSION STATUS CREATED ACCURACY ROC_AUC ECE BRIER LOG_LOSS TEST_ROWS REASON",
        "v1 retired 2026-11-21T02:00:00Z 0.5312 0.571 0.0481 0.2461 - 12000 -",
        "v2 * active 2026-11-22T02:00:00Z 0.5401 0.571 0.0395 0.2461 - 12000 -",
        "v3 rejected 2026-11-23T02:00:00Z 0.5102 0.571 0.0913 0.2461 - 12000 -",
        "(* = stable)",
    ]


def test_history_shows_versions_a_canary_trained_with_their_reasons_and_the_omitted() -> None:
    rejected = RegistryEntry(
        "v5", "rejected", "ece=0.12 (threshold <= 0.06)", "2026-11-24T02:00:00Z", {"ece": 0.12}
    )
    status = merge_version_history(md_status(), [rejected], limit=3)
    body = model_deployment(status)
    shown = lines_of(kv.format_versions(body))
    assert "(1 older versions not shown)" in shown
    assert "v5 rejected 2026-11-24T02:00:00Z - - 0.12 - - - ece=0.12 (threshold <= 0.06)" in shown
    assert not [line for line in shown if line.startswith("v1 ")]


def test_a_failed_training_and_no_versions() -> None:
    shown = lines_of(
        kv.format_versions(model_deployment(md_status(versions=(), training=training("Failed"))))
    )
    assert shown[1:] == [
        "training v4 attempt 2 Failed (btc-train-v4-2), TrainingFailed: exit code 3",
        "no versions yet",
    ]  # fmt: skip


# -- requests -------------------------------------------------------------------------------------

HALTED_PAUSED = paused_status(phase=Phase.HALTED, halted_from=Phase.PAUSED)
HALTED_PENDING = paused_status(phase=Phase.HALTED, halted_from=Phase.PENDING)
TIMED_PAUSE = paused_status(current_step=1)


@pytest.mark.parametrize(
    ("action", "status", "outcome"),
    [
        ("promote", progressing_status(), ""),
        ("promote", paused_status(), ""),
        ("promote", HALTED_PAUSED, "kill-switch is on"),
        ("promote", CanaryStatus(), "cannot promote: the canary is Pending"),
        ("promote", paused_status(phase=Phase.TRAINING), "cannot promote: the canary is Training"),
        (
            "promote",
            paused_status(phase=Phase.PROMOTING),
            "cannot promote: the canary is Promoting",
        ),
        ("promote", HALTED_PENDING, "cannot promote: the canary is Halted"),
        ("abort", CanaryStatus(), ""),
        ("abort", progressing_status(), ""),
        ("abort", HALTED_PENDING, ""),
        ("abort", paused_status(phase=Phase.SUCCEEDED), "cannot abort: the canary is Succeeded"),
        ("abort", paused_status(phase=Phase.ROLLED_BACK), "cannot abort: the canary is RolledBack"),
        ("resume", paused_status(), ""),
        ("resume", HALTED_PAUSED, "kill-switch is on"),
        ("resume", progressing_status(), "cannot resume: the canary is Progressing (needs Paused)"),
        ("resume", TIMED_PAUSE, "cannot resume: step 2 is a timed pause"),
        ("resume", paused_status(phase=Phase.FAILED), "cannot resume: the canary is Failed"),
    ],
)
def test_which_requests_fit_which_phase(action: str, status: CanaryStatus, outcome: str) -> None:
    if outcome.startswith("cannot"):
        with pytest.raises(kv.PluginError, match=re.escape(outcome)) as refused:
            kv.decide_request(action, status, SPEC)
        assert refused.value.code == kv.EXIT_REFUSED
    else:
        assert outcome in kv.decide_request(action, status, SPEC)


def test_tokens_are_fresh_and_carry_the_time() -> None:
    first, second = kv.build_token(T0, "a" * 32), kv.build_token(T0, "b" * 32)
    assert first == "20261121T120000Z-aaaaaaaa"
    assert first != second
    assert kv.build_token(T0 + timedelta(seconds=1), "a" * 32) != first


def test_the_request_report_says_what_changed() -> None:
    before = canary(paused_status())
    after = canary(paused_status(phase=Phase.PROGRESSING, reason="Resumed", message="resumed"))
    assert kv.format_request("resume", before, "tok", after, "") == (
        "requested resume of canary btc-next (levibot.io/resume=tok)\n"
        "phase: Paused -> Progressing  Resumed: resumed"
    )
    unchanged = kv.format_request("promote", before, "tok", before, "a note")
    assert unchanged.splitlines()[1:] == [
        "phase: Paused (unchanged so far: the operator acts on it)",
        "note: a note",
    ]


# -- watch and command line -----------------------------------------------------------------------


class Screen:
    """A fake runtime: records sleeps and output; renders a scripted sequence of refreshes."""

    def __init__(self, frames: list[tuple[str, bool]], interrupt_at: int = -1) -> None:
        self.frames, self.interrupt_at, self.sleeps = frames, interrupt_at, list[float]()
        self.out = io.StringIO()
        self.runtime = kp.Runtime(lambda: T0, lambda: "f" * 32, self.sleeps.append, self.out)
        self.rendered = 0

    def render(self) -> tuple[str, bool]:
        if self.rendered == self.interrupt_at:
            raise KeyboardInterrupt
        self.rendered += 1
        return self.frames[self.rendered - 1]


@pytest.mark.parametrize(
    ("frames", "limit", "interrupt_at", "rendered", "sleeps"),
    [
        ([("a", False), ("b", False), ("c", True), ("d", False)], 10, -1, 3, 2),
        ([("a", False), ("b", False), ("c", False)], 2, -1, 2, 1),
        ([("a", False), ("b", False), ("c", False)], 10, 1, 1, 1),
    ],
)
def test_watch_stops_when_done_at_its_bound_or_on_ctrl_c(
    frames: list[tuple[str, bool]], limit: int, interrupt_at: int, rendered: int, sleeps: int
) -> None:
    screen = Screen(frames, interrupt_at)
    assert kp.run_watch(screen.render, screen.runtime, 2.0, limit) == 0
    assert screen.rendered == rendered
    assert screen.sleeps == [2.0] * sleeps
    shown = screen.out.getvalue()
    assert [f for f, _ in frames[:rendered]] == [ln for ln in shown.splitlines() if len(ln) == 1]
    assert "\x1b[" not in shown  # no screen clearing when the output is not a terminal


def test_watch_shows_a_failed_refresh_and_goes_on_but_stops_at_a_missing_canary() -> None:
    calls: Iterator[kv.PluginError | tuple[str, bool]]
    calls = iter([kv.PluginError("connection refused"), ("a", True)])

    def flaky() -> tuple[str, bool]:
        outcome = next(calls)
        if isinstance(outcome, kv.PluginError):
            raise outcome
        return outcome

    screen = Screen([])
    assert kp.run_watch(flaky, screen.runtime, 2.0, 5) == 0
    assert screen.out.getvalue().splitlines()[::2] == ["error: connection refused", "a"]

    def missing() -> tuple[str, bool]:
        raise kv.PluginError("not found", kv.EXIT_NOT_FOUND)

    with pytest.raises(kv.PluginError, match="not found"):
        kp.run_watch(missing, screen.runtime, 2.0, 5)


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "x", "--watch", "--interval", "0"],
        ["status", "--max-refreshes", "0"],
        ["promote", "x", "--wait", "-1"],
        ["promote"],
        ["rollback", "x"],
        ["abort", "--", "--all"],
        ["status", "Upper"],
        ["history", "a" * 254],
        ["status", "-n", "bad_ns"],
    ],
)
def test_bad_command_lines_exit_with_usage(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        kp.parse_args(argv)
    assert usage.value.code == kv.EXIT_USAGE


def test_global_flags_pass_through_to_kubectl() -> None:
    args = kp.parse_args(["status", "-n", "trading", "--context", "kind-levibot"])
    assert kp.build_kubectl(args, "/bin/kubectl") == kp.Kubectl(
        "/bin/kubectl", ("--namespace=trading", "--context=kind-levibot")
    )


@pytest.mark.parametrize("kubectl", ["", "/nonexistent/kubectl"])
def test_without_kubectl_the_plugin_says_so(
    kubectl: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("KUBECTL", kubectl)
    assert kp.main(["status", "btc-next"]) == kv.EXIT_NO_KUBECTL
    assert "error: kubectl not found" in capsys.readouterr().err


# -- against the real kube-apiserver --------------------------------------------------------------


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def cluster_ns(kube: LocalCluster, kube_namespace: str) -> str:
    """A namespace holding ModelDeployment btc-direction and Canary btc-next, Paused at step 5."""
    install_crds(kube)
    create(kube, kube_namespace, model_deployment(md_status()))
    create(kube, kube_namespace, canary(paused_status()))
    return kube_namespace


@pytest.mark.cluster
def test_status_and_history_read_the_real_objects(kube: LocalCluster, cluster_ns: str) -> None:
    ns = cluster_ns
    shown = lines_of(ok(run_plugin(kube, "status", "btc-next", "-n", ns)))
    assert shown[:5] == [
        f"Canary {ns}/btc-next",
        "target btc-direction: v1 (stable) -> v2 (candidate)",
        "phase Paused StepStarted: waiting for a resume",
        "step 5/6 pause until resumed",
        "weight desired 50 %, achieved 50 %",
    ]
    overview = lines_of(ok(run_plugin(kube, "status", "-n", ns)))
    assert "btc-next btc-direction v1 v2 Paused 5/6 50/50" in overview
    assert "btc-direction Ready v2 3 - off" in overview
    history = lines_of(ok(run_plugin(kube, "history", "btc-direction", "-n", ns)))
    assert "v2 * active 2026-11-22T02:00:00Z 0.5401 0.571 0.0395 0.2461 - 12000 -" in history
    watched = run_plugin(kube, "status", "btc-next", "-n", ns, "-w", "--interval", "0.1",
                         "--max-refreshes", "2")  # fmt: skip
    assert ok(watched).count(f"Canary {ns}/btc-next") == 2


@pytest.mark.cluster
def test_requests_set_annotations_with_fresh_tokens(
    kube: LocalCluster, cluster_ns: str, tmp_path: Path
) -> None:
    ns, tokens = cluster_ns, []
    for action, key in (("resume", ANNOTATION_RESUME), ("resume", ANNOTATION_RESUME),
                        ("promote", ANNOTATION_PROMOTE), ("abort", ANNOTATION_ABORT)):  # fmt: skip
        said = ok(run_plugin(kube, action, "btc-next", "-n", ns, "--wait", "0")).splitlines()
        token = annotations(kube, ns, "btc-next")[key]
        assert said == [
            f"requested {action} of canary btc-next ({key}={token})",
            "phase: Paused (unchanged so far: the operator acts on it)",
        ]
        tokens.append(token)
    assert len(set(tokens)) == len(tokens)  # a fresh token for every request
    # kubectl itself finds the plugin on PATH and hands it the user's flags.
    shown = ok(run_as_kubectl_plugin(kube, tmp_path, "status", "btc-next", "-n", ns))
    assert f"requests promote={tokens[2]}, abort={tokens[3]}, resume={tokens[1]}" in lines_of(shown)


@pytest.mark.cluster
def test_refusals_and_missing_objects(kube: LocalCluster, cluster_ns: str) -> None:
    ns = cluster_ns
    done = paused_status(phase=Phase.SUCCEEDED, reason="Promoted", message="v2 promoted over v1")
    patch_status(kube, ns, "Canary", "btc-next", build_canary_status(done))
    refused = run_plugin(kube, "resume", "btc-next", "-n", ns)
    assert refused.returncode == kv.EXIT_REFUSED
    assert "error: cannot resume: the canary is Succeeded (needs Paused)" in refused.stderr
    assert annotations(kube, ns, "btc-next") == {}
    # Watching a finished canary shows it once and ends.
    finished = lines_of(ok(run_plugin(kube, "status", "btc-next", "-n", ns, "--watch")))
    assert finished.count("phase Succeeded Promoted: v2 promoted over v1") == 1
    missing = run_plugin(kube, "promote", "nope", "-n", ns)
    assert missing.returncode == kv.EXIT_NOT_FOUND
    assert 'canaries.levibot.io "nope" not found' in missing.stderr
    no_md = run_plugin(kube, "history", "nope", "-n", ns)
    assert no_md.returncode == kv.EXIT_NOT_FOUND

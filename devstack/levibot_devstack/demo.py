"""`make demo`: levibot end to end on one machine, on the embedded defaults.

Tooling layer. Brings up the local stack (stack.py: control plane,
local kubelet, PostgreSQL with a live feed, Prometheus, Alertmanager, and the
chart with the operator as a pod), then tells the story with real processes,
applying examples/demo/: a ModelDeployment trains v1 for real and its
predictors serve a steady stream of traffic; the kill-switch turns every answer
into HOLD without a restart; a Canary trains v2 and promotes it step by step on
its statistical judgement (both versions score every request; stage 1 agreement against the
retraining-noise envelope, the calibration test, each with its interval; examples/canary.yaml's
statistics on the demo's time scale); a second Canary (v3) waits at 50 % while the market
drifts, and the drift alert (Prometheus → Alertmanager → the operator's webhook) pauses it
(MarketDrift: the market moved, not v3); once v3 is abandoned, the drift policy retrains on the
drifted market and the demo watches its canary to the verdict of the paired rules: the retrain
promoted over the stable (the loop closed). Progress is printed live and summarised at the end.
Ctrl-C stops everything.

    python -m levibot_devstack.demo [--keep] [--workdir .run/demo]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from levibot_devstack.demo_view import (
    by_version,
    decided_checks,
    describe_canary,
    describe_checks,
    describe_drift,
    describe_history,
    describe_md,
    describe_paper,
    describe_quality,
    describe_verdict,
)
from levibot_devstack.stack import LocalStack, StackConfig, load_example
from levibot_devstack.tools import ROOT
from levibot_devstack.traffic import BackgroundTraffic

STARTED = time.monotonic()
NS = "levibot-demo"
MD = "btc-direction"
HOLD = "btc-direction-v3"


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def watch(describe: Callable[[], tuple[str, bool]], timeout: float, every: float = 1.0) -> None:
    """Prints `describe()` whenever it changes, until it says done or `timeout` passes."""
    last, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        line, done = describe()
        if line != last:
            say(line)
            last = line
        if done:
            return
        time.sleep(every)
    raise TimeoutError(f"no progress after {timeout:.0f}s; last: {last}")


def show_md(stack: LocalStack, name: str) -> tuple[str, bool]:
    return describe_md(stack.get(NS, "md", name), stack.get(NS, "pods")["items"])


def show_traffic(traffic: BackgroundTraffic) -> str:
    stats = traffic.take_recent()
    total = sum(stats.answers.values()) or 1
    shares = " ".join(f"{v}/{t}={n / total:.0%}" for (v, t), n in sorted(stats.answers.items()))
    extra = f" fallbacks={dict(stats.fallbacks)}" if stats.fallbacks else ""
    extra += f" errors={dict(stats.errors)}" if stats.errors else ""
    return f"traffic: {sum(stats.answers.values())} answers {shares or '-'}{extra}"


def registry_line(row: dict[str, Any]) -> str:
    metrics = json.loads(row["metrics"])
    reason = f" ({row['reason']})" if row.get("reason") else ""
    return (
        f"{row['version']} {row['status']}{reason}  roc_auc={metrics['roc_auc']:.3f} "
        f"ece={metrics['ece']:.3f} (baseline roc_auc={metrics['baseline']['roc_auc']:.3f})"
    )


def quality(stack: LocalStack) -> str:
    psi = by_version(
        stack.prom_query(f'max by (version) (levibot_feature_psi{{namespace="{NS}"}})')
    )
    ece = by_version(stack.prom_query(f'max by (version) (levibot_model_ece{{namespace="{NS}"}})'))
    return describe_quality(psi, ece)


def watch_canary(
    stack: LocalStack, name: str, traffic: BackgroundTraffic, until: str, timeout: float = 900
) -> Any:
    """Prints the canary's line when it changes and, every 10 s, traffic and quality, until
    its phase is `until` (or terminal)."""
    last, deadline, every = "", time.monotonic() + timeout, time.monotonic() + 10
    while time.monotonic() < deadline:
        canary = stack.get(NS, "canary", name)
        line, done = describe_canary(canary)
        if line != last:
            say(line)
            last = line
        if time.monotonic() >= every:
            say(f"  {show_traffic(traffic)} | {quality(stack)}")
            every = time.monotonic() + 10
        status = canary.get("status") or {}
        if done or status.get("phase") == until or until in decided_checks(status):
            return canary
        time.sleep(1)
    raise TimeoutError(f"canary {name} never reached {until}; last: {last}")


def story_train_and_serve(stack: LocalStack, summary: dict[str, Any]) -> BackgroundTraffic:
    step("1. kubectl apply -f examples/demo/modeldeployment.yaml: train v1 for real, serve it")
    stack.apply(NS, load_example("demo/modeldeployment.yaml"))
    watch(lambda: show_md(stack, MD), timeout=300)
    [row] = stack.registry_rows(f"{NS}.{MD}")
    say(f"registry: {registry_line(row)}")
    metrics = json.loads(row["metrics"])
    summary["v1"] = {k: round(metrics[k], 4) for k in ("roc_auc", "ece", "brier", "accuracy")}
    step("traffic from the live market feed through the Service, 30 predictions/s from now on")
    traffic = stack.start_traffic(NS, MD, rate=30)
    time.sleep(6)
    say(show_traffic(traffic))
    query = f'sum by (version) (levibot_predict_requests_total{{namespace="{NS}"}})'
    scraped = by_version(stack.prom_query(query))
    say(f"Prometheus has scraped the predictors: requests by version {scraped}")
    return traffic


def story_kill_switch(
    stack: LocalStack, traffic: BackgroundTraffic, summary: dict[str, Any]
) -> None:
    step("2. kill-switch: every answer becomes HOLD, without restarting a pod")
    patch = ["-n", NS, "patch", "md", MD, "--type=merge", "-p"]
    stack.kube.kubectl(*patch, '{"spec": {"killSwitch": true}}')
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 60
    traffic.take_recent()
    while time.monotonic() < deadline:
        time.sleep(2)
        stats = traffic.take_recent()
        if stats.answers and set(stats.fallbacks) == {"kill_switch"}:
            seen = dict(stats.fallbacks)
            break
    say(f"every answer: HOLD, reason kill_switch ({seen})")
    summary["kill_switch"] = seen
    stack.kube.kubectl(*patch, '{"spec": {"killSwitch": false}}')
    time.sleep(4)
    traffic.take_recent()
    time.sleep(2)
    say(f"kill-switch cleared; {show_traffic(traffic)}")


def story_promote(stack: LocalStack, traffic: BackgroundTraffic, summary: dict[str, Any]) -> None:
    step("3. kubectl apply -f examples/demo/canary-promote.yaml: train v2, 50 % → 100 %, promote")
    say(
        "from its first step both versions score every request (shadow); the judgement waits for "
        "13 blocks of 6 s (agreement) and 4 blocks of 71 s with outcomes (calibration), ~5 min"
    )
    started = time.monotonic()
    stack.apply(NS, load_example("demo/canary-promote.yaml"))
    canary = watch_canary(stack, "btc-direction-v2", traffic, until="Succeeded")
    print("\n".join(describe_history(canary)), flush=True)
    say(f"last look: {describe_checks(canary['status'].get('checks') or [])}")
    say(f"judged and promoted in {time.monotonic() - started:.0f}s (training included)")
    rows = {r["version"]: r for r in stack.registry_rows(f"{NS}.{MD}")}
    for row in rows.values():
        say(f"registry: {registry_line(row)}")
    summary["promote"] = {
        "phase": canary["status"]["phase"],
        "seconds": round(time.monotonic() - started),
        "registry": {v: r["status"] for v, r in rows.items()},
    }


def story_drift(stack: LocalStack, traffic: BackgroundTraffic, summary: dict[str, Any]) -> None:
    step("4. kubectl apply -f examples/demo/canary-hold.yaml: train v3, hold it at 50 %")
    stack.apply(NS, load_example("demo/canary-hold.yaml"))
    watch_canary(stack, HOLD, traffic, until="Paused")
    step("the market drifts (volatility x3, momentum reversed): the drift alert pauses v3")
    drift_at = time.time()
    stack.start_feed(drift_from=datetime.fromtimestamp(drift_at, UTC).isoformat())
    watch(lambda: show_hold(stack), timeout=420, every=2)
    took = time.time() - drift_at
    [row] = [r for r in stack.registry_rows(f"{NS}.{MD}") if r["version"] == "v3"]
    say(f"v3 paused {took:.0f}s after the drift began (MarketDrift): traffic held at 50 %, "
        f"promotion frozen; the market moved, not v3: registry {registry_line(row)}")  # fmt: skip
    step("v3 was trained for the market that is gone: kubectl annotate canary "
         f"{HOLD} levibot.io/abort=now")  # fmt: skip
    stack.kube.kubectl("-n", NS, "annotate", "canary", HOLD, "levibot.io/abort=now")
    watch_canary(stack, HOLD, traffic, until="RolledBack")
    step("driftPolicy retrainAndCanary: once the drift has lasted 360 s, retrain on the drifted "
         "market only; judged against the stable there (onDifferent: evaluate), stage 2's paired "
         "log-loss decides after 8 blocks of 71 s: promoted if at least as good")  # fmt: skip
    name = watch_drift_policy(stack)
    canary = watch_canary(stack, name, traffic, until="Succeeded", timeout=1860)
    print("\n".join(describe_history(canary)), flush=True)
    rows = {r["version"]: r for r in stack.registry_rows(f"{NS}.{MD}")}
    say(f"verdict: {describe_verdict(canary, rows)}")
    say(f"{time.time() - drift_at:.0f}s after the drift began; "
        f"{describe_drift(stack.get(NS, 'md', MD))}")  # fmt: skip
    for version in sorted(rows):
        say(f"registry: {registry_line(rows[version])}")
    summary["drift"] = {
        "v3": {"paused_after_s": round(took), "registry": row["status"]},
        "drift_canary": {"name": name, "phase": canary["status"]["phase"],
                         "checks": decided_checks(canary["status"]),
                         "version": canary["status"]["candidateVersion"]},
        "stable": stack.get(NS, "md", MD)["status"]["stableVersion"],
        "seconds_after_drift": round(time.time() - drift_at),
    }  # fmt: skip


def show_hold(stack: LocalStack) -> tuple[str, bool]:  # v3's line until the drift pauses it
    canary = stack.get(NS, "canary", HOLD)
    line, _ = describe_canary(canary)
    return line, (canary.get("status") or {}).get("reason") == "MarketDrift"


def watch_drift_policy(stack: LocalStack) -> str:
    """The drift loop's state until it opens its canary; the canary's name."""

    def opened() -> tuple[str, bool]:
        md = stack.get(NS, "md", MD)
        name = ((md.get("status") or {}).get("drift") or {}).get("canary")
        found = name and stack.kube.kubectl("-n", NS, "get", "canary", name, check=False)
        return describe_drift(md, scores=False), bool(found and found.returncode == 0)

    watch(opened, timeout=720, every=5)
    return str(stack.get(NS, "md", MD)["status"]["drift"]["canary"])


def record_paper(stack: LocalStack, summary: dict[str, Any]) -> None:
    """Each version's paper results so far, as the operator keeps them in status."""
    paper = describe_paper(stack.get(NS, "md", MD))
    summary.setdefault("paper (paper results, not advice)", {}).update(paper)
    day = {version: windows.get("1d") for version, windows in paper.items()}
    say(f"paper trading per version, last day (paper results, not advice): {day}")


def main() -> int:
    parser = argparse.ArgumentParser(description="levibot end to end on one machine")
    parser.add_argument("--keep", action="store_true", help="leave everything running at the end")
    parser.add_argument("--workdir", default=str(ROOT / ".run" / "demo"))
    args = parser.parse_args()
    stack = LocalStack(StackConfig(Path(args.workdir)))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    summary: dict[str, Any] = {}
    try:
        step("bringing up levibot on this machine (no Docker)")
        stack.up(say=say)
        say(
            f"Kubernetes at {stack.kube.server}, Prometheus {stack.prom.url}, "
            f"Alertmanager {stack.am.url}, PostgreSQL {stack.dsn}"
        )
        traffic = story_train_and_serve(stack, summary)
        story_kill_switch(stack, traffic, summary)
        record_paper(stack, summary)
        story_promote(stack, traffic, summary)
        record_paper(stack, summary)
        story_drift(stack, traffic, summary)
        record_paper(stack, summary)
        step(f"summary after {time.monotonic() - STARTED:.0f}s")
        print(json.dumps(summary, indent=2))
        if args.keep:
            print(f"\nleft running. export KUBECONFIG={stack.kube.kubeconfig}; Ctrl-C stops it")
            signal.pause()
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        # A second Ctrl-C (or the SIGTERM a supervisor sends after it) must not cut the cleanup
        # short and leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        step("stopping everything")
        stack.down()
        say("stopped; nothing is left running")
    return 0


if __name__ == "__main__":
    sys.exit(main())

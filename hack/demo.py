"""`make demo`: levibot end to end on one machine, on the embedded defaults.

Tooling layer. Brings up the local stack (hack/localstack.py: control plane,
local kubelet, PostgreSQL with a live feed, Prometheus, Alertmanager, and the
chart with the operator as a pod), then tells the story with real processes:
the example ModelDeployment trains v1 for real and its predictors serve
traffic; the kill-switch turns every answer into HOLD without a restart.
Progress is printed live and summarised at the end. Ctrl-C stops everything.

    python hack/demo.py [--keep] [--workdir .run/demo]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hack.localcluster import ROOT
from hack.localstack import LocalStack, StackConfig, load_example

STARTED = time.monotonic()
NS = "levibot-demo"


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


def describe_md(stack: LocalStack, name: str) -> tuple[str, bool]:
    md = stack.get(NS, "md", name)
    status: dict[str, Any] = md.get("status", {})
    conds = {c["type"]: c.get("reason", c["status"]) for c in status.get("conditions", [])}
    pods = stack.get(NS, "pods")["items"]
    running = sorted(
        f"{p['metadata']['name'].rsplit('-', 2)[0]}:{p['status'].get('phase', '?')}" for p in pods
    )
    line = (
        f"modeldeployment/{name}: phase={status.get('phase', '-')} "
        f"stable={status.get('stableVersion', '-')} training={conds.get('Training', '-')} "
        f"pods={' '.join(running) or '-'}"
    )
    return line, status.get("phase") == "Ready"


def show_traffic(stack: LocalStack, seconds: float) -> dict[str, Any]:
    stats = stack.send_traffic(NS, "btc-direction", seconds=seconds, rate=40)
    answers = {f"{v}/{t}": n for (v, t), n in sorted(stats.answers.items())}
    say(
        f"traffic {seconds:.0f}s: answers={answers} fallbacks={dict(stats.fallbacks)} "
        f"errors={dict(stats.errors)}"
    )
    return {"answers": answers, "fallbacks": dict(stats.fallbacks), "errors": dict(stats.errors)}


def story_train_and_serve(stack: LocalStack, summary: dict[str, Any]) -> None:
    step("1. kubectl apply -f examples/modeldeployment.yaml: train v1 for real, then serve it")
    stack.apply(NS, load_example("modeldeployment.yaml"))
    watch(lambda: describe_md(stack, "btc-direction"), timeout=300)
    [row] = stack.registry_rows(f"{NS}.btc-direction")
    metrics = json.loads(row["metrics"])
    say(
        f"registry: {row['version']} {row['status']}  roc_auc={metrics['roc_auc']:.3f} "
        f"ece={metrics['ece']:.3f} brier={metrics['brier']:.3f} "
        f"(baseline roc_auc={metrics['baseline']['roc_auc']:.3f})"
    )
    summary["v1"] = {k: round(metrics[k], 4) for k in ("roc_auc", "ece", "brier", "accuracy")}
    step("traffic from the live market feed through the Service (two v1 predictors)")
    summary["traffic"] = show_traffic(stack, 10)
    query = f'sum by (version) (levibot_predict_requests_total{{namespace="{NS}"}})'
    scraped = {r["metric"]["version"]: float(r["value"][1]) for r in stack.prom_query(query)}
    say(f"Prometheus has scraped the predictors: requests by version {scraped}")


def story_kill_switch(stack: LocalStack, summary: dict[str, Any]) -> None:
    step("2. kill-switch: every answer becomes HOLD, without restarting a pod")
    patch = ["-n", NS, "patch", "md", "btc-direction", "--type=merge", "-p"]
    stack.kube.kubectl(*patch, '{"spec": {"killSwitch": true}}')
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = show_traffic(stack, 2)
        if set(shown["fallbacks"]) == {"kill_switch"}:
            break
    summary["kill_switch"] = shown["fallbacks"]
    stack.kube.kubectl(*patch, '{"spec": {"killSwitch": false}}')
    say("kill-switch cleared")
    time.sleep(3)
    show_traffic(stack, 3)


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
        story_train_and_serve(stack, summary)
        story_kill_switch(stack, summary)
        step(f"summary after {time.monotonic() - STARTED:.0f}s")
        print(json.dumps(summary, indent=2))
        if args.keep:
            print(f"\nleft running. export KUBECONFIG={stack.kube.kubeconfig}; Ctrl-C stops it")
            signal.pause()
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        step("stopping everything")
        stack.down()
        say("stopped; nothing is left running")
    return 0


if __name__ == "__main__":
    sys.exit(main())

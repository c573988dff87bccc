"""What `make demo` prints: one line per state of a ModelDeployment or Canary.

Tooling layer. Pure functions from the objects (as `kubectl get -o json` returns them) and
Prometheus query results to short lines; demo.py prints a line whenever it changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

TERMINAL = frozenset({"Succeeded", "RolledBack", "Failed"})
SHORT = {"samples": "n", "ece": "ece", "stableEce": "ece-stable", "psi": "psi", "ksPValue": "ks"}
MARK = {
    "Pass": "ok", "Fail": "FAIL", "Inconclusive": "?", "Equivalent": "ok (equivalent)",
    "Different": "DIFFERENT", "Waiting": "waiting",
}  # fmt: skip


def format_value(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    if math.isnan(value):
        return "nan"
    return f"{value:.0f}" if float(value).is_integer() and abs(value) >= 10 else f"{value:.3g}"


def describe_pods(pods: list[dict[str, Any]]) -> str:
    """`v1:2/2 v2:1/2`: ready / all predictor pods per version (trainer pods by their Job)."""
    counts: dict[str, list[int]] = {}
    for pod in pods:
        labels = pod["metadata"].get("labels", {})
        name = labels.get("job-name") or labels.get("levibot.io/version", "?")
        ready = any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod.get("status", {}).get("conditions", [])
        )
        entry = counts.setdefault(name, [0, 0])
        entry[0] += ready or pod.get("status", {}).get("phase") == "Succeeded"
        entry[1] += 1
    return " ".join(f"{k}:{r}/{n}" for k, (r, n) in sorted(counts.items())) or "-"


def describe_md(md: Mapping[str, Any], pods: list[dict[str, Any]]) -> tuple[str, bool]:
    status: Mapping[str, Any] = md.get("status", {})
    conds = {c["type"]: c.get("reason", c["status"]) for c in status.get("conditions", [])}
    line = (
        f"modeldeployment/{md['metadata']['name']}: phase={status.get('phase', '-')} "
        f"stable={status.get('stableVersion', '-')} training={conds.get('Training', '-')} "
        f"pods {describe_pods(pods)}"
    )
    return line, status.get("phase") == "Ready"


def describe_interval(check: Mapping[str, Any]) -> str:
    """`=0.012 [0.004, 0.02] <= 0.05`: a judgement check's estimate, interval and threshold."""
    if check.get("verdict") == "Waiting":
        return f" ({check.get('reason', '')})"
    bounds = ""
    if check.get("lower") is not None or check.get("upper") is not None:
        bounds = f" [{format_value(check.get('lower'))}, {format_value(check.get('upper'))}]"
    limit = f" {check.get('comparison', '')} {format_value(check.get('threshold'))}"
    return f"={format_value(check.get('value'))}{bounds}{limit}"


def describe_judgement(checks: list[Mapping[str, Any]]) -> str:
    """`agreement=0.012 [0.004, 0.02] <= 0.05 ok (equivalent)  calibration waiting (...)`: the
    gating checks of a judgement (readings are in status, not on the line)."""
    gating = [c for c in checks if c.get("gating") is not False and c.get("nEff") is not None]
    return "  ".join(
        f"{c.get('name')}{describe_interval(c)} {MARK.get(str(c.get('verdict')), c.get('verdict'))}"
        for c in gating
    )


def describe_checks(checks: list[Mapping[str, Any]]) -> str:
    """`n=212 ok  ece=0.041 ok  psi=1.2 ok`: every check's last value and verdict (a judgement's
    gating checks with their intervals, see ``describe_judgement``)."""
    if any(c.get("nEff") is not None for c in checks):
        return describe_judgement(checks)
    parts = []
    for check in checks:
        name = SHORT.get(str(check.get("name")), str(check.get("name")))
        verdict = MARK.get(str(check.get("verdict")), str(check.get("verdict")))
        parts.append(f"{name}={format_value(check.get('value'))} {verdict}")
    return "  ".join(parts)


def decided_checks(status: Mapping[str, Any]) -> dict[str, str]:
    """Each judgement check of the canary's last look that has a verdict (not Waiting,
    Inconclusive or a Reading): name -> verdict."""
    undecided = {"Waiting", "Inconclusive", "Reading", "", "None"}
    return {
        str(c.get("name")): str(c.get("verdict"))
        for c in status.get("checks") or ()
        if str(c.get("verdict")) not in undecided
    }


def describe_canary(canary: Mapping[str, Any]) -> tuple[str, bool]:
    """One line: phase, step, weights, the analysis run and its checks; done when terminal."""
    status: Mapping[str, Any] = canary.get("status") or {}
    steps = canary.get("spec", {}).get("steps", [])
    phase, index = status.get("phase", "Pending"), int(status.get("currentStep") or 0)
    step = next(iter(steps[index]), "-") if index < len(steps) else "done"
    line = (
        f"canary/{canary['metadata']['name']}: {phase:<11} step {index + 1}/{len(steps)} "
        f"({step}) {status.get('stableVersion') or '-'}→{status.get('candidateVersion') or '-'} "
        f"weight {status.get('desiredWeight', 0)}% (achieved "
        f"{format_value(status.get('achievedWeight', 0))}%)"
    )
    run = status.get("analysis")
    if run and phase not in TERMINAL:
        line += (
            f" | looks: {run.get('passes', 0)} pass, {run.get('failures', 0)} fail, "
            f"{run.get('inconclusives', 0)} inconclusive, {run.get('waits', 0)} waiting, "
            f"{run.get('consecutiveErrors', 0)} errors"
        )
    if status.get("checks") and phase not in TERMINAL:
        line += f" | {describe_checks(status['checks'])}"
    return line, phase in TERMINAL


def describe_history(canary: Mapping[str, Any]) -> list[str]:
    """The canary's decisions, oldest first: `Progressing step 3 AnalysisPassed: ...`."""
    history = (canary.get("status") or {}).get("history") or []
    return [
        f"  {h.get('phase', '-'):<11} step {int(h.get('step', 0)) + 1}  "
        f"{h.get('reason', '')}: {h.get('message', '')}"
        for h in history
    ]


def by_version(results: list[Mapping[str, Any]]) -> dict[str, float]:
    """Prometheus instant-query results keyed by their `version` label."""
    return {str(r["metric"].get("version")): float(r["value"][1]) for r in results}


def describe_quality(psi: dict[str, float], ece: dict[str, float]) -> str:
    versions = sorted(set(psi) | set(ece))
    return "  ".join(
        f"{v}: psi(max)={format_value(psi.get(v))} ece={format_value(ece.get(v))}" for v in versions
    )


def describe_paper(md: Mapping[str, Any]) -> dict[str, Any]:
    """Each served version's paper results (status.paperTrading; paper results, not advice):
    per window, trades, win rate, PnL and max drawdown as fractions of the unit stake, Sharpe."""
    results = ((md.get("status") or {}).get("paperTrading") or {}).get("results") or []
    keys = ("trades", "winRate", "pnl", "sharpe", "maxDrawdown")
    paper: dict[str, Any] = {}
    for row in results:
        figures = {
            k: round(v, 4) if isinstance(v, float) else v for k in keys for v in [row.get(k)]
        }
        paper.setdefault(str(row.get("version")), {})[str(row.get("window"))] = figures
    return paper


def describe_drift(md: Mapping[str, Any], scores: bool = True) -> str:
    """The drift loop (status.drift) and each version's drift scores (status.versions), one
    line: `drift: v2 since 12:00 (LevibotFeatureDriftScore) | waits: ... | v2 vol_1m=3.10 ...`."""
    status: Mapping[str, Any] = md.get("status") or {}
    loop: Mapping[str, Any] = status.get("drift") or {}
    parts = []
    if loop.get("since"):
        parts.append(f"{loop.get('version')} drifting since {loop['since']} "
                     f"({', '.join(loop.get('alerts') or [])})")  # fmt: skip
    if loop.get("canary"):
        parts.append(f"opened {loop['canary']} (attempt {loop.get('attempts')})")
    if loop.get("waiting"):
        parts.append(f"waits: {loop['waiting']}")
    for record in status.get("versions") or [] if scores else []:
        found = record.get("driftScores") or {}
        if found and record.get("registryStatus") in ("active", "candidate"):
            text = " ".join(f"{f}={format_value(v)}" for f, v in sorted(found.items()))
            parts.append(f"{record.get('version')} drift score {text}")
    return "drift: " + (" | ".join(parts) or "none")


def describe_verdict(canary: Mapping[str, Any], registry: Mapping[str, Mapping[str, Any]]) -> str:
    """A finished canary's verdict and why, as its status and the registry (rows by version)
    say: `canary/x-drift-1 Succeeded (Promoted: v4 promoted over v2) | registry v4 active
    (promoted over v2 by canary) | agreement=... DIFFERENT  nonInferiority=... ok`."""
    status: Mapping[str, Any] = canary.get("status") or {}
    candidate = str(status.get("candidateVersion") or "-")
    row = registry.get(candidate) or {}
    recorded = f"{row.get('status', '-')}" + (f" ({row['reason']})" if row.get("reason") else "")
    return (
        f"canary/{canary['metadata']['name']} {status.get('phase', 'Pending')} "
        f"({status.get('reason', '-')}: {status.get('message', '')}) | registry {candidate} "
        f"{recorded} | {describe_judgement(status.get('checks') or [])}"
    )

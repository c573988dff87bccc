"""The views of ``kubectl levibot``: pure functions from Canary and ModelDeployment objects to text.

Layer: CLI, pure part. The ``build_``/``format_``/``decide_`` functions read objects as plain JSON
(through the core's ``parse_canary_status`` and ``parse_md_status``) and return text or a
verdict; ``levibot_operator.cli.plugin`` does the kubectl calls and the command line.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from levibot_operator import constants as c
from levibot_operator.core.canary.analysis import CheckVerdict
from levibot_operator.core.canary.spec import parse_canary_controls
from levibot_operator.core.canary.status import TERMINAL, CanaryStatus, Phase, parse_canary_status
from levibot_operator.core.modeldeployment.status import parse_md_status

Json = Mapping[str, Any]
EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_NO_KUBECTL = 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
ANNOTATIONS = {a: f"{c.ANNOTATION_PREFIX}/{a}" for a in ("promote", "abort", "resume")}
# Every request: the three above and the controls that start over (core.canary.controls).
REQUESTS = {**ANNOTATIONS, **{a: f"{c.ANNOTATION_PREFIX}/{a}" for a in ("retry", "restart")}}
ALLOWED = {
    "promote": frozenset({Phase.PROGRESSING, Phase.PAUSED}),
    "abort": frozenset(Phase) - TERMINAL,
    "resume": frozenset({Phase.PAUSED}),
    "retry": frozenset({Phase.ROLLED_BACK, Phase.FAILED}),
    "restart": frozenset({Phase.PROGRESSING, Phase.PAUSED}),
}
# Annotations removed in the same call: a retry with abort or promote still set is refused.
CLEARED = {"retry": (ANNOTATIONS["abort"], ANNOTATIONS["promote"])}
REQUEST_HELP = {
    "promote": "promote the candidate now, skipping the remaining steps",
    "abort": "roll the canary back: all traffic to the stable version",
    "resume": "continue a canary that is Paused until resumed",
    "retry": "start a RolledBack or Failed canary afresh (a new attempt from step 1)",
    "restart": "start the current step's analysis over (a fresh run), weights unchanged",
}
HISTORY_SHOWN = 5
METRICS_SHOWN = ("accuracy", "roc_auc", "ece", "brier", "log_loss", "test_rows")
CANARY_COLUMNS = ("CANARY", "TARGET", "STABLE", "CANDIDATE", "PHASE", "STEP", "WEIGHT")
MD_COLUMNS = ("MODELDEPLOYMENT", "PHASE", "STABLE", "VERSIONS", "TRAINING", "KILLSWITCH")


class PluginError(Exception):
    """A failure the user can act on, printed as ``error: ...`` and exited with ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# -- pure: views --------------------------------------------------------------------------------


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Left-aligned columns two spaces apart, like ``kubectl get``."""
    table = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table)
    return "\n".join(indent + line.rstrip() for line in lines)


def format_number(value: object) -> str:
    """Four significant digits for floats, integers as they are, ``-`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def build_step_label(step: object) -> str:
    """What one raw ``spec.steps`` entry does, e.g. ``setWeight 25`` or ``pause 5m``."""
    step = step if isinstance(step, Mapping) else {}
    pause = step.get("pause")
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    if isinstance(pause, Mapping):
        return f"pause {pause['duration']}" if pause.get("duration") else "pause until resumed"
    return "analysis" if "analysis" in step else "unknown"


def format_step(spec: Json, index: int) -> str:
    """``3/9 analysis``: the current step, numbered from 1, of all steps."""
    steps = spec.get("steps") or []
    if index >= len(steps):
        return f"{len(steps)}/{len(steps)} done"
    return f"{index + 1}/{len(steps)} {build_step_label(steps[index])}"


def format_bound(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def format_judged_checks(checks: Sequence[CheckVerdict]) -> str:
    """A judgement's checks: estimate, interval, threshold, n, effective n, verdict and why."""
    rows = [
        (ch.name, format_bound(ch.value),
         "-" if ch.lower is None and ch.upper is None
         else f"[{format_bound(ch.lower)}, {format_bound(ch.upper)}]",
         "-" if ch.threshold != ch.threshold else f"{ch.comparison} {ch.threshold:.4g}",
         format_number(ch.n), format_number(ch.n_eff),
         ch.verdict.value if ch.gating else f"{ch.verdict.value} (not gating)", ch.reason)
        for ch in checks
    ]  # fmt: skip
    header = ("CHECK", "ESTIMATE", "INTERVAL", "THRESHOLD", "N", "NEFF", "VERDICT", "REASON")
    return format_table(header, rows, "    ")


def format_checks(checks: Sequence[CheckVerdict]) -> str:
    """Each check's last value against its threshold, and the verdict (with a judgement, the
    interval, n and effective n too)."""
    if any(ch.n_eff is not None for ch in checks):
        return format_judged_checks(checks)
    rows = [
        (ch.name, "none" if ch.value is None else format_number(ch.value),
         f"{ch.comparison} {ch.threshold:g}", ch.verdict.value, ch.reason)
        for ch in checks
    ]  # fmt: skip
    return format_table(("CHECK", "VALUE", "THRESHOLD", "VERDICT", "REASON"), rows, "    ")


def format_history(status: CanaryStatus, limit: int = HISTORY_SHOWN) -> list[str]:
    """The last ``limit`` decisions, oldest first, with their reasons."""
    rows = [
        (h.time.strftime("%Y-%m-%d %H:%M:%S"), h.phase.value, str(h.step + 1), h.reason, h.message)
        for h in status.history[-limit:]
    ]
    header = f"  history   last {len(rows)} of {len(status.history)} decisions"
    return [header, format_table(("TIME", "PHASE", "STEP", "REASON", "MESSAGE"), rows, "    ")]


def build_phase_line(status: CanaryStatus) -> str:
    """``Paused  AnalysisInconclusive: ...``; a halted canary names the phase it froze in."""
    phase = status.phase.value
    if status.phase is Phase.HALTED and status.halted_from:
        phase += f" (from {status.halted_from.value})"
    detail = ": ".join(part for part in (status.reason, status.message) if part)
    return f"{phase}  {detail}" if detail else phase


def format_requests(annotations: Mapping[str, str] | None, status: CanaryStatus) -> list[str]:
    """The manual requests standing on the object (a resume already acted on says so)."""
    controls = parse_canary_controls(annotations)
    resume = controls.resume
    if resume and resume == status.handled_resume:
        resume += " (handled)"
    tokens = {"promote": controls.promote, "abort": controls.abort, "resume": resume}
    shown = ", ".join(f"{k}={v}" for k, v in tokens.items() if v)
    return [f"  requests  {shown}"] if shown else []


def format_analysis(status: CanaryStatus) -> list[str]:
    """The current analysis run's counters and every check's last verdict."""
    run = status.analysis
    lines = [] if run is None else [
        f"  analysis  step {run.step + 1}: {run.measurements} measurements ({run.passes} pass, "
        f"{run.failures} fail, {run.inconclusives} inconclusive), "
        f"{run.consecutive_errors} query errors in a row"
        + (f", {run.waits} waiting for finished blocks" if run.waits else "")
    ]  # fmt: skip
    if status.judgement_since is not None:  # every analysis step judges the rows since then
        lines.append(f"  judged    paired rows since {status.judgement_since.isoformat()}")
    return lines + (["  checks", format_checks(status.checks)] if status.checks else [])


def format_canary(obj: Json) -> str:
    """The live view of one Canary object."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, parse_status(obj)
    stable, candidate = status.stable_version or "none", status.candidate_version or "none"
    lines = [
        f"Canary {meta.get('namespace', '')}/{meta.get('name', '')}",
        f"  target    {spec.get('target', '')}: {stable} (stable) -> {candidate} (candidate)",
        f"  phase     {build_phase_line(status)}",
        f"  step      {format_step(spec, status.current_step)}",
        f"  weight    desired {status.desired_weight} %, achieved {status.achieved_weight:g} %",
        *format_requests(meta.get("annotations"), status),
        *format_analysis(status),
    ]
    return "\n".join(lines + (format_history(status) if status.history else []))


def parse_status(obj: Json) -> CanaryStatus:
    """The Canary's status, or a PluginError naming the object when it cannot be read."""
    try:
        return parse_canary_status(obj.get("status"))
    except (KeyError, ValueError, TypeError) as exc:
        name = (obj.get("metadata") or {}).get("name", "?")
        raise PluginError(f"canary {name} has an unreadable status: {exc!r}") from exc


def build_canary_row(obj: Json) -> tuple[str, ...]:
    status, spec = parse_status(obj), obj.get("spec") or {}
    return (
        str((obj.get("metadata") or {}).get("name", "")), str(spec.get("target", "")),
        status.stable_version or "-", status.candidate_version or "-", status.phase.value,
        format_step(spec, status.current_step).split(" ")[0],
        f"{status.desired_weight}/{status.achieved_weight:g}",
    )  # fmt: skip


def build_md_row(obj: Json) -> tuple[str, ...]:
    status = parse_md_status(obj.get("status"))
    training = status.training
    return (
        str((obj.get("metadata") or {}).get("name", "")), status.phase,
        status.stable_version or "-", str(len(status.versions)),
        f"{training.version} {training.state}" if training else "-",
        "on" if (obj.get("spec") or {}).get("killSwitch") else "off",
    )  # fmt: skip


def format_overview(canaries: Sequence[Json], deployments: Sequence[Json]) -> str:
    """Every Canary and ModelDeployment of a namespace, one line each."""
    return "\n\n".join([
        format_table(CANARY_COLUMNS, [build_canary_row(o) for o in canaries])
        if canaries else "No canaries.",
        format_table(MD_COLUMNS, [build_md_row(o) for o in deployments])
        if deployments else "No ModelDeployments.",
    ])  # fmt: skip


def format_versions(obj: Json) -> str:
    """A ModelDeployment's version history (oldest first): every registered version, whoever
    trained it, with its registry status, the reason for it and key metrics."""
    meta, status = obj.get("metadata") or {}, parse_md_status(obj.get("status"))
    lines = [
        f"ModelDeployment {meta.get('namespace', '')}/{meta.get('name', '')}: phase "
        f"{status.phase}, stable {status.stable_version or 'none'}"
    ]
    if t := status.training:
        failed = f", {t.reason}: {t.message}" if t.reason else ""
        lines.append(
            f"  training  {t.version} attempt {t.attempt} {t.state} ({t.job_name}){failed}"
        )
    rows = [
        (v.version + (" *" if v.version == status.stable_version else ""),
         v.registry_status or "-", v.created or "-",
         *(format_number(v.metrics.get(m)) for m in METRICS_SHOWN), v.reason or "-")
        for v in status.versions
    ]  # fmt: skip
    if not rows:
        return "\n".join([*lines, "  no versions yet"])
    header = ("VERSION", "STATUS", "CREATED", *(m.upper() for m in METRICS_SHOWN), "REASON")
    omitted = status.versions_omitted
    older = [f"  ({omitted} older versions not shown)"] if omitted else []
    return "\n".join([*lines, *older, format_table(header, rows, "  "), "  (* = stable)"])


# -- pure: requests -----------------------------------------------------------------------------


def decide_request(action: str, status: CanaryStatus, spec: Json) -> str:
    """A note for the user when ``action`` fits the canary's phase; PluginError when it does not."""
    phase = status.phase
    effective = status.halted_from if phase is Phase.HALTED and status.halted_from else phase
    if effective not in ALLOWED[action]:
        needs = " or ".join(sorted(p.value for p in ALLOWED[action]))
        raise PluginError(
            f"cannot {action}: the canary is {phase.value} (needs {needs})", EXIT_REFUSED
        )
    steps = spec.get("steps") or []
    step = steps[status.current_step] if status.current_step < len(steps) else {}
    pause = step.get("pause") if isinstance(step, Mapping) else None
    if action == "restart" and not (isinstance(step, Mapping) and "analysis" in step):
        message = f"cannot restart: step {status.current_step + 1} is not an analysis"
        raise PluginError(message, EXIT_REFUSED)
    if action == "resume" and isinstance(pause, Mapping) and pause.get("duration"):
        message = f"cannot resume: step {status.current_step + 1} is a timed pause (ends itself)"
        raise PluginError(message, EXIT_REFUSED)
    if phase is Phase.HALTED and action != "abort":
        return "the target's kill-switch is on: this takes effect once it is cleared"
    return ""


def build_token(now: datetime, nonce: str) -> str:
    """A fresh opaque token: the UTC time and a random suffix (a new token is a new request)."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{nonce[:8]}"


def format_request(action: str, before: Json, token: str, after: Json, note: str) -> str:
    """What was requested, and the phase before and after."""
    name = (before.get("metadata") or {}).get("name", "")
    old, new = parse_status(before), parse_status(after)
    lines = [f"requested {action} of canary {name} ({REQUESTS[action]}={token})"]
    if new != old:
        lines.append(f"phase: {old.phase.value} -> {build_phase_line(new)}")
    else:
        lines.append(f"phase: {old.phase.value} (unchanged so far: the operator acts on it)")
    return "\n".join(lines + ([f"note: {note}"] if note else []))

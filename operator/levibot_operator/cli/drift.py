"""``kubectl levibot``'s drift views for ``status`` and ``history``: the normalised drift score
of every version and feature, and the drift loop's state.

Layer: CLI, pure functions of a ModelDeployment body (``status.versions[].driftScores`` and
``status.drift``, written by the operator from Prometheus). A score is the drift statistic
divided by the threshold the trainer calibrated on the version's own training period: above 1
is outside what that period produces at the calibrated false-alarm rate (marked ``!``).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from levibot_operator.cli.view import format_table
from levibot_operator.core.modeldeployment.status import MDStatus, VersionRecord, parse_md_status

Json = Mapping[str, Any]
LIMIT = 1.0


def format_score(value: object) -> str:
    """``2.31!`` above the calibrated threshold, ``0.42`` under it, ``-`` when not measured."""
    if not isinstance(value, int | float):
        return "-"
    return f"{value:.2f}" + ("!" if value > LIMIT else "")


def build_score_rows(
    records: Sequence[VersionRecord], stable: str
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Columns (every feature measured) and one row per version with scores."""
    scored = [r for r in records if r.drift_scores]
    features = sorted({f for r in scored for f in r.drift_scores})
    rows = [
        (r.version + (" *" if r.version == stable else ""), r.registry_status or "-",
         *(format_score(r.drift_scores.get(f)) for f in features))
        for r in scored
    ]  # fmt: skip
    return features, rows


def format_loop(status: MDStatus) -> list[str]:
    """The drift loop's state: the episode, the last drift canary, why the next one waits."""
    memory = status.drift
    lines = []
    if memory.since:
        alerts = ", ".join(memory.alerts)
        lines.append(f"  drift  {memory.version} drifting since {memory.since} ({alerts})")
    if memory.canary:
        last = f"last {memory.canary} at {memory.opened_at}"
        lines.append(f"  drift canaries  {memory.attempts} opened; {last}")
    if memory.waiting:
        lines.append(f"  drift loop waits: {memory.waiting}")
    return lines


def format_drift(obj: Json, serving_only: bool = False) -> str:
    """Drift scores per version and feature (only the versions still scored, for ``status``),
    and the loop's state, as a block; empty when there is nothing to show."""
    status = parse_md_status(obj.get("status"))
    records = list(status.versions)
    if serving_only:
        records = [r for r in records if r.registry_status in ("active", "candidate")]
    features, rows = build_score_rows(records, status.stable_version)
    lines = format_loop(status)
    if rows:
        header = ("VERSION", "STATUS", *(f"DRIFT {f}" for f in features))
        lines += [format_table(header, rows, "  "), "  (drift score: above 1 (!) is drift)"]
    return "\n\n" + "\n".join(lines) if lines else ""


def format_drift_overview(deployments: Sequence[Json]) -> str:
    """The drift block of every ModelDeployment that has one, for ``status``."""
    blocks = []
    for obj in deployments:
        text = format_drift(obj, serving_only=True)
        if text:
            blocks.append(f"\n\n{(obj.get('metadata') or {}).get('name', '')}:" + text[1:])
    return "".join(blocks)

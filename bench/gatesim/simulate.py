"""One simulation job: a market, its trained versions, and canaries on consecutive spans.

Benchmark helper. A job builds one market (``HISTORY_SECONDS`` to train on, then
``canaries`` spans of ``SPACING_S``), trains the versions once, and for each span, rate and
candidate kind runs one canary. The canary starts ``WARMUP_S`` after its span's traffic begins
(the stable alone serves that warm-up, so its monitor window is full, as for a stable that has
been serving); the warm-up overlaps the previous span's tail, the canaries do not overlap.
Every kind at one span and rate sees the same requests (common random numbers), so the
shares differ by the candidate, not by the traffic. Results are plain tuples (picklable).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gatesim import canary
from gatesim.canary import Gate, load_spec, plan_span, run_canary
from gatesim.markets import (
    HORIZON_S,
    Market,
    build_eurusd_market,
    build_seed_market,
    load_eurusd_bars,
)
from gatesim.models import HISTORY_SECONDS, KINDS, Version, build_candidate, train_versions
from gatesim.today import DriftCache, TodayGate
from gatesim.traffic import MONITOR_INTERVAL_S, UNASSIGNED, build_paired_logs, build_traffic

WARMUP_S = 900
Row = tuple[str, str, float, str, str, float]  # market, gates, rate, kind, verdict, seconds
Score = tuple[str, str, float, float]  # market, version, mean log-loss, mean Brier (live rows)


@dataclass(frozen=True)
class Job:
    """``canaries`` canaries of every kind and rate on one market seed."""

    market: str
    seed: int
    canaries: int
    rates: tuple[float, ...]


def build_market(job: Job, spacing: int) -> Market:
    """The job's market: history, warm-up, then the canary spans."""
    seconds = HISTORY_SECONDS + WARMUP_S + job.canaries * spacing + 2 * HORIZON_S
    if job.market == "seed":
        return build_seed_market(job.seed, seconds)
    return build_eurusd_market(job.seed, load_eurusd_bars(), seconds)


def assess_live_scores(market: Market, candidates: dict[str, Version], start: int) -> list[Score]:
    """Mean log-loss and Brier of each version over every live second of both symbols."""
    scores = []
    for kind in ("same", "retrained", "better"):
        p = np.concatenate([q[start:-HORIZON_S] for q in candidates[kind].p_up])
        y = np.concatenate([s.labels[start:-HORIZON_S] for s in market.series])
        q = np.clip(p, 1e-6, 1 - 1e-6)
        loss = float(np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q))))
        scores.append((market.name, kind, loss, float(np.mean((p - y) ** 2))))
    return scores


def run_job(job: Job) -> tuple[list[Row], list[Score]]:
    """Every canary of the job, today's gates (and the new ones once ``NEW_GATE`` is set)."""
    spec = load_spec()
    span = int(plan_span(spec))
    spacing = span + HORIZON_S
    market = build_market(job, spacing)
    versions = train_versions(market, HISTORY_SECONDS)
    candidates = {kind: build_candidate(versions, kind, job.seed) for kind in KINDS}
    stacked = {kind: np.stack(c.p_up) for kind, c in candidates.items()}
    labels, stable = np.stack([s.labels for s in market.series]), stacked["same"]
    rng = np.random.default_rng([job.seed, 3])
    rows: list[Row] = []
    for c in range(job.canaries):
        start = HISTORY_SECONDS + WARMUP_S + c * spacing
        for rate in job.rates:
            traffic = build_traffic(rng, len(market.symbols), start - WARMUP_S,
                                    start + span + HORIZON_S, rate)  # fmt: skip
            phase = float(rng.uniform(0.0, MONITOR_INTERVAL_S))
            cache: DriftCache = {}
            logs = build_paired_logs(traffic, labels, stable, stacked, phase)
            for kind, candidate in candidates.items():
                gates: dict[str, Gate] = {
                    "today": TodayGate(market, candidate.reference, phase, cache)
                }
                if canary.NEW_GATE is not None:
                    gates["new"] = canary.NEW_GATE
                for name, gate in gates.items():
                    log = replace(
                        logs[kind], track=np.full_like(logs[kind].track, UNASSIGNED), assigned=0
                    )
                    outcome = run_canary(spec, log, gate, float(start), float(start + span))
                    rows.append((job.market, name, rate, kind, outcome.verdict, outcome.seconds))
    return rows, assess_live_scores(market, candidates, HISTORY_SECONDS)

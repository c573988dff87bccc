"""One simulation job: a market, its trained versions, and canaries through every gate set.

Benchmark helper. A job builds one market (its ``TrainPlan``'s history to train on, then
``canaries`` starts ``CANARY_SPACING_S`` apart), trains the versions once, and for each start,
rate and candidate kind runs one canary per gate set: ``today`` (``specs/today.yaml``, today's
gates), ``new`` (``specs/production.yaml``: the judgement, ``onDifferent: rollback``) and
``evaluate`` (the same with ``onDifferent: evaluate``: stage 2 decides a different candidate);
with ``checks="trading"`` only ``trading`` (the production spec's trading checks alone,
``trading.TradingGate``, with the stable's recorded retraining noise unless
``trading_noise`` is False).
A canary starts ``WARMUP_S`` after its traffic begins (the stable alone serves the warm-up, so
its monitor window is full, as for a stable that has been serving). Canaries of one job may
overlap in market time (a judged canary may run for hours): each is a draw of the same
distribution, neighbours are correlated, so the shares are unbiased and their spread a little
wider than independent canaries would give. Every kind at one start and rate sees the same
requests (common random numbers), so the shares differ by the candidate, not by the traffic.
Results are plain tuples (picklable).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gatesim.canary import PRODUCTION_SPEC, TODAY_SPEC, Gate, load_spec, plan_span, run_canary
from gatesim.judged import FirstRows, JudgedGate
from gatesim.markets import (
    HORIZON_S,
    Market,
    build_eurusd_market,
    build_seed_market,
    load_eurusd_bars,
)
from gatesim.models import KINDS, PLANS, Version, build_candidate, train_versions
from gatesim.today import DriftCache, TodayGate
from gatesim.trading import TradingGate, load_trading_spec
from gatesim.traffic import MONITOR_INTERVAL_S, UNASSIGNED, build_paired_logs, build_traffic
from levibot_operator.core.canary.spec import CanarySpec
from levibot_operator.core.canary.trading_band import RetrainNoise

WARMUP_S = 900
CANARY_SPACING_S = 3600
Row = tuple[str, str, float, str, str, float]  # market, gates, rate, kind, verdict, seconds
Score = tuple[str, str, float, float]  # market, version, mean log-loss, mean Brier (live rows)


@dataclass(frozen=True)
class Job:
    """``canaries`` canaries of every kind and rate on one market seed."""

    market: str
    seed: int
    canaries: int
    rates: tuple[float, ...]
    checks: str = "all"  # or "trading": the trading checks alone
    trading_budget: str | None = None  # the trading gate set's judgement budget
    trading_rollback: float | None = None  # and its rollbackSharpeDelta
    trading_noise: bool = True  # the stable's recorded retraining noise (False: the CS alone)


def plan_trading_noise(job: Job, stable: Version) -> RetrainNoise | None:
    """The stable's recorded paired trading noise as the operator reads it (or none)."""
    noise = stable.trading_noise
    if not job.trading_noise or noise is None:
        return None
    return RetrainNoise(noise.margin, noise.hourly, noise.return_sd, noise.position_sd)


def load_gate_specs(job: Job) -> dict[str, CanarySpec]:
    """The spec of every gate set of the job."""
    if job.checks == "trading":
        return {"trading": load_trading_spec(job.trading_budget, job.trading_rollback)}
    return {
        "today": load_spec(TODAY_SPEC),
        "new": load_spec(PRODUCTION_SPEC),
        "evaluate": load_spec(PRODUCTION_SPEC, on_different="evaluate"),
    }


def build_market(job: Job, span: int) -> Market:
    """The job's market: history, warm-up, then the canaries."""
    history = PLANS[job.market].history
    seconds = history + WARMUP_S + (job.canaries - 1) * CANARY_SPACING_S + span + 2 * HORIZON_S
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
    """Every canary of the job through every gate set."""
    specs = load_gate_specs(job)
    spans = {name: int(plan_span(spec)) for name, spec in specs.items()}
    span = max(spans.values())
    market = build_market(job, span)
    history = PLANS[job.market].history
    versions = train_versions(market, history, PLANS[job.market])
    candidates = {kind: build_candidate(versions, kind, job.seed) for kind in KINDS}
    stacked = {kind: np.stack(c.p_up) for kind, c in candidates.items()}
    labels, stable = np.stack([s.labels for s in market.series]), stacked["same"]
    returns = np.stack([s.returns for s in market.series])
    rng = np.random.default_rng([job.seed, 3])
    rows: list[Row] = []
    for c in range(job.canaries):
        start = history + WARMUP_S + c * CANARY_SPACING_S
        for rate in job.rates:
            traffic = build_traffic(rng, len(market.symbols), start - WARMUP_S,
                                    start + span + HORIZON_S, rate)  # fmt: skip
            phase = float(rng.uniform(0.0, MONITOR_INTERVAL_S))
            cache: DriftCache = {}
            firsts = FirstRows()
            logs = build_paired_logs(traffic, labels, stable, stacked, phase, returns=returns)
            for kind, candidate in candidates.items():
                gates: dict[str, Gate] = (
                    {"trading": TradingGate(firsts, plan_trading_noise(job, versions.stable))}
                    if job.checks == "trading"
                    else {
                        "today": TodayGate(market, candidate.reference, phase, cache),
                        "new": JudgedGate(versions.stable.envelope_rms, firsts),
                        "evaluate": JudgedGate(versions.stable.envelope_rms, firsts),
                    }
                )
                for name, gate in gates.items():
                    log = replace(
                        logs[kind], track=np.full_like(logs[kind].track, UNASSIGNED), assigned=0
                    )
                    outcome = run_canary(specs[name], log, gate, float(start),
                                         float(start + spans[name]))  # fmt: skip
                    rows.append((job.market, name, rate, kind, outcome.verdict, outcome.seconds))
    return rows, assess_live_scores(market, candidates, history)

"""The drift loop offline: does a drift retrain beat the stable on the demo's drifted market?

Benchmark (issue 14, "a loop that heals"). Per market seed, through levibot's own code:

1. the demo market (``levibot_common.seed.generator``: the dev stack's four symbols, constant
   volatility, 2 ticks/s, closes per second as ``levibot_common.candles`` fills them): 6 h of
   healthy history, then the live feed restarted with the drift at ``t0`` (seed + 1, 600-s
   blocks, as ``devstack.market`` and ``seed.loader`` do);
2. the stable trained by the trainer's pipeline (``build_training_rows``, ``plan_checked_split``,
   ``fit_and_assess``, ``measure_fitted_envelope``) on the 6 h before ``t0``, with the demo
   ModelDeployment's recipe (examples/demo/modeldeployment.yaml);
3. the drift alert first seen ``--alert-delay`` s after ``t0`` (``since``; measured in the demo:
   114 s), the drift canary opened once the drift has lasted ``minDriftedSeconds``, its retrain
   on the window the operator chooses (``plan_window_seconds``), the canary's shadow scoring
   starting ``--deploy`` s later;
4. the operator's judgement (``build_drift_canary_spec`` of the demo ModelDeployment, parsed by
   ``parse_canary_spec``; ``plan_judgement_context``, ``assess_judgement``) at every analysis
   interval on the paired rows of every symbol and second (30 requests/s over four symbols score
   nearly every one), until a verdict or the budget's end.

Prints per seed the retrain's test AUC, both versions' mean log-loss on the drifted market after
the canary opened (the effect stage 2 estimates), the verdict and when; then the shares promoted
/ rejected / out of budget and the median time to promotion. ``--signal`` and ``--trend``
override the market's momentum (strength, memory in seconds); ``--drift flip`` replays the
seed market's former drift (volatility x3 and the latent trend's sign flipped, instead of the
reversal) to compare.

Run: ``nice .venv/bin/python bench/drift_loop.py [--seeds 12] [--min-drifted 420] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from levibot_common.candles import build_filled_closes
from levibot_common.features import feature_matrix
from levibot_common.seed import generator
from levibot_common.seed.generator import SeedSpec, build_ticks
from levibot_common.seed.loader import LIVE_BLOCK_SECONDS
from levibot_common.stats.results import Verdict
from levibot_operator.core.canary.judgement import PairedRows, assess_judgement, compute_losses
from levibot_operator.core.canary.judgement_checks import count_judged_steps, plan_judgement_context
from levibot_operator.core.canary.spec import AnalysisStep, parse_canary_spec
from levibot_operator.core.modeldeployment.drift_retrain import (
    build_drift_canary_spec,
    plan_window_seconds,
)
from levibot_operator.core.modeldeployment.spec import parse_modeldeployment
from levibot_trainer.core.metrics import assess_scores
from levibot_trainer.core.model import predict_up
from levibot_trainer.io.market import SymbolCloses
from levibot_trainer.pipeline import (
    build_training_rows,
    fit_and_assess,
    measure_fitted_envelope,
    plan_checked_split,
)
from levibot_trainer.settings import TrainerSettings

ROOT = Path(__file__).resolve().parent.parent
DEMO_MD = ROOT / "examples" / "demo" / "modeldeployment.yaml"
HISTORY_S = 6 * 3600
T0 = 1_800_000_000  # the drift's epoch second (any whole second)


@dataclass(frozen=True)
class Setup:
    """The demo's recipe and loop settings, read from the demo ModelDeployment."""

    body: dict[str, Any]
    symbols: tuple[str, ...]
    features: tuple[str, ...]
    horizon: int
    min_drifted: int


def load_setup(min_drifted: int | None) -> Setup:
    """The demo ModelDeployment (``minDriftedSeconds`` overridden when given)."""
    body = yaml.safe_load(DEMO_MD.read_text())
    body.setdefault("metadata", {})["namespace"] = "bench"
    spec = body["spec"]
    if min_drifted is not None:
        spec["driftRetrain"]["minDriftedSeconds"] = min_drifted
    return Setup(body, tuple(spec["symbols"]), tuple(spec["features"]), spec["horizonSeconds"],
                 spec["driftRetrain"]["minDriftedSeconds"])  # fmt: skip


def build_settings(setup: Setup, version: str) -> TrainerSettings:
    """The trainer's settings as the operator renders them for the demo ModelDeployment."""
    model = setup.body["spec"]["model"]
    return TrainerSettings(
        dsn="postgresql://bench", model_name="bench.btc-direction", version=version,
        symbols=list(setup.symbols), features=list(setup.features),
        horizon_seconds=setup.horizon, model_type=model["type"],
        hyperparameters=model["hyperparameters"], calibration=model["calibration"],
    )  # fmt: skip


def build_closes(symbol: str, seed: int, drifted_s: int, signal: float) -> np.ndarray:
    """1-s closes of ``[T0 - HISTORY_S, T0 + drifted_s)``: healthy history, drifted live feed."""
    base = SeedSpec(symbol, T0 - HISTORY_S, HISTORY_S, seed, regime_seconds=0.0, signal=signal)
    batches = [build_ticks(base)]
    for block in range(math.ceil(drifted_s / LIVE_BLOCK_SECONDS)):
        start = T0 + block * LIVE_BLOCK_SECONDS
        spec = replace(base, start_epoch=start, seconds=LIVE_BLOCK_SECONDS, seed=seed + 1,
                       block=block + 1, start_price=float(batches[-1].price[-1]),
                       drift_from_epoch=T0)  # fmt: skip
        batches.append(build_ticks(spec))
    epoch = np.concatenate([b.epoch for b in batches])
    price = np.concatenate([b.price for b in batches])
    second = np.floor(epoch).astype(np.int64)
    last = np.r_[second[1:] != second[:-1], True]  # a second's close: its last tick
    _, closes = build_filled_closes(second[last], price[last], T0 - HISTORY_S,
                                    T0 + drifted_s - 1, float(price[0]))  # fmt: skip
    return closes


def train(setup: Setup, closes: list[np.ndarray], span: tuple[int, int], version: str, *,
          envelope: bool = False) -> tuple[Any, float, float | None]:  # fmt: skip
    """Fit on the closes of the epoch seconds ``span`` = [start, stop): estimator, test AUC,
    envelope."""
    settings = build_settings(setup, version)
    start, stop = span
    lo, hi = start - (T0 - HISTORY_S), stop - (T0 - HISTORY_S)
    parts = [SymbolCloses(s, np.arange(start, stop, dtype=np.int64), c[lo:hi])
             for s, c in zip(setup.symbols, closes, strict=True)]  # fmt: skip
    rows = build_training_rows(parts, settings)
    split = plan_checked_split(rows, settings)
    fitted = fit_and_assess(rows, split, settings)
    rms = measure_fitted_envelope(rows, split, fitted, settings).rms if envelope else None
    return fitted.estimator, fitted.model.roc_auc, rms


def build_paired(setup: Setup, closes: list[np.ndarray], models: tuple[Any, Any],
                 start: int, stop: int) -> PairedRows:  # fmt: skip
    """Every (symbol, second) of ``[start, stop)`` scored by both versions, with its label."""
    ts, ps, pc, y = [], [], [], []
    lo, hi = start - (T0 - HISTORY_S), stop - (T0 - HISTORY_S)
    for c in closes:
        x = feature_matrix(c[lo - 400 : hi], setup.features)[400:]
        ts.append(np.arange(start, stop, dtype=np.float64))
        ps.append(predict_up(models[0], x))
        pc.append(predict_up(models[1], x))
        y.append((c[lo + setup.horizon : hi + setup.horizon] > c[lo:hi]).astype(np.float64))
    order = np.argsort(np.concatenate(ts), kind="stable")
    arrays = [np.concatenate(a)[order] for a in (ts, ps, pc, y)]
    return PairedRows(*arrays)


def judge(
    setup: Setup, rows: PairedRows, envelope: float | None, started: int
) -> tuple[str, float, str]:
    """The drift canary's judgement through every judged step, as the operator runs it: each
    step needs ``count`` passing looks (one every interval) on the rows pooled since the first,
    within its budget; a failing look at any step rolls back. Verdict, time, reason, and the
    time the first step passed (what one judged step alone would have decided)."""
    md = parse_modeldeployment(setup.body)
    canary = parse_canary_spec({"target": md.name, "candidate": {"train": True},
                                **build_drift_canary_spec(md)})  # fmt: skip
    step = next(s for s in canary.steps if isinstance(s, AnalysisStep))
    spec = step.analysis.judgement
    assert spec is not None
    every, budget = step.analysis.interval.total_seconds(), spec.budget.total_seconds()
    runs = count_judged_steps(canary)
    now, passes, step_started = started + every, 0, started
    while now <= step_started + budget:
        seen = rows.ts <= now
        outcome = np.where(rows.ts + setup.horizon <= now, rows.outcome, np.nan)[seen]
        view = PairedRows(rows.ts[seen], rows.p_stable[seen], rows.p_candidate[seen], outcome)
        ctx = plan_judgement_context(spec, (setup.horizon, setup.features), (started, now),
                                     envelope, runs=runs)  # fmt: skip
        result = assess_judgement(view, spec, replace(ctx, bootstrap_reps=20))
        if result.verdict is Verdict.FAIL:
            return result.verdict.value, now - started, result.reason
        if result.verdict is Verdict.PASS:
            passes += 1
            if passes == runs * step.analysis.count:
                return result.verdict.value, now - started, result.reason
            if passes % step.analysis.count == 0:
                step_started = now
        now += every
    return "outOfBudget", now - started, result.reason


def run_seed(setup: Setup, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One market: stable, drift, retrain on the operator's window, the judged canary."""
    since = T0 + args.alert_delay
    opened = since + setup.min_drifted
    started = opened + args.deploy
    end = started + 40 * 60  # every judged step of the template, pooled, within its budgets
    closes = [build_closes(s, seed, end - T0 + 2 * setup.horizon, args.signal)
              for s in setup.symbols]  # fmt: skip
    stable, auc_stable, envelope = train(setup, closes, (T0 - HISTORY_S, T0), "v1", envelope=True)
    md = parse_modeldeployment(setup.body)
    window = plan_window_seconds(md, datetime.fromtimestamp(since, UTC),
                                 datetime.fromtimestamp(opened, UTC))  # fmt: skip
    retrain, auc_retrain, _ = train(setup, closes, (opened - window, opened), "v2")
    rows = build_paired(setup, closes, (stable, retrain), started, end)
    loss_s = compute_losses(rows.p_stable, rows.outcome, "logLoss").mean()
    loss_c = compute_losses(rows.p_candidate, rows.outcome, "logLoss").mean()
    verdict, seconds, reason = judge(setup, rows, envelope, started)
    return {"seed": seed, "auc_stable": round(auc_stable, 3), "auc_retrain": round(auc_retrain, 3),
            "envelope": envelope, "window": window, "loss_stable": round(float(loss_s), 4),
            "loss_retrain": round(float(loss_c), 4), "verdict": verdict, "seconds": seconds,
            "reason": reason, "auc_drifted": assess_scores(rows.outcome.astype(np.int64),
                                                           rows.p_candidate).roc_auc}  # fmt: skip


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares of each verdict and the median time to promotion."""
    n = len(results)
    verdicts = ("pass", "fail", "outOfBudget")
    shares = {v: sum(r["verdict"] == v for r in results) / n for v in verdicts}
    passed = [r["seconds"] for r in results if r["verdict"] == "pass"]
    diff = [r["loss_retrain"] - r["loss_stable"] for r in results]
    return {"seeds": n, **shares, "median_s_to_pass": statistics.median(passed) if passed else None,
            "mean_loss_difference": round(statistics.fmean(diff), 4)}  # fmt: skip


def build_flipped_path(spec: SeedSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The former drift: volatility x3 and the latent trend's sign flipped (no reversal)."""
    sigma = spec.base_vol * np.ones(spec.seconds)
    trend = generator.build_trend(rng, spec.seconds)
    if spec.drift_from_epoch is not None:
        after = spec.start_epoch + np.arange(spec.seconds) >= spec.drift_from_epoch
        sigma = np.where(after, sigma * generator.DRIFT_VOL_FACTOR, sigma)
        trend = np.where(after, -trend, trend)
    steps = spec.signal * sigma * trend + sigma * rng.standard_normal(spec.seconds)
    start = spec.start_price or generator.START_PRICES[spec.symbol]
    return np.log(start) + np.concatenate([[0.0], np.cumsum(steps)]), sigma


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--min-drifted", type=int, default=None, help="default: the demo's")
    parser.add_argument("--alert-delay", type=int, default=114)
    parser.add_argument("--deploy", type=int, default=60, help="opening to shadow scoring, s")
    parser.add_argument("--signal", type=float, default=generator.DEFAULT_SIGNAL)
    parser.add_argument("--trend", type=int, default=generator.TREND_SECONDS)
    parser.add_argument("--drift", choices=("reversal", "flip"), default="reversal")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    generator.TREND_SECONDS = args.trend  # the study's knobs; the product's constants otherwise
    if args.drift == "flip":
        generator.build_log_path = build_flipped_path
    setup = load_setup(args.min_drifted)
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        found = run_seed(setup, seed, args)
        results.append(found)
        if not args.json:
            print({k: v for k, v in found.items() if k != "reason"}, flush=True)
    summary = summarize(results)
    print(json.dumps(summary) if args.json else summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Gate error rates: simulated canaries through levibot's own code (benchmark, issue 13).

Runs canaries of healthy, broken and better candidates on simulated markets (the seed
generator's market with volatility regimes, and EURUSD hourly bars from the ``backtesting``
PyPI package replayed at 60 s per bar), at 1, 10 and 100 predictions/s per symbol, through the
predictor's monitor code (calibration window, ECE, drift window, PSI/KS), the operator's
analysis (``assess_checks``) and its canary state machine (``decide_canary``) with the spec of
``bench/gatesim/specs/today.yaml`` (``examples/canary.yaml`` before issue 13), and through the
operator's judgement (``assess_judgement``: stage 1 agreement against the stable's envelope from
the trainer's own ``measure_fitted_envelope``, stage 2 paired non-inferiority, calibration) with
``bench/gatesim/specs/production.yaml`` ("new": onDifferent rollback; "evaluate": the same with
onDifferent evaluate). Prints, per market and rate, the share of canaries rolled back, promoted
and paused and the median time to each verdict, the gate sets side by side, and the CPU time.
See ``bench/gatesim`` for every modelling choice.

Run: ``.venv/bin/python bench/gate_error_rates.py [--quick] [--rates 1,10,100]
[--canaries N] [--markets seed,eurusd] [--processes 2] [--json]``; ``--quick``: 200 canaries of
the seed market at 10 req/s unless told otherwise (training the 7-day versions and the
envelope is most of its CPU time). ``--json`` prints only the
issue's object for the seed market at 10 req/s with the new gates (the production spec).

``--checks trading`` (issue 15) runs every canary with the judgement's trading checks alone
(``gatesim.trading``: the production spec with ``judgement.trading: {}``; the paired paper
returns' Sharpe difference gates, the drawdown ratio is a reading) as the gate set
``trading``; ``--json`` then prints the same object for that gate set.
``--trading-budget 3h`` sets that spec's judgement budget (default: the production 45m),
``--trading-rollback 20`` its ``rollbackSharpeDelta`` (default: the seed's 0.3); the stable
carries the retraining noise the trainer records (``--trading-noise none``: without it, as a
version trained before the trainer recorded it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from multiprocessing import Pool

import numpy as np

from gatesim.report import build_issue_json, format_table, summarize_rows
from gatesim.simulate import Job, Row, Score, run_job

CANARIES_PER_JOB = {"seed": 100, "eurusd": 25}  # eurusd: ~41 h per symbol stretch
QUICK, DEFAULT = 200, 1000


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK} canaries per scenario, and unless given: --markets seed --rates 10",
    )  # fmt: skip
    parser.add_argument("--canaries", type=int, default=None, help=f"default {DEFAULT}")
    parser.add_argument("--rates", default=None, help="predictions/s per symbol (1,10,100)")
    parser.add_argument("--markets", default=None, help="seed,eurusd")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the issue's JSON only")
    parser.add_argument(
        "--checks", choices=("all", "trading"), default="all",
        help="all: today's, new and evaluate gate sets; trading: the trading checks alone",
    )  # fmt: skip
    parser.add_argument("--trading-budget", default=None, help="e.g. 3h (default: the spec's)")
    parser.add_argument(
        "--trading-rollback", type=float, default=None,
        help="rollbackSharpeDelta of the trading checks (default: the seed's 0.3)",
    )  # fmt: skip
    parser.add_argument(
        "--trading-noise", choices=("recorded", "none"), default="recorded",
        help="recorded: the stable's retraining noise from the trainer (the band); none: the "
        "confidence sequence alone (versions without a recorded noise)",
    )  # fmt: skip
    return parser.parse_args(argv)


def plan_jobs(markets: list[str], canaries: int, rates: tuple[float, ...],
              args: argparse.Namespace) -> list[Job]:  # fmt: skip
    """Jobs of ``CANARIES_PER_JOB`` canaries, one market seed each."""
    jobs = []
    for market in markets:
        per_job = CANARIES_PER_JOB[market]
        count = math.ceil(canaries / per_job)
        for seed in range(count):
            size = min(per_job, canaries - seed * per_job)
            jobs.append(Job(market, 1000 + seed, size, rates, args.checks,
                            args.trading_budget, args.trading_rollback,
                            args.trading_noise == "recorded"))  # fmt: skip
    return jobs


def run_jobs_quietly(job: Job) -> tuple[list[Row], list[Score]]:
    """One job with third-party warnings silenced (skl2onnx, sklearn)."""
    warnings.simplefilter("ignore")
    return run_job(job)


def main(argv: list[str]) -> None:
    """Run, then print the tables (or the JSON)."""
    args = parse_args(argv)
    canaries = args.canaries or (QUICK if args.quick else DEFAULT)
    rates = tuple(float(r) for r in (args.rates or ("10" if args.quick else "1,10,100")).split(","))
    markets = (args.markets or ("seed" if args.quick else "seed,eurusd")).split(",")
    began = time.monotonic()
    rows: list[Row] = []
    scores: list[Score] = []
    with Pool(args.processes) as pool:
        for part, score in pool.imap_unordered(
            run_jobs_quietly, plan_jobs(markets, canaries, rates, args)
        ):
            rows.extend(part)
            scores.extend(score)
    summary = summarize_rows(rows)
    gates = "trading" if args.checks == "trading" else "new"
    if args.json:
        print(json.dumps(build_issue_json(summary, "seed", gates, 10.0)))
        return
    cpu = sum(os.times()[:4])  # this process and its finished children (the pool's workers)
    print(
        f"{canaries} canaries per scenario, {time.monotonic() - began:.0f} s "
        f"on {args.processes} processes, {cpu:.0f} s of CPU"
    )
    gate_sets = tuple(
        g for g in ("today", "new", "evaluate", "trading") if any(k[1] == g for k in summary)
    )
    for market in markets:
        print(format_scores(scores, market))
        for rate in rates:
            print(format_table(summary, market, rate, gate_sets))
    if ("seed", gates, 10.0, "same") in summary:
        print("\n--json: " + json.dumps(build_issue_json(summary, "seed", gates, 10.0)))


def format_scores(scores: list[Score], market: str) -> str:
    """Is ``better`` better? Mean live log-loss and Brier per version, and better - stable."""
    by_version: dict[str, list[tuple[float, float]]] = {}
    for name, version, loss, brier in scores:
        if name == market:
            by_version.setdefault(version, []).append((loss, brier))
    means = {v: np.mean(np.array(x), axis=0) for v, x in by_version.items()}
    pairs = np.array(by_version["better"]) - np.array(by_version["same"])  # same markets
    line = ", ".join(f"{v} {m[0]:.5f} / {m[1]:.5f}" for v, m in means.items())
    wins = float(np.mean(pairs[:, 0] < 0))
    return (
        f"\n{market}: live log-loss / Brier per version (mean over {len(pairs)} markets): {line};"
        f" better - stable log-loss {pairs[:, 0].mean():+.5f} (better in {wins:.0%} of markets)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

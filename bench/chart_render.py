"""Benchmark: the chart's checks, next to the bare tool start-up measured in the same run.

Tooling layer. Times `helm template` (default and full values), `helm lint` and
`promtool test rules` on the chart's alert rules with one case per alert, each the median of a few
runs, against a baseline of the same binaries doing nothing (`helm version`, `promtool --version`),
so the figures show what the chart and its rules add. Run:

    .venv/bin/python bench/chart_render.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chart.support.promtool import SEED_CASES, build_promtool_tests
from tests.chart.support.render import (
    CHART,
    FULL_VALUES,
    helm_bin,
    render,
    render_args,
    render_text,
    rule_groups,
)


def measure(cmd: Sequence[str], runs: int) -> float:
    """Median wall time of `runs` runs of the command, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def write_promtool_files(workdir: Path) -> Path:
    (workdir / "rules.yaml").write_text(yaml.safe_dump(rule_groups(render(values=[FULL_VALUES]))))
    tests = workdir / "rules_test.yaml"
    tests.write_text(yaml.safe_dump(build_promtool_tests("rules.yaml", SEED_CASES)))
    return tests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    helm = helm_bin()
    with tempfile.TemporaryDirectory(prefix="levibot-bench-") as tmp:
        tests = write_promtool_files(Path(tmp))
        rows = [
            ("helm version (baseline)", measure([helm, "version"], runs)),
            ("helm template, default values", measure([helm, *render_args()], runs)),
            ("helm template, full values", measure([helm, *render_args([FULL_VALUES])], runs)),
            ("helm lint --strict", measure([helm, "lint", "--strict", str(CHART)], runs)),
            ("promtool --version (baseline)", measure(["promtool", "--version"], runs)),
            (f"promtool test rules ({len(SEED_CASES)} alerts)",
             measure(["promtool", "test", "rules", str(tests)], runs)),
        ]  # fmt: skip
    print(f"{'what':<40} {'median ms':>10}   ({runs} runs each)")
    for name, ms in rows:
        print(f"{name:<40} {ms:>10.1f}")
    full = render_text(values=[FULL_VALUES])
    objects = len(render(values=[FULL_VALUES]))
    print(f"rendered full chart: {len(full.encode()) / 1024:.1f} KiB, {objects} objects")


if __name__ == "__main__":
    main()

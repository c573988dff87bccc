#!/usr/bin/env python3
"""Writes spec.canaryTemplate of crds/modeldeployment.yaml from crds/canary.yaml (its source).

A ModelDeployment's canary template is a Canary spec without target and candidate, so its
schema is the Canary's spec schema minus those two fields, copied here (with the Canary's
descriptions, bounds and CEL rules) so that the API server checks a template as it checks a
Canary. tests/crds/test_canary_template_schema.py fails when the copy drifts; then run
`python3 hack/sync-canary-template.py && hack/sync-crds.sh`.
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MD_CRD, CANARY_CRD = ROOT / "crds" / "modeldeployment.yaml", ROOT / "crds" / "canary.yaml"
INDENT = 16  # spec.properties.<field> in crds/modeldeployment.yaml
BEGIN = " " * INDENT + "canaryTemplate:\n"
END = " " * (INDENT - 4) + "status:\n"
DESCRIPTION = (
    "How every version after the first is rolled out: a Canary spec without target and"
    " candidate (steps, analysis with its judgement, progressDeadline, shadow). The first"
    " version goes straight to stable. Every later version the ModelDeployment trains (a"
    " schedule, or a spec change) is rolled out by a Canary <name>-<version> built from this"
    " template (label levibot.io/trigger: schedule or specChange), and the driftPolicy"
    " retrainAndCanary opens its Canary from it too (trigger drift); stable is never switched"
    " without a canary. For specChange and drift, judgement.agreement.onDifferent is evaluate"
    " whatever the template says (a new recipe or a moved market is expected to differ from the"
    " stable; stage 2 decides); a schedule retrain keeps the template's (rollback by default)."
    " A drift canary's judgement also has budget driftRetrain.budget, onInconclusive rollback"
    " and calibration.relativeToStable true."
    " Unset: the built-in production default, the one of examples/canary.yaml: steps setWeight"
    " 10, analysis, 25, analysis, 50, analysis, 100, analysis; progressDeadline 10m; analysis"
    " every 1m, count 3, failureLimit 0, inconclusiveLimit 60, consecutiveErrorLimit 4, window"
    " 5m; thresholds errorRateMax 0.01 and latencyP95MaxSeconds 0.3 (gates), eceMax 0.06,"
    " ksPValueMin 0.05, psiMax 0.2 (readings); judgement alpha 0.05, blockSeconds 0 (auto),"
    " budget 45m, onInconclusive pause, agreement.onDifferent rollback with blockSeconds 30 and"
    " lags 11, nonInferiority logLoss"
    " with tolerance 0.01, calibration alpha 0.01."
)


def build_schema() -> dict[str, object]:
    """The Canary's spec schema without target and candidate."""
    crd = yaml.safe_load(CANARY_CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    properties = {k: v for k, v in spec["properties"].items() if k not in ("target", "candidate")}
    return {
        "type": "object",
        "description": DESCRIPTION,
        "required": ["steps"],
        "properties": properties,
    }


def render_block() -> str:
    """The YAML lines of ``canaryTemplate:`` at its indentation."""
    text = yaml.safe_dump({"canaryTemplate": build_schema()}, sort_keys=False, width=100)
    return "".join(" " * INDENT + line + "\n" for line in text.splitlines())


def main() -> None:
    """Replace (or insert before status) the block in crds/modeldeployment.yaml."""
    text = MD_CRD.read_text()
    if BEGIN in text:
        start = text.index(BEGIN)
        end = text.index(END, start)
    else:
        start = end = text.index(END)
    MD_CRD.write_text(text[:start] + render_block() + text[end:])
    print(f"wrote spec.canaryTemplate into {MD_CRD.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

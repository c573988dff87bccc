"""spec.canaryTemplate of the ModelDeployment CRD is the Canary's spec schema without target and
candidate, so the API server checks a template as it checks a Canary (contract test, no server).

The copy is written by hack/sync-canary-template.py; the chart's CRDs are copies of crds/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_spec_schema(name: str) -> dict[str, Any]:
    crd = yaml.safe_load((ROOT / "crds" / name).read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["spec"]


def test_the_template_schema_is_the_canary_spec_without_target_and_candidate() -> None:
    canary = load_spec_schema("canary.yaml")["properties"]
    template = load_spec_schema("modeldeployment.yaml")["properties"]["canaryTemplate"]
    expected = {k: v for k, v in canary.items() if k not in ("target", "candidate")}
    assert template["properties"] == expected, "run hack/sync-canary-template.py"
    assert template["required"] == ["steps"]
    assert "built-in production default" in template["description"]


def test_the_chart_carries_the_same_modeldeployment_crd() -> None:
    source = (ROOT / "crds" / "modeldeployment.yaml").read_text()
    assert (ROOT / "charts" / "levibot" / "crds" / "modeldeployment.yaml").read_text() == source

"""Helpers for the chart tests: the helm binary, rendering the chart, picking objects.

Test support layer. Runs the real helm (built by hack/tools.sh, found through
levibot_devstack.tools.tool_dir) and parses its output with PyYAML.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from levibot_devstack.tools import tool_dir

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "levibot"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
DEV_VALUES = CHART / "values-dev.yaml"
KUBE_VERSION = "1.32.5"
NAMESPACE = "levibot-system"

Manifest = dict[str, Any]


def helm_bin() -> str:
    """Path of the cached helm binary."""
    return str(tool_dir() / "helm")


def run_helm(
    *args: str, check: bool = True, kubeconfig: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Runs helm with the given arguments (optionally against a cluster)."""
    cmd = [helm_bin(), *args]
    if kubeconfig is not None:
        cmd += ["--kubeconfig", str(kubeconfig)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and out.returncode != 0:
        raise AssertionError(f"helm {' '.join(args[:2])} failed ({out.returncode}): {out.stderr}")
    return out


def render_args(
    values: Sequence[Path] = (), sets: Sequence[str] = (), api_versions: Sequence[str] = ()
) -> list[str]:
    """`helm template` arguments for the chart as release "levibot" in NAMESPACE.

    `sets` go through --set-json (so that 0.07 stays a number, as in a values file).
    """
    args = ["template", "levibot", str(CHART), "--namespace", NAMESPACE]
    args += ["--kube-version", KUBE_VERSION, "--include-crds"]
    for path in values:
        args += ["--values", str(path)]
    for item in sets:
        args += ["--set-json", item]
    for api in api_versions:
        args += ["--api-versions", api]
    return args


def render_text(
    values: Sequence[Path] = (), sets: Sequence[str] = (), api_versions: Sequence[str] = ()
) -> str:
    """The rendered chart as one multi-document YAML string."""
    return run_helm(*render_args(values, sets, api_versions)).stdout


def render(
    values: Sequence[Path] = (), sets: Sequence[str] = (), api_versions: Sequence[str] = ()
) -> list[Manifest]:
    """The rendered chart as a list of objects (empty documents dropped)."""
    text = render_text(values, sets, api_versions)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(objects: Iterable[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    """Objects of a kind (and name, when given)."""
    return [
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def one(objects: Iterable[Manifest], kind: str, name: str) -> Manifest:
    """The single object of a kind and name; fails the test when absent or repeated."""
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def container_env(deployment: Manifest) -> dict[str, Any]:
    """The first container's env as {name: value or valueFrom}."""
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in env}


def rule_groups(objects: Iterable[Manifest]) -> dict[str, Any]:
    """The `groups` document of the rendered PrometheusRule (a Prometheus rule file)."""
    rule = find(objects, "PrometheusRule")
    assert len(rule) == 1, "the chart rendered no PrometheusRule"
    spec: dict[str, Any] = rule[0]["spec"]
    return spec


def alerts(groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every alerting rule by alert name."""
    return {r["alert"]: r for g in groups["groups"] for r in g["rules"] if "alert" in r}

"""The Canary CRD and example as data, and helpers to walk and install the schema."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from levibot_devstack.cluster import LocalCluster

ROOT = Path(__file__).resolve().parents[4]
CRD = ROOT / "crds" / "canary.yaml"
EXAMPLE = ROOT / "examples" / "canary.yaml"


def load_crd() -> dict[str, Any]:
    return dict(yaml.safe_load(CRD.read_text()))


def load_example() -> dict[str, Any]:
    return dict(yaml.safe_load(EXAMPLE.read_text()))


def openapi_schema() -> dict[str, Any]:
    return dict(load_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def walk_properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (path, schema) of every property, items included."""
    for name, sub in schema.get("properties", {}).items():
        yield f"{path}.{name}", sub
        yield from walk_properties(sub, f"{path}.{name}")
    if "items" in schema:
        yield from walk_properties(schema["items"], f"{path}[]")


def install_canary_crd(kube: LocalCluster) -> None:
    applied = kube.kubectl(
        "apply", "--server-side", "--force-conflicts", "-f", str(CRD), check=False
    )
    assert applied.returncode == 0, applied.stderr
    kube.kubectl("wait", "--for=condition=Established", "crd/canaries.levibot.io", "--timeout=60s")


def example_with(**spec: Any) -> dict[str, Any]:
    body = copy.deepcopy(load_example())
    body["spec"].update(spec)
    return body

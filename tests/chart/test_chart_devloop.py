"""The Docker/kind/Tilt dev loop files: kind-config.yaml, the Tiltfile and their documentation.

No kind or Tilt here, so these check what can be checked without them: the kind config's shape
and port mappings, the Tiltfile parses (Starlark is a Python subset) and names files that exist,
and the documented commands match the files.
"""

from __future__ import annotations

import ast
import re

import yaml

from tests.chart.support.render import CHART, ROOT

TILTFILE = ROOT / "Tiltfile"
DOC = ROOT / "docs" / "kind-tilt.md"
PORTS = {30080, 30090, 30093, 30030}


def tilt_calls() -> list[ast.Call]:
    tree = ast.parse(TILTFILE.read_text(), filename="Tiltfile")
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def call_name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def test_kind_config_maps_the_dev_ports_on_loopback_only() -> None:
    config = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["name"] == "levibot"
    (control,) = [n for n in config["nodes"] if n["role"] == "control-plane"]
    mappings = control["extraPortMappings"]
    assert {m["hostPort"] for m in mappings} == PORTS
    assert all(m["listenAddress"] == "127.0.0.1" for m in mappings)
    assert all(m["containerPort"] == m["hostPort"] for m in mappings)


def test_tiltfile_parses_and_builds_the_three_images() -> None:
    strings = {
        n.value for n in ast.walk(ast.parse(TILTFILE.read_text())) if isinstance(n, ast.Constant)
    }
    assert {"levibot/operator", "images/operator.Dockerfile"} <= strings
    assert "levibot/" in strings  # predictor and trainer: 'levibot/' + name in a loop
    assert {"predictor", "trainer"} <= strings
    names = [call_name(c) for c in tilt_calls()]
    for needed in ("docker_build", "docker_build_with_restart", "helm", "k8s_yaml", "k8s_resource"):
        assert needed in names, needed
    for dockerfile in ("operator", "predictor", "trainer"):
        assert (ROOT / "images" / f"{dockerfile}.Dockerfile").exists()


def test_tiltfile_installs_the_chart_with_the_dev_values() -> None:
    text = TILTFILE.read_text()
    assert "'charts/levibot'" in text
    assert "charts/levibot/values-dev.yaml" in text
    assert (CHART / "values-dev.yaml").exists()
    forwards = set(re.findall(r"'(\d+):(\d+)'", text))
    assert ("8443", "8443") in forwards
    assert ("8080", "8080") in forwards
    assert "nodePort: 30080" in text


def test_tiltfile_syncs_into_the_paths_the_images_use() -> None:
    for image in ("operator", "predictor", "trainer"):
        dockerfile = (ROOT / "images" / f"{image}.Dockerfile").read_text()
        assert f"PYTHONPATH=/app/common:/app/{image}" in dockerfile
    text = TILTFILE.read_text()
    assert "sync('common/levibot_common', '/app/common/levibot_common')" in text
    assert "'/app/%s/levibot_%s' % (name, name)" in text


def test_docs_give_the_exact_commands() -> None:
    doc = DOC.read_text()
    for command in (
        "kind create cluster --config kind-config.yaml",
        "tilt up",
        "helm install levibot charts/levibot",
        "docker build -f images/$image.Dockerfile",
        "kind load docker-image",
    ):
        assert command in doc, command

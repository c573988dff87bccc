"""The images: pinned dependency sets, Dockerfile hygiene, and each image's command runs here."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from prometheus_client.parser import text_string_to_metric_families

from tests.chart.support.images import (
    IMAGES,
    ROOT,
    fetch_url,
    final_stage,
    parse_stages,
    run_image_command,
    running_predictor,
    stage_command,
    stage_env,
)
from tests.predictor.support.models import make_model, write_model

NAMES = ("operator", "predictor", "trainer")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==([0-9][0-9a-zA-Z.+!-]*)$")


def pinned(image: str) -> dict[str, str]:
    return read_pins(IMAGES / f"requirements-{image}.txt")


def read_pins(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    pins = {}
    for line in lines:
        if line and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"{path.name}: not pinned: {line!r}"
            pins[match.group(1)] = match.group(2)
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("image", NAMES)
def test_requirements_pin_every_dependency_of_the_extra(image: str) -> None:
    pins = pinned(image)
    wanted = (
        PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"][image]
    )
    for text in wanted:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"sys_platform": "linux"}):
            continue
        name = canonical(req.name)
        assert name in pins, f"{image}: {req.name} is not pinned"
        assert req.specifier.contains(pins[name]), f"{image}: {name}=={pins[name]} breaks {req}"


def test_the_dev_lock_is_what_the_venv_runs_and_what_the_images_pin() -> None:
    lock = {
        canonical(name): version for name, version in read_pins(ROOT / "constraints.txt").items()
    }
    for name, version in lock.items():
        assert metadata.version(name) == version, f"constraints.txt: {name} pinned {version}"
    for image in NAMES:
        for name, version in pinned(image).items():
            assert lock.get(canonical(name)) == version, f"{image}: {name}=={version} not locked"


@pytest.mark.parametrize("image", NAMES)
def test_requirements_pin_the_versions_the_tests_run_with(image: str) -> None:
    for name, version in pinned(image).items():
        assert metadata.version(name) == version, (
            f"{image}: {name} pinned {version}, venv has another"
        )


@pytest.mark.parametrize("image", NAMES)
def test_dockerfile_is_multi_stage_slim_non_root_and_read_only_friendly(image: str) -> None:
    stages = parse_stages(IMAGES / f"{image}.Dockerfile")
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    text = (IMAGES / f"{image}.Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, re.M), (
        "base not pinned"
    )
    final = stages[-1]
    keywords = [k for k, _ in final.instructions]
    assert ("USER", "10001:10001") in final.instructions
    assert "RUN" not in keywords
    assert "ADD" not in keywords
    env = stage_env(final)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == "/tmp"  # noqa: S108 (an emptyDir in the pods)
    assert stage_command(final)[:3] == ["python", "-m", f"levibot_{image}"]
    assert f"COPY images/requirements-{image}.txt /tmp/requirements.txt" in text


@pytest.mark.parametrize("image", NAMES)
def test_build_context_is_an_allow_list(image: str) -> None:
    ignore = (IMAGES / f"{image}.Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore
    for path in (
        f"images/requirements-{image}.txt",
        "common/levibot_common",
        f"{image}/levibot_{image}",
    ):
        assert f"!{path}" in ignore
        assert (ROOT / path).exists()


def test_predictor_image_command_serves_an_onnx_model(tmp_path: Path) -> None:
    with running_predictor(tmp_path, write_model(tmp_path, make_model())) as (url, proc):
        assert json.loads(fetch_url(f"{url}/healthz", proc))
        exposition = fetch_url(f"{url}/metrics", proc).decode()
    families = {f.name for f in text_string_to_metric_families(exposition)}
    assert {"levibot_model_latency_seconds", "levibot_active_model_info"} <= families


def test_trainer_image_command_refuses_bad_config_with_exit_2(tmp_path: Path) -> None:
    out = run_image_command(
        "trainer",
        tmp_path,
        {
            "LEVIBOT_TRAINER_MODEL_TYPE": "randomForest",
            "LEVIBOT_TRAINER_RESULT_PATH": str(tmp_path / "result.json"),
        },
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "model_type" in out.stdout + out.stderr + (tmp_path / "result.json").read_text()


def test_trainer_image_default_command_is_train(tmp_path: Path) -> None:
    assert stage_command(final_stage("trainer"))[-1] == "train"
    out = run_image_command("trainer", tmp_path, {}, args=["train", "--help"])
    assert out.returncode == 0, out.stderr
    assert "LEVIBOT_TRAINER_" in out.stdout


def test_operator_image_command_refuses_bad_settings_naming_the_field(tmp_path: Path) -> None:
    out = run_image_command("operator", tmp_path, {"LEVIBOT_OPERATOR_WEBHOOK_PORT": "0"})
    assert out.returncode != 0
    assert "webhook_port" in out.stderr

"""End to end, on the local stack: the example ModelDeployment trains for real (the trainer
Job runs as a process), its predictors serve real traffic, Prometheus scrapes them, and the
kill-switch and a database restart behave as a user expects."""

from __future__ import annotations

import time
from typing import Any

import pytest

from levibot_devstack.stack import LocalStack
from tests.e2e.support.stack import eventually, load_example, new_namespace, wait_phase

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.prometheus, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(stack: LocalStack) -> tuple[str, dict[str, Any]]:
    """The example ModelDeployment, Ready, in its own namespace."""
    ns = new_namespace(stack)
    stack.apply(ns, load_example("modeldeployment.yaml"))
    md = wait_phase(stack, ns, "md", "btc-direction", "Ready", timeout=240)
    return ns, md


def test_example_trains_for_real_and_serves(
    stack: LocalStack, served: tuple[str, dict[str, Any]]
) -> None:
    ns, md = served
    assert md["status"]["stableVersion"] == "v1"
    job = stack.get(ns, "job", "btc-direction-train-v1-1")
    assert job["status"]["succeeded"] == 1
    terminated = stack.get(ns, "pods", "-l", "job-name=btc-direction-train-v1-1")["items"][0]
    message = terminated["status"]["containerStatuses"][0]["state"]["terminated"]["message"]
    assert '"reason": "registered"' in message  # the trainer's own result document
    [row] = stack.registry_rows(f"{ns}.btc-direction")
    assert (row["version"], row["status"]) == ("v1", "active")
    assert '"roc_auc"' in row["metrics"]

    stats = stack.send_traffic(ns, "btc-direction", seconds=5)
    assert sum(stats.answers.values()) >= 50
    assert set(stats.answers) == {("v1", "stable")}
    assert not stats.errors
    assert not stats.fallbacks

    selector = f'levibot_predict_requests_total{{namespace="{ns}",model="btc-direction"}}'
    series = eventually(lambda: stack.prom_query(selector), 30, "Prometheus to scrape")
    assert {s["metric"]["version"] for s in series} == {"v1"}


def test_kill_switch_answers_hold_without_restarting_pods(
    stack: LocalStack, served: tuple[str, dict[str, Any]]
) -> None:
    ns, _ = served
    before = {
        p["metadata"]["name"] for p in stack.get(ns, "pods", "-l", "levibot.io/version=v1")["items"]
    }
    stack.kube.kubectl(
        "-n",
        ns,
        "patch",
        "md",
        "btc-direction",
        "--type=merge",
        "-p",
        '{"spec": {"killSwitch": true}}',
    )

    def holding() -> bool:
        stats = stack.send_traffic(ns, "btc-direction", seconds=1)
        return set(stats.fallbacks) == {"kill_switch"} and not stats.errors

    eventually(holding, 60, "every answer to be HOLD (kill_switch)")
    md = stack.get(ns, "md", "btc-direction")
    conditions = {c["type"]: c["status"] for c in md["status"]["conditions"]}
    assert conditions["KillSwitch"] == "True"

    stack.kube.kubectl(
        "-n",
        ns,
        "patch",
        "md",
        "btc-direction",
        "--type=merge",
        "-p",
        '{"spec": {"killSwitch": false}}',
    )
    eventually(
        lambda: not stack.send_traffic(ns, "btc-direction", seconds=1).fallbacks,
        60,
        "predictions to resume",
    )
    pods = stack.get(ns, "pods", "-l", "levibot.io/version=v1")["items"]
    assert {p["metadata"]["name"] for p in pods} == before
    assert all(p["status"]["containerStatuses"][0]["restartCount"] == 0 for p in pods)


def test_database_restart_degrades_visibly_and_recovers(
    stack: LocalStack, served: tuple[str, dict[str, Any]]
) -> None:
    ns, _ = served
    assert stack.postgres is not None
    stack.postgres.stop()
    try:

        def falling_back() -> bool:
            stats = stack.send_traffic(ns, "btc-direction", seconds=1)
            return bool(stats.fallbacks) and not stats.errors

        eventually(falling_back, 90, "symbol predictions to fall back while the database is down")
    finally:
        stack.postgres.start()
    restarted = time.time()
    feed = stack.processes["feed"]
    try:
        eventually(lambda: stack.latest_tick() > restarted + 2, 120, "the live feed to reconnect")
    except AssertionError as err:
        raise AssertionError(f"{err}\nfeed alive={feed.alive()}, its log:\n{feed.tail()}") from err
    eventually(
        lambda: not stack.send_traffic(ns, "btc-direction", seconds=2).fallbacks,
        120,
        "predictions without fallback once the database is back",
    )

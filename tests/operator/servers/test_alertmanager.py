"""A real Alertmanager posts to the webhook app on loopback: its payload reaches the callback,
and a receiver configured with the wrong token is refused (io edge, real parts)."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from levibot_devstack.net import free_port
from levibot_devstack.services import AlertmanagerServer
from levibot_operator.core.alerts.payload import AlertTarget
from levibot_operator.servers.webhook import ALERTS_PATH, WebhookConfig, build_webhook_app

pytestmark = pytest.mark.prometheus


def receiver_config(port: int, token_file: Path) -> str:
    return f"""\
route:
  receiver: levibot
  group_by: [alertname, namespace, modeldeployment, version]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: levibot
    webhook_configs:
      - url: http://127.0.0.1:{port}{ALERTS_PATH}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: {token_file}
"""


class Inbox:
    def __init__(self) -> None:
        self.targets: asyncio.Queue[tuple[float, AlertTarget]] = asyncio.Queue()

    async def __call__(self, target: AlertTarget) -> bool:
        await self.targets.put((time.perf_counter(), target))
        return True


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[tuple[int, Inbox, Path]]:
    token = tmp_path / "token"
    token.write_text("am-token")
    inbox = Inbox()
    runner = web.AppRunner(build_webhook_app(WebhookConfig(token), inbox))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port, inbox, token
    await runner.cleanup()


async def fire(alertmanager: AlertmanagerServer, version: str) -> float:
    labels = {
        "alertname": "LevibotFeatureDrift",
        "namespace": "prod",
        "modeldeployment": "btc-direction",
        "version": version,
    }
    body = [
        {
            "labels": labels,
            "annotations": {"value": "0.41"},
            "startsAt": datetime.now(UTC).isoformat(),
        }
    ]
    async with aiohttp.ClientSession() as session:
        sent = time.perf_counter()
        async with session.post(f"{alertmanager.url}/api/v2/alerts", json=body) as response:
            assert response.status == 200
    return sent


async def next_target(inbox: Inbox, namespace: str) -> tuple[float, AlertTarget]:
    """The next target from ``namespace``: the session's Alertmanager may still hold alerts
    that other tests fired, which its new route delivers here too."""
    while True:
        arrived, target = await inbox.targets.get()
        if target.namespace == namespace:
            return arrived, target


async def test_alertmanager_payload_reaches_the_callback(
    alertmanager: AlertmanagerServer, webhook: tuple[int, Inbox, Path]
) -> None:
    port, inbox, token = webhook
    await asyncio.to_thread(alertmanager.reload, receiver_config(port, token))
    sent = await fire(alertmanager, "v2")
    arrived, target = await asyncio.wait_for(next_target(inbox, "prod"), timeout=30)
    assert (target.namespace, target.modeldeployment, target.version) == (
        "prod",
        "btc-direction",
        "v2",
    )
    assert (target.alertname, target.value) == ("LevibotFeatureDrift", "0.41")
    assert target.fingerprint
    print(f"alert posted to Alertmanager -> webhook callback: {(arrived - sent) * 1000:.1f} ms")


async def test_a_receiver_with_the_wrong_token_changes_nothing(
    alertmanager: AlertmanagerServer, webhook: tuple[int, Inbox, Path], tmp_path: Path
) -> None:
    port, inbox, _ = webhook
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")
    await asyncio.to_thread(alertmanager.reload, receiver_config(port, wrong))
    await fire(alertmanager, "v7")
    await asyncio.sleep(3)  # Alertmanager delivers within group_wait + a retry; nothing may arrive
    assert inbox.targets.empty()

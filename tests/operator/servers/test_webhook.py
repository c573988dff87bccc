"""The Alertmanager webhook app through aiohttp's test client, and its payload parser."""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from levibot_operator.core.alerts.payload import AlertTarget, PayloadError, parse_alert_payload
from levibot_operator.servers.webhook import ALERTS_PATH, WebhookConfig, build_webhook_app
from tests.operator.support.canary.alerts import alert, payload

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Recorder:
    """The injected callback: records targets and when they arrived."""

    def __init__(self) -> None:
        self.targets: list[AlertTarget] = []
        self.times: list[float] = []
        self.fail = False

    async def __call__(self, target: AlertTarget) -> bool:
        self.times.append(time.perf_counter())
        if self.fail:
            raise RuntimeError("kube-apiserver unavailable")
        self.targets.append(target)
        return self.settles

    settles = True


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(token_file: Path, recorder: Recorder) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_webhook_app(WebhookConfig(token_file, max_body_bytes=64 * 1024), recorder)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def post(client: TestClient[Any, Any], body: Any, headers: dict[str, str] = AUTH) -> Any:
    response = await client.post(ALERTS_PATH, json=body, headers=headers)
    return response.status, await response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
    ],
)
async def test_a_wrong_token_is_401_and_nothing_is_called(
    client: TestClient[Any, Any], recorder: Recorder, headers: dict[str, str]
) -> None:
    status, body = await post(client, payload(alert()), headers)
    assert status == 401
    assert "token" in body["error"]
    assert recorder.targets == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({"alerts": []}, "version"),
        ({**payload(), "version": "3"}, "version"),
        ({**payload(), "alerts": "x"}, "alerts"),
        (payload({**alert(), "labels": ["x"]}), "alerts[0].labels"),
        (payload({**alert(), "status": "pending"}), "alerts[0].status"),
        (payload({**alert(), "startsAt": None}), "alerts[0].startsAt"),
    ],
)
async def test_malformed_payloads_are_400_naming_the_field(
    client: TestClient[Any, Any], recorder: Recorder, body: Any, field: str
) -> None:
    status, answer = await post(client, body)
    assert status == 400
    assert answer["error"].startswith(field)
    assert recorder.targets == []


async def test_non_json_is_400(client: TestClient[Any, Any], recorder: Recorder) -> None:
    response = await client.post(ALERTS_PATH, data=b"{nope", headers=AUTH)
    assert response.status == 400
    assert recorder.targets == []


async def test_an_oversized_body_is_refused(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    huge = payload(*(alert(fingerprint=f"{i:016x}") for i in range(400)))
    response = await client.post(ALERTS_PATH, json=huge, headers=AUTH)
    assert response.status == 413
    assert recorder.targets == []


async def test_firing_levibot_alerts_reach_the_callback(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    body = payload(
        alert(), alert("resolved", fingerprint="ffff"), alert(version="v9", namespace="")
    )
    sent = time.perf_counter()
    status, answer = await post(client, body)
    assert status == 200
    assert answer == {"accepted": 1, "duplicates": 0, "ignored": 2}
    [target] = recorder.targets
    assert (target.namespace, target.modeldeployment, target.version) == (
        "prod",
        "btc-direction",
        "v2",
    )
    assert (target.alertname, target.value) == ("LevibotFeatureDrift", "0.41")
    print(f"request sent -> callback invoked: {(recorder.times[0] - sent) * 1000:.2f} ms")


async def test_repeated_and_out_of_order_deliveries_are_harmless(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    assert (await post(client, payload(alert())))[1]["accepted"] == 1
    assert (await post(client, payload(alert())))[1] == {
        "accepted": 0,
        "duplicates": 1,
        "ignored": 0,
    }
    assert (await post(client, payload(alert("resolved"))))[1]["ignored"] == 1
    late = alert(starts_at="2026-11-21T11:00:00Z")  # an older episode, delivered late
    assert (await post(client, payload(late)))[0] == 200
    assert [t.starts_at for t in recorder.targets] == [
        "2026-11-21T12:00:00.123456789Z",
        "2026-11-21T11:00:00Z",
    ]


async def test_an_unsettled_alert_is_passed_on_again_at_each_repeat(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    recorder.settles = False  # e.g. stable-version drift while a canary still runs
    for _ in range(2):
        assert (await post(client, payload(alert())))[1]["accepted"] == 1
    recorder.settles = True
    assert (await post(client, payload(alert())))[1]["accepted"] == 1
    assert (await post(client, payload(alert())))[1]["duplicates"] == 1
    assert len(recorder.targets) == 3


async def test_a_failing_callback_is_500_and_the_alert_is_retried(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    recorder.fail = True
    response = await client.post(ALERTS_PATH, json=payload(alert()), headers=AUTH)
    assert response.status == 500
    recorder.fail = False
    assert (await post(client, payload(alert())))[1]["accepted"] == 1


def rotate(token_file: Path, text: str | None) -> None:
    """Replace (or with None, delete) the token file, moving its mtime forward."""
    if text is None:
        token_file.unlink()
        return
    mtime = token_file.stat().st_mtime
    token_file.write_text(text)
    os.utime(token_file, (mtime + 10, mtime + 10))


async def test_a_rotated_token_is_picked_up(
    client: TestClient[Any, Any], recorder: Recorder, token_file: Path
) -> None:
    rotated = {"Authorization": "Bearer rotated"}
    rotate(token_file, "rotated")
    assert (await post(client, payload(alert())))[0] == 401
    assert (await post(client, payload(alert()), rotated))[0] == 200
    rotate(token_file, None)
    assert (await post(client, payload(alert(fingerprint="1")), rotated))[0] == 401
    assert len(recorder.targets) == 1


def test_an_app_without_a_token_is_refused(tmp_path: Path, recorder: Recorder) -> None:
    (tmp_path / "empty").write_text("\n")
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(ValueError, match="token file"):
            build_webhook_app(WebhookConfig(path), recorder)


def test_fingerprint_is_derived_when_missing() -> None:
    body = payload({k: v for k, v in alert().items() if k != "fingerprint"})
    [target] = parse_alert_payload(body).firing
    assert len(target.fingerprint) == 16
    assert parse_alert_payload(body).firing[0].fingerprint == target.fingerprint


def test_payload_error_names_the_field() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_alert_payload({**payload(alert()), "alerts": [alert(), "x"]})
    assert caught.value.field == "alerts[1]"


def test_the_charts_annotations_say_what_crossed_what() -> None:
    chart_alert = alert(alertname="LevibotFeatureDriftPSICritical")
    chart_alert["annotations"] = {
        "summary": "prod/btc-direction v2 (canary): PSI drift on vol_1m above 4",
        "description": "Population stability index of vol_1m is 4.410 against the reference.",
    }
    [target] = parse_alert_payload(payload(chart_alert)).firing
    assert target.value == (
        "PSI drift on vol_1m above 4; Population stability index of vol_1m is 4.410 against"
        " the reference."
    )


async def send_raw(client: TestClient[Any, Any], head: bytes, body: bytes = b"{}") -> bytes:
    """One raw HTTP/1.1 request (header bytes no HTTP client would send); the status line."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST " + ALERTS_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    "value", [b"Bearer t\xf6ken", b"Bearer \xff\xfe", "Bearer tök".encode(), b"\xffearer x"]
)
async def test_a_non_ascii_authorization_header_is_401(
    client: TestClient[Any, Any], recorder: Recorder, value: bytes
) -> None:
    status_line = await send_raw(client, b"Authorization: " + value + b"\r\n")
    assert status_line == b"HTTP/1.1 401 Unauthorized"
    assert recorder.targets == []


async def test_deeply_nested_json_is_400_with_the_reason(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    response = await client.post(ALERTS_PATH, data=b"[" * 60_000, headers=AUTH)
    assert response.status == 400
    assert "nested" in (await response.json())["error"]
    assert recorder.targets == []


async def test_an_oversized_body_says_so_even_when_chunked(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    for data in (b" " * (65 * 1024), chunks()):
        response = await client.post(ALERTS_PATH, data=data, headers=AUTH)
        assert response.status == 413
        assert "65536 bytes" in (await response.json())["error"]
    assert recorder.targets == []


async def test_alerts_whose_labels_are_not_kubernetes_names_are_skipped_and_reported(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    body = payload(
        alert(namespace="a/b", fingerprint="1"), alert(), alert(namespace="..", fingerprint="2")
    )
    status, answer = await post(client, body)
    assert status == 200  # a retry could never succeed: Alertmanager must not repeat it
    assert (answer["accepted"], answer["ignored"]) == (1, 0)
    assert [i["field"] for i in answer["invalid"]] == [
        "alerts[0].labels.namespace",
        "alerts[2].labels.namespace",
    ]
    assert [t.namespace for t in recorder.targets] == ["prod"]


async def test_a_label_with_a_lone_surrogate_is_not_a_500(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    one = alert(instance="\ud800")
    del one["fingerprint"]
    response = await client.post(ALERTS_PATH, data=json.dumps(payload(one)), headers=AUTH)
    assert response.status == 200
    assert len(recorder.targets) == 1


async def test_many_alerts_for_one_target_make_one_callback(
    client: TestClient[Any, Any], recorder: Recorder
) -> None:
    body = payload(*(alert(fingerprint=f"{i:04x}") for i in range(100)))
    status, answer = await post(client, body)
    assert (status, answer["accepted"]) == (200, 100)
    assert len(recorder.targets) == 1  # the same action; the callback is idempotent anyway
    assert (await post(client, body))[1]["duplicates"] == 100


class SlowRecorder(Recorder):
    """Each callback takes 50 ms; records how many ran at once and the order per target."""

    def __init__(self) -> None:
        super().__init__()
        self.running = self.peak = 0

    async def __call__(self, target: AlertTarget) -> bool:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.05)
        self.running -= 1
        if target.alertname == "Boom":
            raise RuntimeError("kube-apiserver unavailable")
        self.targets.append(target)
        return True


async def test_targets_are_handled_concurrently_and_bounded(token_file: Path) -> None:
    slow = SlowRecorder()
    app = build_webhook_app(WebhookConfig(token_file, max_body_bytes=1 << 20, concurrency=4), slow)
    alerts = [alert(modeldeployment=f"md-{i}", fingerprint=f"{i}") for i in range(16)]
    alerts += [alert(alertname=f"A{i}", fingerprint=f"x{i}") for i in range(3)]  # one target
    async with TestClient(TestServer(app)) as test_client:
        sent = time.perf_counter()
        status, _ = await post(test_client, payload(*alerts))
        elapsed = time.perf_counter() - sent
    assert status == 200
    assert slow.peak == 4
    assert elapsed < 16 * 0.05  # sequential would take 0.95 s
    assert [t.alertname for t in slow.targets if t.modeldeployment == "btc-direction"] == [
        "A0",
        "A1",
        "A2",
    ]


async def test_one_failing_target_is_500_and_the_others_are_settled(token_file: Path) -> None:
    slow = SlowRecorder()
    app = build_webhook_app(WebhookConfig(token_file), slow)
    body = payload(alert(alertname="Boom", modeldeployment="md-a", fingerprint="1"), alert())
    async with TestClient(TestServer(app)) as test_client:
        assert (await test_client.post(ALERTS_PATH, json=body, headers=AUTH)).status == 500
        status, answer = await post(test_client, body)
    assert (status, answer["duplicates"]) == (500, 1)

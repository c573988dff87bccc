"""The fake API and registry the ModelDeployment shell's handler tests reconcile against."""

from __future__ import annotations

from typing import Any

import pytest

from levibot_operator.adapters import registry
from levibot_operator.core.modeldeployment.observation import REGISTRY_FOUND, RegistryObservation
from tests.operator.support.fakeapi import FakeApi
from tests.operator.support.fakes import md_body

MD_PATH = "/apis/levibot.io/v1alpha1/namespaces/prod/modeldeployments/btc-direction"


def build_md_api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """A FakeApi holding the example ModelDeployment; the registry knows v1 as a candidate."""

    async def highest(*_: Any) -> int:
        return 0

    async def registered(*_: Any) -> RegistryObservation:
        return RegistryObservation(REGISTRY_FOUND, "candidate", "2026-11-21T12:00:00Z", {})

    async def set_status(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(registry, "fetch_highest_version", highest)
    monkeypatch.setattr(registry, "fetch_registered", registered)
    monkeypatch.setattr(registry, "patch_version_status", set_status)
    fake = FakeApi()
    fake.put(MD_PATH, md_body())
    return fake

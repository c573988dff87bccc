"""The dev stack's Kubernetes client: kubernetes_asyncio, the operator's own, on raw JSON dicts.

Tooling layer. The local kubelet, the traffic generator and the demo talk to the local control
plane with the admin kubeconfig that cluster.py writes, through the same library and the same
raw-path `call_api` as the operator's adapters (levibot_operator.adapters.kube): one client for
the product and its dev stack. Plain dicts keep the code close to the API's own documents.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import new_client_from_config

Obj = dict[str, Any]
# A non-2xx answer from the API server (`.status` is the HTTP status).
ApiError = ApiException
OBJECT = {200: "object", 201: "object", 202: "object"}


class KubeApi:
    """Just enough of the API: get, create, merge-patch, delete, watch."""

    def __init__(self, kubeconfig: Path) -> None:
        cfg = json.loads(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        self.kubeconfig = kubeconfig
        self.server: str = cluster["server"]
        self.ca_file: str = cluster["certificate-authority"]
        self._client: ApiClient | None = None

    async def __aenter__(self) -> KubeApi:
        self._client = await new_client_from_config(config_file=str(self.kubeconfig))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()

    @property
    def client(self) -> ApiClient:
        assert self._client is not None, "use `async with KubeApi(...)`"
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        ctype: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> Obj:
        result = await self.client.call_api(
            path,
            method,
            query_params=list((params or {}).items()),
            header_params={"Content-Type": ctype, "Accept": "application/json"},
            body=body,
            response_types_map=OBJECT,
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
        )
        return dict(cast(Obj, result or {}))

    async def get(self, path: str, params: dict[str, str] | None = None) -> Obj:
        return await self.request("GET", path, params=params)

    async def create(self, path: str, body: Obj) -> Obj:
        return await self.request("POST", path, body)

    async def merge_patch(self, path: str, body: Obj) -> Obj:
        return await self.request("PATCH", path, body, "application/merge-patch+json")

    async def delete(self, path: str, body: Obj | None = None) -> Obj:
        return await self.request("DELETE", path, body)

    async def watch(self, path: str, params: dict[str, str]) -> AsyncIterator[Obj]:
        """Yields watch events ({"type", "object"}) until the server ends the stream."""
        query = {**params, "watch": "1", "allowWatchBookmarks": "true"}
        resp = await self.client.call_api(
            path,
            "GET",
            query_params=list(query.items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            _preload_content=False,
        )
        async with resp:
            if resp.status >= 300:
                raise ApiException(status=resp.status, reason=await resp.text())
            async for line in resp.content:
                if line.strip():
                    yield dict(json.loads(line))

"""A minimal async Kubernetes REST client for the local tooling (raw JSON dicts).

Tooling layer. The local kubelet and the demo talk to the local control plane
with the admin client certificate from the kubeconfig cluster.py
writes; plain dicts keep the code close to the API's own documents.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

Obj = dict[str, Any]


class ApiError(Exception):
    """A non-2xx answer from the API server."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status = status


class KubeApi:
    """Just enough of the API: get, list, create, patch, delete, watch."""

    def __init__(self, kubeconfig: Path) -> None:
        cfg = json.loads(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.server: str = cluster["server"]
        self.ca_file: str = cluster["certificate-authority"]
        self._ssl = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self._ssl.load_cert_chain(user["client-certificate"], user["client-key"])
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KubeApi:
        conn = aiohttp.TCPConnector(ssl=self._ssl, limit=20)
        self._session = aiohttp.ClientSession(connector=conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with KubeApi(...)`"
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        ctype: str = "application/json",
        params: dict[str, str] | None = None,
    ) -> Obj:
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": ctype, "Accept": "application/json"}
        url = self.server + path
        async with self.session.request(
            method, url, data=data, headers=headers, params=params
        ) as resp:
            text = await resp.text()
            if resp.status >= 300:
                raise ApiError(resp.status, text)
            return dict(json.loads(text)) if text else {}

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
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with self.session.get(self.server + path, params=query, timeout=timeout) as resp:
            if resp.status >= 300:
                raise ApiError(resp.status, await resp.text())
            async for line in resp.content:
                if line.strip():
                    yield dict(json.loads(line))

"""A recording fake of kubernetes_asyncio's ApiClient.call_api for handler tests: an in-memory
object store keyed by REST path that records every write (method, path). Every write bumps the
object's resourceVersion; a status patch that names a stale resourceVersion gets a 409."""

from __future__ import annotations

import copy
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException


class FakeApi:
    """Enough of the API server for the reconcile shell: GET/LIST, apply, create, delete, status."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []
        self.created = 0

    def put(self, path: str, body: dict[str, Any]) -> None:
        self.store[path] = copy.deepcopy(body)
        self._bump(self.store[path])

    async def call_api(self, path: str, method: str, **kwargs: Any) -> dict[str, Any]:
        query = dict(kwargs.get("query_params") or [])
        body: dict[str, Any] = kwargs.get("body") or {}
        if method == "GET":
            return self._get(path, query)
        self.writes.append((method, path))
        if method == "POST":
            return self._post(path, body)
        if method == "DELETE":
            return self._delete(path)
        if path.endswith("/status"):
            target = self.store[path.removesuffix("/status")]
            wanted = (body.get("metadata") or {}).get("resourceVersion")
            if wanted is not None and wanted != target["metadata"].get("resourceVersion"):
                raise ApiException(status=409, reason="Conflict")
            target["status"] = {k: v for k, v in body["status"].items() if v is not None}
            self._bump(target)
            return copy.deepcopy(target)
        self.store[path] = self._applied(self.store.get(path), copy.deepcopy(body))
        self._bump(self.store[path])
        return body

    @staticmethod
    def _applied(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        """Apply keeps the status; a changed spec bumps metadata.generation (as the server)."""
        if old is None:
            new["metadata"]["generation"] = 1
            return new
        generation = int(old["metadata"].get("generation") or 1)
        changed = old.get("spec") != new.get("spec")
        new["metadata"]["generation"] = generation + 1 if changed else generation
        if "status" in old:
            new["status"] = old["status"]
        return new

    def _bump(self, obj: dict[str, Any]) -> None:
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(int(meta.get("resourceVersion") or 0) + 1)

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        if path in self.store:
            return copy.deepcopy(self.store[path])
        wanted = dict(p.split("=") for p in query.get("labelSelector", "").split(",") if p)
        items = [
            copy.deepcopy(obj)
            for key, obj in self.store.items()
            if key.rsplit("/", 1)[0] == path
            and all(obj["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]
        if items or "labelSelector" in query:
            return {"items": items}
        raise ApiException(status=404, reason="Not Found")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.created += 1
        name = body["metadata"].get("name") or f"{body['metadata']['generateName']}{self.created}"
        key = f"{path}/{name}"
        if key in self.store:
            raise ApiException(status=409, reason="Conflict")
        self.store[key] = copy.deepcopy(body)
        return body

    def _delete(self, path: str) -> dict[str, Any]:
        if self.store.pop(path, None) is None:
            raise ApiException(status=404, reason="Not Found")
        return {}

"""Thin async wrappers over kubernetes_asyncio: server-side apply, create, get, list, delete,
status patches and Events, all on plain dict bodies.

Layer: adapters. No decisions here: 404 on read/delete and 409 on create are translated to "absent"
and "already there"; everything else propagates as ``ApiException``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from urllib.parse import quote

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from levibot_operator import constants as c

Body = dict[str, Any]
PLURALS = {
    "Job": "jobs",
    "Pod": "pods",
    "Deployment": "deployments",
    "Service": "services",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Event": "events",
    c.MODELDEPLOYMENT_KIND: c.MODELDEPLOYMENT_PLURAL,
    c.CANARY_KIND: c.CANARY_PLURAL,
    "HTTPRoute": "httproutes",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "PodDisruptionBudget": "poddisruptionbudgets",
}
OBJECT = {200: "object", 201: "object", 202: "object"}


def quote_segment(segment: str) -> str:
    """One path segment, percent-escaped (``/``, ``?``, ``#``, ``%`` included); ``.``, ``..``
    and empty are refused: HTTP clients collapse them, so they would name another path."""
    if segment in ("", ".", ".."):
        raise ValueError(f"{segment!r} is not a valid path segment for a Kubernetes name")
    return quote(segment, safe="")


def build_path(api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
    """The REST path of a namespaced collection or object; names are escaped, never trusted."""
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = f"{root}/namespaces/{quote_segment(namespace)}/{PLURALS[kind]}"
    return path if name is None else f"{path}/{quote_segment(name)}"


async def _call(
    api: ApiClient,
    method: str,
    path: str,
    body: object = None,
    *,
    query: list[tuple[str, str]] | None = None,
    content_type: str = "application/json",
) -> Body:
    result = await api.call_api(
        path,
        method,
        query_params=query or [],
        header_params={"Content-Type": content_type, "Accept": "application/json"},
        body=body,
        response_types_map=OBJECT,
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    return cast(Body, result or {})


def _where(manifest: Mapping[str, Any]) -> tuple[str, str, str, str]:
    meta = manifest["metadata"]
    return manifest["apiVersion"], manifest["kind"], meta["namespace"], meta["name"]


async def apply_object(
    api: ApiClient, manifest: Mapping[str, Any], manager: str | None = None
) -> Body:
    """Server-side apply (fieldManager levibot-operator unless ``manager``, force)."""
    api_version, kind, namespace, name = _where(manifest)
    query = [("fieldManager", manager or c.FIELD_MANAGER), ("force", "true")]
    path = build_path(api_version, kind, namespace, name)
    return await _call(
        api, "PATCH", path, dict(manifest), query=query, content_type="application/apply-patch+yaml"
    )


async def apply_created(api: ApiClient, manifest: Mapping[str, Any]) -> bool:
    """Create unless it exists (immutable objects such as Jobs); True when this call created it."""
    api_version, kind, namespace, _ = _where(manifest)
    query = [("fieldManager", c.FIELD_MANAGER)]
    try:
        await _call(
            api, "POST", build_path(api_version, kind, namespace), dict(manifest), query=query
        )
    except ApiException as exc:
        if exc.status == 409:
            return False
        raise
    return True


async def fetch_object(
    api: ApiClient, api_version: str, kind: str, namespace: str, name: str
) -> Body | None:
    """The object, or None when it does not exist."""
    try:
        return await _call(api, "GET", build_path(api_version, kind, namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


async def fetch_list(
    api: ApiClient, api_version: str, kind: str, namespace: str, selector: Mapping[str, str]
) -> list[Body]:
    """Objects of a kind in a namespace matching every label in ``selector``."""
    query = [("labelSelector", ",".join(f"{k}={v}" for k, v in selector.items()))]
    result = await _call(api, "GET", build_path(api_version, kind, namespace), query=query)
    return cast(list[Body], result.get("items") or [])


async def delete_object(
    api: ApiClient, api_version: str, kind: str, namespace: str, name: str
) -> bool:
    """Delete with background propagation; False when it was already gone."""
    body = {"propagationPolicy": "Background"}
    try:
        await _call(api, "DELETE", build_path(api_version, kind, namespace, name), body)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def patch_md_status(api: ApiClient, namespace: str, name: str, status: Body) -> Body:
    """Merge-patch the ModelDeployment's status subresource."""
    path = build_path(c.API_VERSION, c.MODELDEPLOYMENT_KIND, namespace, name) + "/status"
    body = {"status": status}
    return await _call(api, "PATCH", path, body, content_type="application/merge-patch+json")


class ConflictError(Exception):
    """The object changed since it was read (HTTP 409 on a guarded write): decide again."""


async def patch_canary_status(api: ApiClient, body: Mapping[str, Any], status: Body) -> Body:
    """Merge-patch a Canary's status, guarded by the resourceVersion it was read at.

    Two writers (the leader's reconcile and any replica's alert rollback) may race; the guard
    makes the later one fail with ``ConflictError`` instead of overwriting a newer decision.
    """
    meta = body["metadata"]
    path = build_path(c.API_VERSION, c.CANARY_KIND, meta["namespace"], meta["name"]) + "/status"
    patch = {"metadata": {"resourceVersion": meta.get("resourceVersion")}, "status": status}
    try:
        return await _call(api, "PATCH", path, patch, content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 409:
            raise ConflictError(f"canary {meta['name']} changed meanwhile") from exc
        raise


def build_event(
    involved: Mapping[str, Any], reason: str, message: str, kind: str, now: datetime
) -> Body:
    """A core/v1 Event about ``involved`` (a ModelDeployment or Canary body)."""
    meta = involved["metadata"]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", c.API_VERSION),
            "kind": involved.get("kind", c.MODELDEPLOYMENT_KIND),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid", ""),
        },
        "reason": reason,
        "message": message[:1024],
        "type": kind,
        "source": {"component": c.FIELD_MANAGER},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


async def apply_event(api: ApiClient, event: Mapping[str, Any]) -> None:
    """Post an Event (best effort is the caller's choice)."""
    namespace = event["metadata"]["namespace"]
    await _call(api, "POST", build_path("v1", "Event", namespace), dict(event))

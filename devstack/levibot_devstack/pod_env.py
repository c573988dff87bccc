"""What one pod's container sees on the local kubelet: env, volumes, ports, token.

Tooling layer. Resolves a pod's environment (values, Secret and ConfigMap references, fieldRefs)
and writes its volumes (ConfigMap, Secret, downward API, service-account token) under the pod's
work directory; container-side paths, ports and bind addresses are rewritten to local ones.
"""

from __future__ import annotations

import base64
from pathlib import Path

from levibot_devstack.kubeapi import ApiError, KubeApi, Obj
from levibot_devstack.pki import build_token_kubeconfig


def write_files(local: Path, files: dict[str, str]) -> None:
    """Writes each file atomically, and only when its content changed."""
    for rel, content in files.items():
        target = local / rel
        if target.exists() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(content)
        tmp.replace(target)


class ConfigError(Exception):
    """The pod cannot start yet (a missing Secret, an unsupported feature)."""


def rewrite(value: str, mounts: dict[str, Path], ports: dict[int, int]) -> str:
    """Maps a container-side value (path, port, bind address) to its local equivalent.

    >>> rewrite("--port=8080", {}, {8080: 41000})
    '--port=41000'
    """
    if value == "0.0.0.0":
        return "127.0.0.1"
    if value.isdigit() and int(value) in ports:
        return str(ports[int(value)])
    for mount, local in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
        root = mount.rstrip("/")
        if value == mount or value.startswith(root + "/"):
            return str(local) + value[len(root) :]
    flag, eq, rest = value.partition("=")
    if eq and flag.startswith("-"):  # --flag=/path, --port=8080
        return f"{flag}={rewrite(rest, mounts, ports)}"
    return value


class PodEnvironment:
    """The resolved inputs of a pod's first container; volumes follow their sources."""

    def __init__(self, api: KubeApi, pod: Obj, workdir: Path) -> None:
        self.api, self.pod, self.workdir = api, pod, workdir
        self.ports: dict[int, int] = {}
        self.mounts: dict[str, Path] = {}
        self.token: str | None = None
        self.kubeconfig: Path | None = None

    @property
    def container(self) -> Obj:
        return dict(self.pod["spec"]["containers"][0])

    async def _read(self, kind: str, name: str) -> dict[str, str]:
        ns = self.pod["metadata"]["namespace"]
        try:
            obj = await self.api.get(f"/api/v1/namespaces/{ns}/{kind}/{name}")
        except ApiError as err:
            raise ConfigError(f"{kind[:-1]} {name!r} not found") from err
        if kind == "secrets":
            return {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
        return dict(obj.get("data", {}))

    async def _env_value(self, item: Obj) -> str | None:
        src = item.get("valueFrom")
        if src is None:
            return str(item.get("value", ""))
        for kind, key in (("secrets", "secretKeyRef"), ("configmaps", "configMapKeyRef")):
            if key in src:
                ref = src[key]
                try:
                    data = await self._read(kind, ref["name"])
                except ConfigError:
                    if ref.get("optional"):
                        return None
                    raise
                if ref["key"] not in data and not ref.get("optional"):
                    raise ConfigError(f"key {ref['key']!r} not in {kind[:-1]} {ref['name']!r}")
                return data.get(ref["key"])
        if "fieldRef" in src:
            return self._field(src["fieldRef"]["fieldPath"])
        return None  # resourceFieldRef: not meaningful for a host process

    def _field(self, path: str) -> str:
        meta = self.pod["metadata"]
        simple = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": self.pod["spec"].get("nodeName", ""),
            "status.podIP": "127.0.0.1",
            "status.hostIP": "127.0.0.1",
            "spec.serviceAccountName": self.pod["spec"].get("serviceAccountName", ""),
        }
        if path in simple:
            return str(simple[path])
        for kind in ("labels", "annotations"):
            prefix = f"metadata.{kind}['"
            if path.startswith(prefix):
                return str(meta.get(kind, {}).get(path[len(prefix) : -2], ""))
        raise ConfigError(f"unsupported fieldRef {path!r}")

    async def resolve_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for src in self.container.get("envFrom", []):
            kind, ref = (
                ("secrets", src["secretRef"])
                if "secretRef" in src
                else ("configmaps", src["configMapRef"])
            )
            data = await self._read(kind, ref["name"])
            env.update({src.get("prefix", "") + k: v for k, v in data.items()})
        for item in self.container.get("env", []):
            value = await self._env_value(item)
            if value is not None:
                env[item["name"]] = rewrite(value, self.mounts, self.ports)
        return env

    async def refresh_volumes(self) -> None:
        """Writes ConfigMap, Secret, downward-API and token volumes; makes emptyDirs."""
        by_name = {v["name"]: v for v in self.pod["spec"].get("volumes", [])}
        for mount in self.container.get("volumeMounts", []):
            volume = by_name.get(mount["name"], {})
            local = self.workdir / "volumes" / mount["name"]
            local.mkdir(parents=True, exist_ok=True)
            self.mounts[mount["mountPath"]] = local / mount.get("subPath", "")
            sources = volume.get("projected", {}).get("sources", [volume])
            for source in sources:
                write_files(local, await self._source_files(source, local))

    async def _source_files(self, source: Obj, local: Path) -> dict[str, str]:
        if "configMap" in source:
            return await self._keyed_files("configmaps", source["configMap"], "name")
        if "secret" in source:
            ref = source["secret"]
            return await self._keyed_files(
                "secrets", ref, "secretName" if "secretName" in ref else "name"
            )
        if "downwardAPI" in source:
            items = source["downwardAPI"].get("items", [])
            return {
                i["path"]: self._field(i["fieldRef"]["fieldPath"]) for i in items if "fieldRef" in i
            }
        if "serviceAccountToken" in source:
            return await self._token_files(source["serviceAccountToken"], local)
        return {}

    async def _keyed_files(self, kind: str, source: Obj, name_key: str) -> dict[str, str]:
        try:
            data = await self._read(kind, source[name_key])
        except ConfigError:
            if source.get("optional"):
                return {}
            raise
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        return {i["path"]: data[i["key"]] for i in items if i["key"] in data}

    async def _token_files(self, source: Obj, local: Path) -> dict[str, str]:
        """A service-account token (TokenRequest, like a kubelet) and a kubeconfig using it.

        A host process cannot read /var/run/secrets/..., so the pod gets KUBECONFIG pointing
        at a kubeconfig built from the same token: it authenticates as its ServiceAccount."""
        if self.token is None:
            meta = self.pod["metadata"]
            sa = self.pod["spec"].get("serviceAccountName", "default")
            body = {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {
                    "expirationSeconds": 86400,
                    "boundObjectRef": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "name": meta["name"],
                        "uid": meta["uid"],
                    },
                },
            }
            path = f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{sa}/token"
            self.token = str((await self.api.create(path, body))["status"]["token"])
        self.kubeconfig = local / "kubeconfig"
        config = build_token_kubeconfig(self.api.server, self.api.ca_file, self.token)
        return {source.get("path", "token"): self.token, "kubeconfig": config}

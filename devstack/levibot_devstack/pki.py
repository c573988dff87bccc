"""Certificates and kubeconfigs of the local control plane.

Tooling layer. One CA signs the API server's serving certificate and the admin client
certificate (system:masters); a key pair signs service-account tokens. The admin kubeconfig
authenticates with the client certificate, a pod's kubeconfig with its service-account token.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(pki: Path) -> None:
    """CA, apiserver serving cert, admin client cert, service-account key."""
    pki.mkdir(parents=True, exist_ok=True)
    if (pki / "admin.crt").exists():
        return
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-keyout",
        str(pki / "ca.key"),
        "-out",
        str(pki / "ca.crt"),
        "-subj",
        "/CN=levibot-local-ca",
    )
    ext = pki / "server.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.96.0.1\n"
    )
    for name, subj, extfile in (
        ("apiserver", "/CN=kube-apiserver", ext),
        ("admin", "/O=system:masters/CN=levibot-admin", None),
    ):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(pki / f"{name}.key"),
            "-out",
            str(pki / f"{name}.csr"),
            "-subj",
            subj,
        )
        extra = ["-extfile", str(extfile)] if extfile else []
        _openssl(
            "x509",
            "-req",
            "-in",
            str(pki / f"{name}.csr"),
            "-CA",
            str(pki / "ca.crt"),
            "-CAkey",
            str(pki / "ca.key"),
            "-CAcreateserial",
            "-days",
            "3650",
            "-out",
            str(pki / f"{name}.crt"),
            *extra,
        )
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def build_admin_kubeconfig(server: str, pki: Path) -> str:
    """An admin kubeconfig (client certificate in system:masters)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "levibot-local",
            "clusters": [
                {
                    "name": "levibot-local",
                    "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {
                        "client-certificate": str(pki / "admin.crt"),
                        "client-key": str(pki / "admin.key"),
                    },
                }
            ],
            "contexts": [
                {"name": "levibot-local", "context": {"cluster": "levibot-local", "user": "admin"}}
            ],
        },
        indent=2,
    )


def build_token_kubeconfig(server: str, ca_file: str, token: str) -> str:
    """A kubeconfig that authenticates with a service-account token."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "pod",
            "clusters": [
                {"name": "local", "cluster": {"server": server, "certificate-authority": ca_file}}
            ],
            "users": [{"name": "pod", "user": {"token": token}}],
            "contexts": [{"name": "pod", "context": {"cluster": "local", "user": "pod"}}],
        }
    )

#!/usr/bin/env bash
# Installs everything levibot's demo and tests need on a fresh Debian machine,
# idempotently: Debian packages, the Python virtualenv (.venv) and the cached
# Go-built Kubernetes binaries. A warm run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# 1. Debian packages: etcd, PostgreSQL 15, Prometheus, Alertmanager (+ tools used by the scripts).
pkgs=(etcd-server postgresql-15 prometheus prometheus-alertmanager openssl curl git wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Python: one virtualenv at the repository root, installed from the lock (constraints.txt, the
#    versions the images pin) and reinstalled when pyproject.toml or the lock changes.
PY=${PYTHON:-python3}
stamp=".venv/.levibot-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "creating .venv and installing levibot[dev]"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
  rm -f .venv/.levibot-*; touch "$stamp"
fi

# 3. Go-built binaries (kube-apiserver & co, kwok, helm), cached under ~/.cache/levibot.
command -v go >/dev/null || { log "Go is required to build the local control plane"; exit 1; }
hack/tools.sh >/dev/null
log "ready"

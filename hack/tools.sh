#!/usr/bin/env bash
# Builds (once) and caches the binaries the local control plane and the chart
# tests use: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
# (k8s.io/kubernetes through hack/k8s, a wrapper module), kwok and helm.
# Prints the cache's bin directory. Idempotent: a warm run returns at once.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.32.5}
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}
HELM_VERSION=${HELM_VERSION:-v3.17.4}
CACHE=${LEVIBOT_CACHE:-$HOME/.cache/levibot}
here=$(cd "$(dirname "$0")" && pwd)

bin="$CACHE/bin/k8s-$K8S_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION"
mkdir -p "$bin"
log() { printf '[tools] %s\n' "$*" >&2; }

# One build at a time: parallel test workers (and a test that runs while `make deps` builds) wait
# here for the first caller instead of starting a second, competing Go build into the same place.
exec 9>"$bin/.lock"
flock 9

k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=0
for b in "${k8s_bins[@]}"; do [ -x "$bin/$b" ] || missing=1; done
if [ "$missing" = 1 ]; then
  log "building Kubernetes $K8S_VERSION control plane (cold: 15-30 min on 2 cores)"
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  tmp="$bin/.build"; mkdir -p "$tmp"
  (cd "$here/k8s" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  for b in "${k8s_bins[@]}"; do mv "$tmp/$b" "$bin/$b"; done
  rmdir "$tmp"
fi

if [ ! -x "$bin/kwok" ]; then
  log "installing kwok $KWOK_VERSION"
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi
# helm's default capabilities (helm template without a cluster) follow our Kubernetes minor.
k8s_minor=${K8S_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
helm_flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
helm_flags="$helm_flags -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
helm_flags="$helm_flags -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor"
if [ ! -x "$bin/helm" ] || [ "$(cat "$bin/helm.flags" 2>/dev/null)" != "$helm_flags" ]; then
  log "installing helm $HELM_VERSION"
  GOBIN="$bin" go install -trimpath -ldflags "$helm_flags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$helm_flags" > "$bin/helm.flags"
fi
echo "$bin"

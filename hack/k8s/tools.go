//go:build tools

// Package k8sbins pins the Kubernetes control-plane commands that the local
// test cluster runs. It is never imported; `go build` builds the listed mains.
package k8sbins

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

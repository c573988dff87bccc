"""levibot's dev stack: the whole of levibot on one machine, for developers and tests.

Tooling layer, never imported by the product packages and never shipped in the wheel. It runs a
real Kubernetes control plane (etcd, kube-apiserver, controller manager, scheduler, kwok), a local
kubelet whose pods are host processes, throwaway PostgreSQL, Prometheus and Alertmanager servers,
and the demo that drives levibot end to end on them (`python -m levibot_devstack.demo`).
"""

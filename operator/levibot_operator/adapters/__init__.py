"""Adapters to the outside systems: the Kubernetes API, the model registry, Prometheus.

Layer: adapters. Functions are named fetch_, apply_, patch_, delete_; they hold no decisions.
"""

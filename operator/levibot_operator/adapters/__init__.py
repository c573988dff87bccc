"""Adapters to the outside systems: the Kubernetes API, the model registry and its prediction
log (``predictionlog``: paired shadow rows, shadow pairs), Prometheus.

Layer: adapters. Functions are named fetch_, apply_, patch_, delete_; they hold no decisions.
"""

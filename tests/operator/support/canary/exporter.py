"""A small predictor-like exporter (prometheus_client, own registry) for canary analysis tests."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from levibot_devstack.net import free_port

LABELS = ("model", "version", "track")


@dataclass
class PredictorMetrics:
    """The contract's metric families that the analysis reads, in one registry."""

    registry: CollectorRegistry
    port: int
    resolved: Gauge
    ece: Gauge
    psi: Gauge
    ks: Gauge
    requests: Counter
    errors: Counter
    latency: Histogram
    prometheus_url: str = ""  # set by a test that needs its values scraped before it goes on


def build_metrics(registry: CollectorRegistry, port: int) -> PredictorMetrics:
    feature = (*LABELS, "feature")
    return PredictorMetrics(
        registry=registry,
        port=port,
        resolved=Gauge("levibot_resolved_predictions", "resolved", LABELS, registry=registry),
        ece=Gauge("levibot_model_ece", "ece", LABELS, registry=registry),
        psi=Gauge("levibot_feature_psi", "psi", feature, registry=registry),
        ks=Gauge("levibot_feature_ks_pvalue", "ks", feature, registry=registry),
        requests=Counter(
            "levibot_predict_requests_total",
            "requests",
            (*LABELS, "endpoint", "status"),
            registry=registry,
        ),
        errors=Counter(
            "levibot_model_errors_total", "errors", (*LABELS, "error_type"), registry=registry
        ),
        latency=Histogram(
            "levibot_model_latency_seconds",
            "latency",
            (*LABELS, "endpoint"),
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        ),
    )


@contextmanager
def serve_metrics() -> Iterator[PredictorMetrics]:
    """Serve a fresh registry on a free loopback port until the block ends."""
    registry, port = CollectorRegistry(), free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield build_metrics(registry, port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def scrape_config(port: int, namespace: str) -> str:
    """Prometheus config scraping the exporter every second, adding ``namespace``."""
    return f"""\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: canary-exporter
    static_configs:
      - targets: ["127.0.0.1:{port}"]
        labels:
          namespace: {namespace}
"""

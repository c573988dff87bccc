"""Predictor I/O: PostgreSQL, the prediction log, the market cache, the kill-switch file,
model loading, Prometheus metrics and the background loops that drive them."""

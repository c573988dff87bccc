"""levibot_trainer: the batch job that turns market data in PostgreSQL into a calibrated,
parity-checked ONNX model version in the registry (``python -m levibot_trainer train``)."""

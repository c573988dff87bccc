"""levibot_trainer: the batch job that turns market data in PostgreSQL into a calibrated,
parity-checked ONNX model version in the registry (``python -m levibot_trainer train``).

Layers, outer to inner (import-linter checks them): ``__main__`` → ``cli`` (flags, exit codes)
→ ``pipeline`` (one run: I/O and stages) → ``report`` (result documents) and ``io`` (market
data from PostgreSQL) → ``core`` (rows, estimators, metrics, ONNX export; pure computation).
``settings`` and ``errors`` are shared.
"""

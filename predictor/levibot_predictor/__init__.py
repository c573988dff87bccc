"""levibot_predictor: the ONNX prediction service of one model version.

Layers, outer to inner (import-linter checks them): ``__main__`` → ``http`` (the ASGI app, one
door per request) → ``service`` (transport-agnostic prediction) → ``io`` (PostgreSQL, the
prediction log, caches, Prometheus, background loops) → ``core`` (pure decisions, maths and the
model runtime). ``settings`` and ``errors`` are shared by all.
"""

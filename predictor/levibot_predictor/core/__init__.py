"""Predictor core: signal policy, calibration and drift maths, the drift window, the ONNX runtime.

Pure functions and in-memory values, plus the model runtime; no HTTP, no database, no metrics.
"""

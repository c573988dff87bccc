"""Trainer core: training rows and the time split, the estimators, held-out metrics, ONNX export
and parity. Pure computation over arrays (scikit-learn, skl2onnx, onnxruntime); no database, no
settings class, no command line."""

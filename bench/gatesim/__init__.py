"""gatesim: simulated canaries for ``bench/gate_error_rates.py`` (benchmark helper, not product).

Modules, bottom up: ``markets`` (1-second closes and feature rows: the seed generator's market
and EURUSD replayed from the ``backtesting`` package), ``models`` (the trainer's recipe, ONNX
export and onnxruntime scoring; the candidate kinds), ``traffic`` (Poisson requests and the
``PairedLog`` a shadow-scored prediction log holds), ``today`` (today's gates, driven through
the predictor's monitor code and the operator's analysis code), ``canary`` (one canary stepped
through the operator's state machine with a simulated clock; the ``Gate`` seam), ``judged`` (the
operator's judgement), ``trading`` (its trading checks alone, ``--checks trading``), ``report``
(shares, medians, the table and the JSON of issue 13).
"""

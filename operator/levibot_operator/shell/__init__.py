"""The reconcile shells, one module per resource: parse -> observe -> decide -> apply -> status.

Layer: shell. Decisions come from ``core``; I/O goes through ``adapters``. No kopf here: the
registration lives in ``kopf_handlers``.
"""

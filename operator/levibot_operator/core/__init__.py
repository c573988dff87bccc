"""The operator's pure core: parse, plan, decide and build functions over frozen values.

Layer: core. No I/O imports (kopf, Kubernetes clients, HTTP, Prometheus, asyncpg), checked by
import-linter.
"""

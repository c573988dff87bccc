"""Alerts: the Alertmanager payload and which canary or ModelDeployment an alert concerns.

Layer: core (pure), the top of the core: it reads canary and ModelDeployment values.
"""

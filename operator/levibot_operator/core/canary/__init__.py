"""The Canary core: spec, status, the state machine and its transitions, analysis, the writes.

Layer: core (pure), above ``modeldeployment``.
"""

"""The Canary core: spec, status, the state machine and its transitions, analysis, the writes,
and the statistical judgement of a candidate (``judgement_spec``, ``judgement``,
``judgement_checks``; statistics from ``levibot_common.stats``).

Layer: core (pure), above ``modeldeployment``.
"""

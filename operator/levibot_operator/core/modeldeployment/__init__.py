"""The ModelDeployment core: spec, status, observation, training, schedule, manifests, planning.

Layer: core (pure), above ``traffic``, below ``canary``.
"""

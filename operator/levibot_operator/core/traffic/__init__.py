"""Traffic: weight and replica arithmetic, and the Gateway API HTTPRoute.

Layer: core (pure), below ``modeldeployment`` and ``canary``; knows no ModelDeployment.
"""

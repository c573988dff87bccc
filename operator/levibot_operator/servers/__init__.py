"""The operator's HTTP servers: the Alertmanager webhook and the /metrics endpoint.

Layer: servers. aiohttp apps built by factories from explicit configuration.
"""

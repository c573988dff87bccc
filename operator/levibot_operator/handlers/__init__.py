"""kopf handlers: parse -> observe -> decide -> apply -> write status.

Layer: handlers (shell). Registered on an explicit kopf registry by ``register_*`` functions.
"""

"""kopf registration: the handlers of each resource, on an explicit kopf registry.

Layer: entry (registration only). Each handler calls one shell and translates its errors into
kopf's temporary or permanent errors.
"""

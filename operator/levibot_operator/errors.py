"""The errors the shells raise and the kopf handlers translate, defined once.

Layer: shared (below the shell; no imports). ``InvalidSpecError`` is permanent: the status already
names the invalid field, so kopf must not retry it. Transient I/O errors live with their adapter
(``adapters.kube.ConflictError``, ``adapters.registry.RegistryUnavailableError``).
"""


class InvalidSpecError(Exception):
    """The spec is invalid; the status names the field. Not retried."""

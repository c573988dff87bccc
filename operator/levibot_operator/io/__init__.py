"""The operator's thin I/O shell: Kubernetes API, model registry, leader election.

Layer: I/O. Functions are named fetch_, apply_, patch_, delete_; they hold no decisions.
"""

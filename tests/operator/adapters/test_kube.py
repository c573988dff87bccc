"""The Kubernetes adapter's REST paths: every segment is escaped, and a segment that would
move the path (``.``, ``..``, empty) is refused before any request (adapters, no I/O)."""

import pytest

from levibot_operator.adapters.kube import build_path


def test_a_path_names_the_collection_and_the_object() -> None:
    assert build_path("v1", "Service", "prod") == "/api/v1/namespaces/prod/services"
    assert build_path("levibot.io/v1alpha1", "Canary", "prod", "btc") == (
        "/apis/levibot.io/v1alpha1/namespaces/prod/canaries/btc"
    )


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        ("a/b", None, "/api/v1/namespaces/a%2Fb/services"),
        ("prod", "x?watch=1", "/api/v1/namespaces/prod/services/x%3Fwatch%3D1"),
        ("prod", "x#y z", "/api/v1/namespaces/prod/services/x%23y%20z"),
        ("prod", "%2e%2e", "/api/v1/namespaces/prod/services/%252e%252e"),
    ],
)
def test_every_segment_is_escaped(namespace: str, name: str | None, expected: str) -> None:
    assert build_path("v1", "Service", namespace, name) == expected


@pytest.mark.parametrize(
    ("namespace", "name"), [("..", None), (".", None), ("", None), ("prod", ".."), ("prod", ".")]
)
def test_a_segment_that_moves_the_path_is_refused(namespace: str, name: str | None) -> None:
    with pytest.raises(ValueError, match="path segment"):
        build_path("v1", "Service", namespace, name)

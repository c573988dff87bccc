"""Spec field readers: a wrong type or a number with no float value names the field."""

from __future__ import annotations

import pytest

from levibot_operator.core.fields import SpecError, read_field


def test_an_integer_reads_as_a_float() -> None:
    assert read_field({"alpha": 1}, "alpha", "spec.analysis", float) == 1.0


def test_an_integer_too_large_for_a_float_names_the_field() -> None:
    # Found by the spec fuzz layer: float(10**400) raised OverflowError, not a SpecError.
    with pytest.raises(SpecError) as caught:
        read_field({"tolerance": 10**400}, "tolerance", "spec.analysis", float)
    assert caught.value.field == "spec.analysis.tolerance"

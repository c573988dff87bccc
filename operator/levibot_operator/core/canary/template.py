"""A ModelDeployment's canary template, checked by the Canary's own parser.

Layer: core (pure), in ``canary`` (above ``modeldeployment``, whose spec parser cannot call the
Canary's). ``parse_checked_modeldeployment`` is the ModelDeployment parser every shell uses: the
spec, then ``spec.canaryTemplate`` parsed as the Canary spec it becomes (with a placeholder
target and candidate), so a bad template is an invalid ModelDeployment whose condition names
``spec.canaryTemplate.<field>``, before any Canary is built from it.
"""

from collections.abc import Mapping
from typing import Any

from levibot_operator.core.canary.durations import parse_duration
from levibot_operator.core.canary.spec import CanarySpec, parse_canary_spec
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.canary_template import PATH
from levibot_operator.core.modeldeployment.spec import ModelDeployment, parse_modeldeployment


def rename_error(error: SpecError, path: str = PATH) -> SpecError:
    """The Canary parser's ``spec.<field>`` error as ``<path>.<field>``."""
    field = error.field
    inner = field.removeprefix("spec.") if field.startswith("spec.") else ""
    return SpecError(f"{path}.{inner}" if inner else path, error.problem)


def check_canary_template(template: Mapping[str, Any], path: str = PATH) -> CanarySpec:
    """The template parsed as a Canary spec; SpecError names ``<path>.<field>``."""
    body = {**template, "target": "template", "candidate": {"version": "v0"}}
    try:
        return parse_canary_spec(body)
    except SpecError as error:
        raise rename_error(error, path) from error


def parse_checked_modeldeployment(body: Mapping[str, Any]) -> ModelDeployment:
    """``parse_modeldeployment``, then its canary template checked as a Canary spec."""
    md = parse_modeldeployment(body)
    check_canary_template(md.spec.canary_template)
    parse_duration(md.spec.drift_retrain.budget, "spec.driftRetrain.budget")  # its drift canary's
    return md

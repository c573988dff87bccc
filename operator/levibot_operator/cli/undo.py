"""``kubectl levibot undo``: what an undo of a ModelDeployment asks for, as plain data.

Layer: CLI, pure part. ``plan_undo_version`` picks the version (``--to``, else the previous
stable: ``core.modeldeployment.undo``); ``build_undo_canary`` is the Canary that rolls it out
again from the ModelDeployment's ``spec.canaryTemplate`` (or the built-in default), with stage
1's ``onDifferent: evaluate`` since the older model is expected to differ; ``build_undo_now``
is the annotation pair the operator honours at once. ``levibot_operator.cli.plugin`` does the
kubectl calls.
"""

from collections.abc import Mapping
from typing import Any, Final

from levibot_operator import constants as c
from levibot_operator.cli.view import EXIT_REFUSED, PluginError
from levibot_operator.core.canary.template import parse_checked_modeldeployment
from levibot_operator.core.fields import SpecError
from levibot_operator.core.modeldeployment.canary_template import build_template_spec
from levibot_operator.core.modeldeployment.manifests import build_labels, build_metadata, build_name
from levibot_operator.core.modeldeployment.status import parse_md_status
from levibot_operator.core.modeldeployment.undo import (
    ANNOTATION_UNDO,
    ANNOTATION_UNDO_NOW,
    UndoError,
    plan_undo_target,
)

Json = Mapping[str, Any]
TRIGGER_UNDO: Final = "undo"
EVALUATED_AS: Final = "specChange"  # the template's trigger whose differences are evaluated


def plan_undo_version(md_body: Json, requested: str | None) -> str:
    """The version to go back to; PluginError (refused) naming why there is none."""
    try:
        return plan_undo_target(parse_md_status(md_body.get("status")), requested)
    except UndoError as error:
        raise PluginError(f"cannot undo: {error}", EXIT_REFUSED) from error


def build_undo_canary(md_body: Json, version: str, nonce: str) -> dict[str, Any]:
    """The Canary ``<md>-undo-<version>-<nonce>`` rolling ``version`` out again."""
    try:
        md = parse_checked_modeldeployment(md_body)
    except SpecError as error:
        raise PluginError(f"cannot undo: invalid ModelDeployment: {error}", EXIT_REFUSED) from error
    name = build_name(md.name, "undo", version, nonce[:5])
    labels = build_labels(md, "canary", **{c.LABEL_TRIGGER: TRIGGER_UNDO, c.LABEL_VERSION: version})
    spec = build_template_spec(md.spec.canary_template, EVALUATED_AS)
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.CANARY_KIND,
        "metadata": build_metadata(md, name, labels),
        "spec": {"target": md.name, "candidate": {"version": version}, **spec},
    }


def build_undo_now(version: str) -> tuple[str, ...]:
    """The ``kubectl annotate`` arguments of an undo at once."""
    return (f"{ANNOTATION_UNDO}={version}", f"{ANNOTATION_UNDO_NOW}=true")

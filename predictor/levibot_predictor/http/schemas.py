"""HTTP request and response shapes (predictor HTTP layer): strict pydantic types, documented.

The feature-row schema is built from the loaded model's feature names, so the OpenAPI document
names exactly the fields a request must carry. Floats must be finite (JSON NaN/Infinity literals
are rejected too); strings and booleans are not numbers; unknown or missing fields are errors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def build_rows_adapter(features: tuple[str, ...], max_rows: int) -> TypeAdapter[Any]:
    """Validator of ``{"rows": [{feature: number, ...}, ...]}`` for these features; TypedDicts
    (plain dicts out, no model instances) keep a 100-row batch cheap."""
    make_typed_dict = cast(Any, TypedDict)  # a TypedDict built at run time, from the model
    row = make_typed_dict("FeatureRow", dict.fromkeys(features, float))
    row.__pydantic_config__ = STRICT
    rows = Annotated[list[row], Field(min_length=1, max_length=max_rows)]  # type: ignore[valid-type]
    request = make_typed_dict("PredictRequest", {"rows": rows})
    request.__pydantic_config__ = STRICT
    return TypeAdapter(request)


def build_rows_schema(features: tuple[str, ...], max_rows: int) -> dict[str, Any]:
    """The OpenAPI (JSON Schema) form of the same request, inlined for the request body."""
    row = {
        "type": "object",
        "additionalProperties": False,
        "required": list(features),
        "properties": {
            name: {"type": "number", "description": f"Feature {name}."} for name in features
        },
    }
    rows = {"type": "array", "minItems": 1, "maxItems": max_rows, "items": row}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["rows"],
        "properties": {"rows": rows},
    }


class RowPrediction(BaseModel):
    """One row's answer."""

    prediction_id: int = Field(description="Id for /v1/feedback.")
    p_up: float | None = Field(description="P(price up at the horizon); null for fallbacks.")
    signal: Literal["BUY", "SELL", "HOLD"]


class Identity(BaseModel):
    """Which model answered."""

    model: str = Field(description="ModelDeployment name.")
    version: str
    track: Literal["stable", "canary"]


class PredictResponse(Identity):
    """Answer to POST /v1/predict."""

    predictions: list[RowPrediction]
    fallback: bool
    reason: str | None = Field(description="Fallback reason: kill_switch or model_error.")


class SymbolResponse(Identity):
    """Answer to POST /v1/predict/{symbol}."""

    prediction_id: int
    symbol: str
    p_up: float | None
    signal: Literal["BUY", "SELL", "HOLD"]
    fallback: bool
    reason: str | None = Field(
        description="Fallback reason: stale_data, db_unavailable, model_error or kill_switch."
    )
    staleness_seconds: float | None = Field(description="Seconds since the symbol's last tick.")


class Outcome(BaseModel):
    """An explicit outcome for one logged prediction."""

    model_config = STRICT

    prediction_id: int = Field(gt=0, description="Id returned by a prediction.")
    outcome: int = Field(ge=0, le=1, description="1 if the price went up at the horizon, else 0.")


class FeedbackRequest(BaseModel):
    """Explicit outcomes (at most 1,000)."""

    model_config = STRICT

    outcomes: list[Outcome] = Field(min_length=1, max_length=1000)


class FeedbackResponse(BaseModel):
    """How many outcomes were recorded, and the ids that were not: not a client feature row of
    this model in the log, or already resolved (a symbol's prediction resolves from the market)."""

    updated: int
    unknown: list[int]


class ErrorResponse(BaseModel):
    """Every error: a code and a reason a client can act on."""

    error: str
    reason: str


class VersionResponse(Identity):
    """The loaded model."""

    model_name: str
    sha256: str
    features: list[str]
    horizon_seconds: int

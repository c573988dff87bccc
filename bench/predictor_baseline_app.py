"""Seed-style baseline predictor for the benchmark (not product code): a pickled scikit-learn
model, a pandas DataFrame per request, features queried from PostgreSQL per request, FastAPI.

Run: ``python bench/predictor_baseline_app.py PORT MODEL_PICKLE DSN`` (uvicorn, one worker).
"""

from __future__ import annotations

import pickle
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request

from levibot_common.candles import fetch_closes
from levibot_common.features import FEATURES, latest_features

PORT, MODEL_PATH, DSN = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(MODEL_PATH, "rb") as handle:
    MODEL = pickle.load(handle)  # noqa: S301 - the seed's way, benchmark only
STATE: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI) -> Any:
    STATE["pool"] = await asyncpg.create_pool(DSN, min_size=1, max_size=4)
    yield
    await STATE["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/predict")
async def predict(request: Request) -> dict[str, Any]:
    body = await request.json()
    frame = pd.DataFrame(body["rows"], columns=list(FEATURES))
    p_up = MODEL.predict_proba(frame)[:, 1]
    return {"predictions": [{"p_up": float(p)} for p in p_up]}


@app.post("/v1/predict/{symbol}")
async def predict_symbol(symbol: str) -> dict[str, Any]:
    async with STATE["pool"].acquire() as conn:
        last = await conn.fetchval("SELECT max(ts) FROM market_ticks WHERE symbol = $1", symbol)
        _, closes = await fetch_closes(conn, symbol, last - timedelta(seconds=400), last)
    row = latest_features(closes, FEATURES)
    frame = pd.DataFrame([row], columns=list(FEATURES))
    staleness = (datetime.now(UTC) - last).total_seconds()
    return {"p_up": float(MODEL.predict_proba(frame)[0, 1]), "staleness_s": staleness}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")  # fmt: skip

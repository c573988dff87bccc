"""levibot_common: the code trainer and predictor share (features, candles, schema, registry,
synthetic seed data). numpy + asyncpg only: no ML, web or Kubernetes dependencies."""

"""Trainer I/O: the market data a run reads from PostgreSQL (asyncpg)."""

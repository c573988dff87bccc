"""Time-block means (shared core, pure): the unit every levibot test counts as one observation.

Why blocks. A row at time ``t`` is a function of the market on ``[t - w, t + h]``: the features
look back ``w`` seconds, the outcome looks ahead ``h`` (the horizon). Rows closer than ``h + w``
share market data, so at 10 req/s with a 60-s horizon a thousand rows hold about ten independent
outcomes. Cut time into blocks of ``L >= h + w`` seconds, anchored at ``origin_s``, and average
the rows in each block. Block ``k`` then depends on ``[kL - w, (k+1)L + h)`` only, which does not
meet block ``k + 2``'s window: for a market with independent increments and a fixed model the
block means are *1-dependent* (only neighbours are correlated; for the mean of overlapping
``h``-returns the lag-1 correlation is ``h / (6L - 2h)``, i.e. 1/4 at ``L = h``). The variance
estimators in ``sequential`` account for that neighbour term (Carlstein 1986, "The use of
subseries values for estimating the variance of a general statistic from a stationary sequence",
Ann. Statist. 14(3); Kuensch 1989 for the block idea in general).

Blocks are anchored at a fixed origin (epoch 0 by default), so the same row lands in the same
block at every look and on both sides of a paired comparison; ``until_s`` drops blocks that are
not finished yet, so a block mean never changes once it has been counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from levibot_common.stats.results import FloatArray, IntArray


@dataclass(frozen=True)
class BlockMeans:
    """Per-block means of a per-row value, oldest block first.

    ``starts`` are the blocks' start times (s), ``counts`` the rows in each; empty blocks are
    absent. ``n_eff`` is the number of non-empty blocks, ``n`` the number of rows.
    """

    starts: FloatArray
    means: FloatArray
    counts: IntArray
    block_seconds: float

    @property
    def n(self) -> int:
        """Rows in all blocks."""
        return int(self.counts.sum())

    @property
    def n_eff(self) -> int:
        """Non-empty blocks: the effective number of observations."""
        return len(self.means)


def plan_block_seconds(horizon_s: float, feature_window_s: float) -> float:
    """The shortest block (s) that makes block means 1-dependent: ``ceil(h + w)``.

    ``horizon_s`` is how far the label looks ahead, ``feature_window_s`` the longest feature
    look-back (``features.LOOKBACK_SECONDS``). Rounded up to a whole second.
    """
    if not (math.isfinite(horizon_s) and math.isfinite(feature_window_s)):
        raise ValueError("blocks: horizon and feature window must be finite")
    if horizon_s < 0 or feature_window_s < 0 or horizon_s + feature_window_s <= 0:
        raise ValueError("blocks: horizon and feature window must be >= 0, and not both 0")
    return float(math.ceil(horizon_s + feature_window_s))


def compute_block_index(
    timestamps: FloatArray, block_seconds: float, *, origin_s: float = 0.0
) -> IntArray:
    """The block of each row: ``floor((t - origin) / L)``."""
    if not (math.isfinite(block_seconds) and block_seconds > 0):
        raise ValueError(f"blocks: block_seconds must be > 0, got {block_seconds}")
    t = np.asarray(timestamps, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("blocks: timestamps must be finite")
    return np.floor((t - origin_s) / block_seconds).astype(np.int64)


def compute_block_means(
    timestamps: FloatArray,
    values: FloatArray,
    block_seconds: float,
    *,
    origin_s: float = 0.0,
    until_s: float | None = None,
) -> BlockMeans:
    """Mean and count of ``values`` per time block of ``block_seconds``.

    ``B_k = (1 / n_k) * sum_{i in block k} v_i``; blocks ending after ``until_s`` (not finished
    yet) are left out. Rows may come in any order; the result does not depend on it.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape != np.shape(timestamps) or v.ndim != 1:
        raise ValueError("blocks: timestamps and values must be 1-d arrays of the same length")
    if not np.all(np.isfinite(v)):
        raise ValueError("blocks: values must be finite")
    index = compute_block_index(timestamps, block_seconds, origin_s=origin_s)
    if until_s is not None:
        keep = origin_s + (index + 1) * block_seconds <= until_s
        index, v = index[keep], v[keep]
    blocks, inverse, counts = np.unique(index, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=v, minlength=len(blocks))
    return BlockMeans(
        starts=origin_s + blocks.astype(np.float64) * block_seconds,
        means=sums / np.maximum(counts, 1),
        counts=counts.astype(np.int64),
        block_seconds=float(block_seconds),
    )

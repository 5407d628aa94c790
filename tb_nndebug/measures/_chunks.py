"""Row-chunked passes over a feature matrix without a whole float64 copy of it."""
from __future__ import annotations

import numpy as np

#: Size of one float32 working chunk (bytes).
CHUNK_BYTES = 16 * 2**20
#: Working budget of the measures for rows held as float32 at once (bytes): the
#: rows a PCA is fitted on, a projection's sample. Stated in ``dataset_document``.
SAMPLE_BYTES = 256 * 2**20


def row_chunks(n: int, d: int, *, itemsize: int = 4, budget: int = CHUNK_BYTES):
    """Slices of at most ``budget`` bytes of ``(rows, d)`` at ``itemsize`` bytes a value."""
    step = max(1, int(budget // max(1, d * itemsize)))
    for s in range(0, n, step):
        yield slice(s, min(n, s + step))


def all_finite(X) -> bool:
    """Every value of ``X`` is finite (integers and bools always are)."""
    if X.dtype.kind not in "fc":
        return True
    return all(np.isfinite(X[sl]).all() for sl in row_chunks(X.shape[0], X.shape[1],
                                                              itemsize=X.dtype.itemsize))


def summary_stats(X) -> dict:
    """``min``, ``max``, ``mean`` and ``std`` of every value of ``X`` (float64 accumulators,
    two passes over row chunks: the same values as ``X.mean()``/``X.std()`` to rounding)."""
    n, d = X.shape
    total = n * d
    lo, hi, acc = np.inf, -np.inf, 0.0
    for sl in row_chunks(n, d, itemsize=8, budget=CHUNK_BYTES // 2):
        c = X[sl]
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
        acc += float(c.sum(dtype=np.float64))
    mean = acc / total
    sq = 0.0
    for sl in row_chunks(n, d, itemsize=8, budget=CHUNK_BYTES // 2):
        c = X[sl].astype(np.float64) - mean
        sq += float(np.einsum("ij,ij->", c, c))
    return {"min": lo, "max": hi, "mean": mean, "std": float(np.sqrt(sq / total))}


def fit_rows(rows, d: int, *, budget: int = SAMPLE_BYTES, copies: int = 2, rng=None):
    """At most as many of ``rows`` as fit ``copies`` float32 copies in ``budget`` (a seeded
    subset, in order), so that a fit on them stays within the budget."""
    cap = max(2, int(budget // max(1, d * 4 * copies)))
    rows = np.asarray(rows)
    if len(rows) <= cap:
        return rows
    rng = np.random.RandomState(0) if rng is None else rng
    return np.sort(rng.choice(rows, size=cap, replace=False))


def project_rows(X, mean, components, rows=None) -> np.ndarray:
    """``(X[rows] - mean) @ components.T`` chunk by chunk (every row when ``rows`` is None),
    in float64 (small: n x n_components)."""
    d = X.shape[1]
    n = X.shape[0] if rows is None else len(rows)
    out = np.empty((n, components.shape[0]))
    comp = np.asarray(components, dtype=np.float32)
    mean32 = np.asarray(mean, dtype=np.float32)
    for sl in row_chunks(n, d):
        c = (X[sl] if rows is None else X[rows[sl]]).astype(np.float32)
        c -= mean32
        out[sl] = c @ comp.T
    return out

"""Row-chunked passes over a feature matrix without a whole float64 copy of it."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

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


#: Size of one read of a memory-mapped file (bytes): two such buffers stay in cache.
READ_BYTES = 4 * 2**20


def _file_source(X):
    """``(path, offset of row 0)`` when ``X`` is a C-contiguous view of a file memmap."""
    if not X.flags.c_contiguous or not X.dtype.isnative or X.size == 0:
        return None
    # the memmap that owns the mapping (its base is the mmap, not an array): a slice of a
    # memmap is a memmap too, but keeps its parent's offset
    b = X
    while b is not None and not (isinstance(b, np.memmap)
                                 and not isinstance(b.base, np.ndarray)):
        b = getattr(b, "base", None)
    # a copy-on-write map ("c") may hold private changes the file does not
    if b is None or not getattr(b, "filename", None) or getattr(b, "mode", "c") == "c":
        return None
    start = b.offset + (X.ctypes.data - b.ctypes.data)
    if start < 0 or not os.path.isfile(b.filename):
        return None
    return b.filename, start


def _pread_into(fd, arr, offset):
    mv = memoryview(arr).cast("B")
    done = 0
    while done < len(mv):
        got = os.preadv(fd, [mv[done:]], offset + done)
        if got <= 0:
            raise OSError(f"unexpected end of file reading {len(mv)} bytes at {offset}")
        done += got


def take_rows(X, idx) -> np.ndarray:
    """``X[idx]`` for sorted row indices ``idx``; a view of a memory-mapped file is read with
    ``pread`` (runs of consecutive rows at once), so none of its pages is mapped into the
    process (touching a few scattered rows of a mapping maps, with the kernel's fault-around
    and read-ahead, hundreds of MB of a GB file)."""
    src = _file_source(X) if hasattr(os, "preadv") and X.ndim >= 1 else None
    if src is None:
        return X[idx]
    path, start = src
    idx = np.asarray(idx, dtype=np.intp)
    out = np.empty((len(idx),) + X.shape[1:], dtype=X.dtype)
    if not len(idx):
        return out
    row = X.dtype.itemsize * int(np.prod(X.shape[1:], dtype=np.int64))
    breaks = np.flatnonzero(np.diff(idx) != 1) + 1  # runs of consecutive rows
    fd = os.open(path, os.O_RDONLY)
    try:
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(idx)]):
            _pread_into(fd, out[lo:hi], start + int(idx[lo]) * row)
    finally:
        os.close(fd)
    return out


def cpus() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_chunks(X, fn, *, itemsize: int | None = None, budget: int = CHUNK_BYTES,
               workers: int = 2):
    """Call ``fn(slice, rows)`` on every row chunk of ``X`` (``rows`` equals ``X[slice]``).

    A view of a memory-mapped file (``np.load(path, mmap_mode="r")``, ``np.memmap``) is read
    with ``pread`` by ``workers`` threads, each into its own reused buffer of
    :data:`READ_BYTES` and each calling ``fn`` on what it read: no page of the file is
    mapped into the process, and reading and computing overlap (``pread`` and numpy's
    loops release the GIL). ``fn`` must only write to its own slice and must not keep
    ``rows``. Other arrays are sliced in chunks of ``budget`` bytes at ``itemsize``, in
    order, in the calling thread.
    """
    n, d = X.shape
    src = _file_source(X) if hasattr(os, "preadv") else None
    if src is None:
        for sl in row_chunks(n, d, itemsize=itemsize or X.dtype.itemsize, budget=budget):
            fn(sl, X[sl])
        return
    path, start = src
    row = d * X.dtype.itemsize
    slices = list(row_chunks(n, d, itemsize=X.dtype.itemsize, budget=READ_BYTES))
    step = slices[0].stop
    local = threading.local()
    fd = os.open(path, os.O_RDONLY)

    def work(sl):
        buf = getattr(local, "buf", None)
        if buf is None:
            buf = local.buf = np.empty((step, d), dtype=X.dtype)
        b = buf[: sl.stop - sl.start]
        _pread_into(fd, b, start + sl.start * row)
        fn(sl, b)

    try:
        with ThreadPoolExecutor(max(1, min(workers, cpus()))) as pool:
            for _ in pool.map(work, slices):
                pass
    finally:
        os.close(fd)


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

"""Cumulative Spectral Gradient (paper 3.1.2; Branchaud-Charron et al., CVPR 2019).

Computed exactly as the reference package ``spectral-metric`` 0.6.1 does, so
that with every point sampled the two agree, but vectorised: the reference
sorts a full distance row per sampled point in a Python loop; here the k+1
nearest neighbours of all sampled points come from float32 distance blocks
and one ``argpartition``, refined in float64. Rows whose neighbour set is
decided by a tie (or whose float32 screening cannot rule out a miss) are
redone the reference's way, so tie-breaking matches too.

Where the reference's estimate means nothing — raw inputs of thousands of
dimensions, where the Parzen volume (a product over every dimension)
overflows to infinity and the point's weight becomes 0 — the default
``embedding="auto"`` measures in a 50-dimensional PCA space instead (see
:func:`csg`), and the result counts the sampled points whose volume was
infinite (dropped) or undefined (floored). numpy's overflow/invalid
warnings from those products stay inside the measure.
"""
from __future__ import annotations

import math
import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse.csgraph import laplacian
from sklearn.metrics import pairwise_distances

from .._validation import (
    check_count_or_fraction,
    check_features,
    check_metric,
    check_positive_int,
    check_random_state,
    check_X_y,
)
from ._chunks import SAMPLE_BYTES, all_finite, cpus, fit_rows, project_rows

#: Parzen-window volume floor of the reference (``get_volume``).
VOLUME_FLOOR = 1e-4
#: Target size of one float32 distance block (elements) in the k-NN search.
_BLOCK_ELEMENTS = 2_500_000
#: Size of the float32 distance blocks all k-NN workers hold at once (elements; 100 MB).
_GEMM_ELEMENTS = 25_000_000
#: Target size of the float32 distance block one k-NN worker computes and screens at a time
#: (elements; 4 MB: it is screened while still in cache).
_FUSED_ELEMENTS = 1_000_000
#: Fewest query rows per k-NN block: a GEMM of few rows spends its time packing all of X.
_MIN_BLOCK_ROWS = 128
#: Most threads the k-NN search runs on (each with a one-thread BLAS).
_MAX_KNN_WORKERS = 8
#: Default number of PCA components for ``embedding="pca"`` (and ``"auto"`` above
#: :data:`AUTO_RAW_MAX_DIM`).
PCA_COMPONENTS = 50
#: ``embedding="auto"`` keeps raw features up to this many dimensions (28x28 and 32x32
#: grayscale images, tabular data): there the estimate is the reference's, and stable.
AUTO_RAW_MAX_DIM = 1024


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields, not results
class CSGResult:
    """The Cumulative Spectral Gradient of a labelled dataset.

    Attributes
    ----------
    score : float
        CSG, in ``[0, K-1]``; 0 = perfectly separable classes. NaN when the
        estimate is degenerate (a class whose every Parzen volume overflowed).
    overlap : ndarray of shape (K, K)
        The row-normalised class-overlap matrix S (``S[i, j]`` ~
        ``E_{x~C_i}[p(C_j | x)]``).
    similarity : ndarray of shape (K, K)
        ``W[i, j] = 1 - braycurtis(S_i, S_j)``.
    eigenvalues : ndarray of shape (K,)
        Eigenvalues of the Laplacian ``D - W``, ascending.
    classes : tuple
        The labels, in the order of the rows of S.
    embedding : str
        Space the neighbours were searched in: ``"raw"``, ``"pca-50"``,
        ``"tsne-2"``, ``"precomputed"`` or ``"callable:<name>"``.
    samples_per_class : int or float
        ``M`` as requested.
    k : int
        Neighbours per sampled point.
    metric : str
        Distance used.
    n_samples, dim : int
        Points and dimensions of the searched space.
    sample_counts : tuple of int
        Points actually sampled per class (``min(M, n_c)``).
    dropped_points : int
        Sampled points whose Parzen volume overflowed to infinity: their
        weight ``p / V`` is 0, so they are left out of S.
    undefined_volumes : int
        Sampled points whose volume was undefined (``inf * 0``); the
        reference gives them the floor ``1e-4``, so do we.
    note : str or None
        Why the score is undefined (NaN), or what the default embedding
        chose and why.
    n_streamed : int or None
        Samples read from a stream of batches (the sample was drawn from
        them); None for an array.
    """

    score: float
    overlap: np.ndarray = field(repr=False)
    similarity: np.ndarray = field(repr=False)
    eigenvalues: np.ndarray = field(repr=False)
    classes: tuple
    embedding: str
    samples_per_class: int | float
    k: int
    metric: str
    n_samples: int
    dim: int
    sample_counts: tuple
    dropped_points: int = 0
    undefined_volumes: int = 0
    note: str | None = None
    n_streamed: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (the ``csg`` block of a ``dataset`` record); NaN → None."""

        def num(v):
            v = float(v)
            return v if math.isfinite(v) else None

        return {
            "score": num(self.score),
            "similarity": [[num(v) for v in row] for row in self.similarity],
            "overlap": [[num(v) for v in row] for row in self.overlap],
            "eigenvalues": [num(v) for v in self.eigenvalues],
            "embedding": self.embedding,
            "samples_per_class": self.samples_per_class,
            "k": self.k,
            "metric": self.metric,
            "dim": self.dim,
            "n_sampled": int(sum(self.sample_counts)),
            "dropped_points": int(self.dropped_points),
            "undefined_volumes": int(self.undefined_volumes),
            "note": self.note,
        }


def _sample_rows(codes, n_classes, m, rng):
    """Sampled row indices, class by class, exactly as the reference's ``find_samples``."""
    indices = np.arange(len(codes))
    picked, counts = [], []
    for c in range(n_classes):
        perm = rng.permutation(indices[codes == c])
        if m is None:
            take = len(perm)
        elif isinstance(m, float):
            take = max(1, int(m * len(perm)))
        else:
            take = min(m, len(perm))
        picked.append(perm[:take])
        counts.append(take)
    return np.concatenate(picked), tuple(counts)


def _pca_on_sample(X, rows, n_comp, random_state):
    """PCA fitted on (at most a memory budget of) the sampled rows, applied to every row.

    In float32: the sampled rows are few (``K * M``), so the fit is cheap and never needs a
    float64 copy of ``X``; every row is then projected chunk by chunk. Up to
    :data:`AUTO_RAW_MAX_DIM` features (and more fitted rows than features) the exact
    covariance solver (:func:`_covariance_pca`: measured faster than the randomized SVD on
    5,000 MNIST digits, and independent of the seed); wider, a seeded randomized SVD.
    """
    from sklearn.decomposition import PCA

    rng = random_state if isinstance(random_state, np.random.RandomState) \
        else np.random.RandomState(random_state)
    fit = fit_rows(rows, X.shape[1], budget=SAMPLE_BYTES, rng=rng)
    every = len(fit) == X.shape[0] and (np.sort(fit) == np.arange(X.shape[0])).all()
    if every:
        A = X.astype(np.float32)  # every row: one copy, not an index gather and a cast
    else:
        A = np.asarray(X[fit], dtype=np.float32)
    n_comp = max(1, min(n_comp, A.shape[0] - 1, A.shape[1]))
    if A.shape[1] <= AUTO_RAW_MAX_DIM and A.shape[0] > A.shape[1]:
        mean, components, Z = _covariance_pca(A, n_comp, project=every)
        if Z is not None:  # A held every row (in order), centered: projected already
            return Z, n_comp
    else:
        # 3 power iterations (scikit-learn picks 7 for few components): the embedding needs
        # the leading subspace, not its last digits, and each iteration is a pass over the rows
        pca = PCA(n_components=n_comp, svd_solver="randomized", iterated_power=3,
                  random_state=rng, copy=False)
        pca.fit(A)
        mean, components = pca.mean_, pca.components_
    del A
    return project_rows(X, mean, components), n_comp


#: The exact PCA's passes over its rows run on this many fixed blocks of rows, summed in
#: this order: the same floating-point sums, so the same components, on any number of cores.
_PCA_BLOCKS = 4


def _covariance_pca(A, n_comp, *, project=False):
    """``(mean, components, Z)`` of an exact PCA of the float32 rows ``A`` from their Gram
    matrix; ``Z`` is ``A``'s rows projected (float64) when ``project``, else None.

    What scikit-learn's ``svd_solver="covariance_eigh"`` computes, without its copies:
    ``A`` is centered in place, ``A.T @ A`` is a float32 GEMM per block of rows (summed in
    float64, in block order, for the eigensolver), and its ``n_comp`` leading eigenvectors
    are the components. Signs as ``svd_flip``: the largest entry of each component is
    positive. The blocks run on up to one thread per core, each BLAS call on one thread
    (numpy releases the GIL; OpenBLAS's own threads would spin after the call and slow the
    k-NN search that follows).

    Exact, not randomized: the CSG of 5,000 MNIST digits in PCA-50 is 0.484 with the exact
    components but 0.413-0.486 with randomized ones (by seed and power iterations), so an
    approximate solver would make the score depend on the seed.
    """
    n, d = A.shape
    bounds = np.linspace(0, n, _PCA_BLOCKS + 1).astype(int)
    rows = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
    with _one_blas_thread(), ThreadPoolExecutor(min(len(rows), cpus())) as pool:
        mean = np.sum(list(pool.map(lambda r: A[r].sum(axis=0, dtype=np.float64), rows)),
                      axis=0) / n
        mean32 = mean.astype(np.float32)

        def center(r):
            A[r] -= mean32
            return np.einsum("ij,ij->j", A[r], A[r])

        # a constant feature (an image's blank border: 135 of MNIST's 784 pixels) is 0 in
        # every component: leaving it out of the Gram matrix and the eigensolver changes no
        # digit
        varying = np.flatnonzero(np.sum(list(pool.map(center, rows)), axis=0) > 0)
        if not n_comp <= len(varying) < d:
            varying = None

        def gram(r):  # the block's Gram matrix, and its varying columns if they are projected
            Ar = A[r] if varying is None else np.take(A[r], varying, axis=1)
            return (Ar if project else None), Ar.T @ Ar

        parts = list(pool.map(gram, rows))
        g = parts[0][1].astype(np.float64)
        for _, more in parts[1:]:
            g += more
        comp = _leading_eigenvectors(g, n_comp).T
        signs = np.sign(comp[np.arange(n_comp), np.abs(comp).argmax(axis=1)])
        signs[signs == 0] = 1.0
        comp = comp * signs[:, None]
        Z = None
        if project:
            c32 = comp.T.astype(np.float32)
            Z = np.concatenate(list(pool.map(lambda p: (p[0] @ c32).astype(np.float64),
                                             parts)))
    del parts
    if varying is not None:
        full = np.zeros((n_comp, d))
        full[:, varying] = comp
        comp = full
    return mean, comp, Z


def _leading_eigenvectors(gram, n_comp):
    """The ``n_comp`` leading eigenvectors of the symmetric ``gram``, as columns, largest first.

    Few of many: ARPACK's Lanczos iteration converged to machine precision (its default
    ``tol=0``), 2.8x faster than LAPACK's full ``syevd`` for 50 of MNIST's 649 varying
    pixels, the same vectors to 1e-15; its start vector is fixed, and the converged vectors do
    not depend on it. Otherwise (or if it does not converge) the full ``eigh``.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    d = gram.shape[0]
    if 3 * n_comp < d:
        try:
            vals, vecs = eigsh(gram, k=n_comp, which="LA",
                               v0=np.random.RandomState(0).standard_normal(d))
            return vecs[:, np.argsort(vals)[::-1]]
        except ArpackNoConvergence:
            pass
    return np.linalg.eigh(gram)[1][:, ::-1][:, :n_comp]


def _embed(X, embedding, random_state, n, rows=None):
    """Return ``(Z, name)``: the space to search neighbours in."""
    if embedding is None:
        return X, "raw"
    if isinstance(embedding, str):
        if embedding == "auto":
            if X.shape[1] <= AUTO_RAW_MAX_DIM:
                return X, "raw"
            Z, n_comp = _pca_on_sample(X, rows, PCA_COMPONENTS, random_state)
            return Z, f"pca-{n_comp}"
        if embedding == "pca":
            # fitted on what CSG samples, as "auto": every row is projected, few are fitted
            Z, n_comp = _pca_on_sample(X, rows, PCA_COMPONENTS, random_state)
            return Z, f"pca-{n_comp}"
        if embedding == "tsne":
            from sklearn.decomposition import PCA
            from sklearn.manifold import TSNE

            Xr = X
            if X.shape[1] > PCA_COMPONENTS and X.shape[0] > PCA_COMPONENTS:
                # the usual t-SNE recipe: denoise and speed up with PCA first
                Xr = PCA(n_components=PCA_COMPONENTS, random_state=random_state).fit_transform(X)
            perplexity = min(30.0, max(1.0, (X.shape[0] - 1) / 3.0))
            Z = TSNE(
                n_components=2, perplexity=perplexity, init="pca", random_state=random_state
            ).fit_transform(Xr)
            return Z, "tsne-2"
        raise ValueError(
            "embedding must be None, 'auto', 'pca', 'tsne', an array or a callable, "
            f"got {embedding!r}"
        )
    if callable(embedding):
        Z = check_features(embedding(X), name="embedding(X)")
        name = f"callable:{getattr(embedding, '__name__', type(embedding).__name__)}"
    else:
        Z = check_features(embedding, name="embedding")
        name = "precomputed"
    if Z.shape[0] != n:
        raise ValueError(
            f"embedding must have one row per sample of X: {Z.shape[0]} != {n}"
        )
    return Z, name


# --------------------------------------------------------------------------- #
# k nearest neighbours, in the reference's order
# --------------------------------------------------------------------------- #
def _reference_rows(X, rows, k, metric):
    """The reference's own computation for a few rows: a full distance row, argsort."""
    D = pairwise_distances(X[rows], X, metric=metric)
    # row by row, like the reference's ``all_similarities[m].argsort()``
    return np.stack([D[i].argsort()[: k + 1] for i in range(len(rows))])


def _ambiguous(d, k, tol):
    """Rows where a tie decides the neighbour set or which neighbour is dropped first."""
    amb = (d[:, 1] - d[:, 0]) <= tol
    if d.shape[1] > k + 1:
        amb |= (d[:, k + 1] - d[:, k]) <= tol
    return amb


def _candidates(D, n_cand):
    """The ``n_cand`` smallest entries of each row of ``D`` (unordered) and the
    ``n_cand``-th smallest value; every entry left out is >= that value.

    ``np.partition`` + a mask is cheaper than ``np.argpartition``, which
    writes an index for every entry of the block.
    """
    n = D.shape[1]
    if n_cand >= n:
        return np.broadcast_to(np.arange(n), D.shape).copy(), np.full(D.shape[0], np.inf)
    thr = np.partition(D, n_cand - 1, axis=1)[:, n_cand - 1]
    rows, cols = np.nonzero(D <= thr[:, None])
    counts = np.bincount(rows, minlength=D.shape[0])
    start = np.cumsum(counts) - counts
    keep = (np.arange(len(rows)) - start[rows]) < n_cand
    cand = cols[keep].reshape(D.shape[0], n_cand)
    # rows with ties at thr: the first n_cand in column order may skip a
    # smaller value; let argpartition choose for those few rows
    tied = np.flatnonzero(counts > n_cand)
    if len(tied):
        cand[tied] = np.argpartition(D[tied], n_cand - 1, axis=1)[:, :n_cand]
    return cand, thr.astype(np.float64)


def _screen(D, n_cand):
    """Candidates per row of a distance block: ``(row_ids, col_ids, t)``.

    At least ``n_cand`` candidates per row, all with ``D <= t[row]``; every point left out
    has ``D >= t[row]``. A k-smallest selection in a few passes, not a partition of the
    block: the elementwise minima over ``g`` contiguous column groups (one pass over the
    block) form a pool ``g`` times narrower; the ``n_cand``-th smallest pool slot gives ``t``,
    and only the ``g`` columns behind each slot ``<= t`` (``n_cand`` of them, more on a tie)
    can hold a distance ``<= t``, so only those entries are read again.
    """
    R, n = D.shape
    if n_cand >= n:
        ri, ci = np.nonzero(np.ones(D.shape, dtype=bool))
        return ri, ci, np.full(R, np.inf)
    g = max(1, min(16, n // (4 * n_cand)))
    w = n // g
    if g == 1:
        pool = D[:, :w].copy()
    else:
        pool = np.minimum(D[:, :w], D[:, w:2 * w])
        for i in range(2, g):
            np.minimum(pool, D[:, i * w:(i + 1) * w], out=pool)
    if g * w < n:  # the last n - g*w (< g) columns are slots of their own
        pool = np.concatenate([pool, D[:, g * w:]], axis=1)
    # values only (a partition, not an argpartition): the slots are found by a compare
    t = np.partition(pool, n_cand - 1, axis=1)[:, n_cand - 1]
    ri, slot = np.nonzero(pool <= t[:, None])
    main = slot < w
    cols = np.where(main[:, None], slot[:, None] + w * np.arange(g),
                    (g * w - w + slot)[:, None])          # a tail slot: its one column
    vals = np.take(D.reshape(-1), ri[:, None] * n + cols)
    keep = vals <= t[ri, None]
    keep[:, 1:] &= main[:, None]                            # a tail slot counts once
    p, g_i = np.nonzero(keep)
    return ri[p], cols[p, g_i], t.astype(np.float64)


def _knn_plan(n_rows, n):
    """``(rows per block, workers)`` of the k-NN search of ``n_rows`` queries among ``n``."""
    block = max(_FUSED_ELEMENTS // max(n, 1), _MIN_BLOCK_ROWS)
    workers = max(1, min(cpus(), _MAX_KNN_WORKERS, -(-n_rows // min(block, n_rows))))
    # the blocks in flight stay within the GEMM budget
    block = max(1, min(n_rows, block, _GEMM_ELEMENTS // (workers * max(n, 1))))
    return block, max(1, min(workers, -(-n_rows // block)))


_BLAS = []  # the threadpoolctl controller, made once: it inspects every loaded library


def _one_blas_thread():
    """Context: BLAS calls run on one thread each (the k-NN workers are the parallelism)."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _knn_euclidean(X, rows, k, n_cand):
    """k+1 nearest (self-inclusive) of ``X[rows]`` in ``X``, euclidean.

    Float32 screening (centered data, one GEMM per block of rows that yields
    ``||b||^2 - 2 a.b`` directly, :func:`_screen` while the block is in cache) finds
    candidates; their exact float64 distances order them. A row is flagged for redoing the
    reference's way when the float32 error bound cannot exclude a point outside the
    candidates, or when a tie makes the reference's choice depend on its sort order. The
    blocks are independent: they run on up to one thread per core (numpy releases the GIL),
    and the result does not depend on how they are split.
    """
    n, d = X.shape
    # center in float64 before rounding: float32 then only has to hold the spread
    X32 = (X - X.mean(axis=0)).astype(np.float32)
    sq32 = np.einsum("ij,ij->i", X32, X32)
    raw_sq = np.einsum("ij,ij->i", X, X)
    # [-2a, 1] . [b, ||b||^2] = ||a - b||^2 - ||a||^2: the row constant ||a||^2 changes no
    # row's order and is added to the bound only
    A = np.empty((n, d + 1), dtype=np.float32)
    np.multiply(X32, -2.0, out=A[:, :d])
    A[:, d] = 1.0
    B = np.empty((n, d + 1), dtype=np.float32)
    B[:, :d] = X32
    B[:, d] = sq32
    # worst-case float32 error of that dot product plus ||a||^2 (Higham, gamma_{d+3}):
    # its terms sum to at most ||a||^2 + 2 ||b||^2
    err = 2.0 * (d + 3) * np.finfo(np.float32).eps * (sq32 + 2.0 * float(sq32.max()))
    # distances closer than this may be ordered differently by the reference
    tie = 1e-12 * (raw_sq + float(raw_sq.max()))
    width = min(k + 2, n)

    out = np.empty((len(rows), k + 1), dtype=np.intp)
    redo = np.zeros(len(rows), dtype=bool)
    BT = B.T

    def block_knn(start):
        r = rows[start:start + block]
        ri, ci, t = _screen(A[r] @ BT, n_cand)
        bound32 = t + sq32[r]
        d2 = _exact_sq_distances(X, r[ri], ci)
        order = np.lexsort((ci, d2, ri))  # by row, then distance; ties by column
        counts = np.bincount(ri, minlength=len(r))
        pos = (np.cumsum(counts) - counts)[:, None] + np.arange(width)
        top, dtop = ci[order][pos], d2[order][pos]
        tol = tie[r] + 16 * np.finfo(np.float64).eps * dtop[:, -1]
        # every point left out is at least bound32 - err away
        unsafe = bound32 - err[r] <= dtop[:, k] + tol
        out[start:start + len(r)] = top[:, : k + 1]
        redo[start:start + len(r)] = unsafe | _ambiguous(dtop, k, tol)

    block, workers = _knn_plan(len(rows), n)
    starts = range(0, len(rows), block)
    if workers == 1:
        for s in starts:
            block_knn(s)
    else:
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            list(pool.map(block_knn, starts))  # list(): re-raises a worker's error
    return out, redo


def _exact_sq_distances(X, a, b):
    """``||X[a_i] - X[b_i]||^2`` in float64, a few MB at a time."""
    d2 = np.empty(len(a))
    step = max(1, 2_000_000 // X.shape[1])
    for s in range(0, len(a), step):
        diff = X[b[s:s + step]] - X[a[s:s + step]]
        d2[s:s + step] = np.einsum("pd,pd->p", diff, diff)
    return d2


def _knn_generic(X, rows, k, n_cand, metric):
    """Same as :func:`_knn_euclidean` for any scikit-learn metric (float64 blocks)."""
    n = X.shape[0]
    eps64 = np.finfo(np.float64).eps
    out = np.empty((len(rows), k + 1), dtype=np.intp)
    block = max(1, min(len(rows), _BLOCK_ELEMENTS // max(n, 1)))
    for start in range(0, len(rows), block):
        r = rows[start:start + block]
        D = pairwise_distances(X[r], X, metric=metric)
        cand, _ = _candidates(D, n_cand)
        dc = np.take_along_axis(D, cand, axis=1)
        order = np.argsort(dc, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        dc = np.take_along_axis(dc, order, axis=1)
        tol = 16 * eps64 * np.abs(dc[:, min(k + 1, dc.shape[1] - 1)]) + 1e-300
        bad = _ambiguous(dc, k, tol)
        out[start:start + len(r)] = cand[:, : k + 1]
        for i in np.flatnonzero(bad):
            out[start + i] = D[i].argsort()[: k + 1]
    return out, np.zeros(len(rows), dtype=bool)  # ambiguous rows were settled exactly above


def nearest_neighbours(X, rows, k, metric="euclidean"):
    """Indices (len(rows), k+1) of the k+1 nearest points, ordered as the reference.

    Column 0 is the point the reference drops (normally the query itself).
    Also returns how many rows had to be redone the reference's way.
    """
    n = X.shape[0]
    n_cand = min(n, k + 1 + max(16, 2 * k))
    if metric == "euclidean":
        # few candidates: the float32 bound is tight, and the pooled screening reads
        # g * n_cand entries per row again (a row the bound cannot settle is redone)
        idx, redo = _knn_euclidean(X, rows, k, min(n, k + 1 + max(4, k)))
    else:
        idx, redo = _knn_generic(X, rows, k, n_cand, metric)
    if redo.any():
        idx[redo] = _reference_rows(X, rows[redo], k, metric)
    return idx, int(redo.sum())


# --------------------------------------------------------------------------- #
# the spectral part (tiny: K x K)
# --------------------------------------------------------------------------- #
def _parzen_volumes(X, idx, chunk=512):
    """``max(1e-4, prod_f 2 max_n |x_nf - x_0f|)`` per row, as the reference's ``get_volume``.

    Returns ``(volumes, n_infinite, n_undefined)``: rows whose product overflowed
    to infinity (their weight ``p / V`` is 0) and rows where it was ``inf * 0``.
    """
    vols = np.empty(idx.shape[0])
    n_inf = n_nan = 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for s in range(0, idx.shape[0], chunk):
            nb = X[idx[s:s + chunk]]                       # (r, k+1, d)
            span = np.abs(nb[:, 1:] - nb[:, :1]).max(axis=1) * 2
            vol = span.prod(axis=1)
            n_inf += int(np.isposinf(vol).sum())
            n_nan += int(np.isnan(vol).sum())
            # Python's max(1e-4, v) keeps 1e-4 when v is NaN (inf * 0); so do we
            vols[s:s + chunk] = np.where(vol > VOLUME_FLOOR, vol, VOLUME_FLOOR)
    return vols, n_inf, n_nan


def spectral_from_overlap(S):
    """``(W, eigenvalues, score)`` from a row-normalised overlap matrix ``S``."""
    S = np.asarray(S, dtype=np.float64)
    K = S.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.abs(S[:, None, :] - S[None, :, :]).sum(axis=-1)
        den = np.abs(S[:, None, :] + S[None, :, :]).sum(axis=-1)
        W = 1.0 - num / den
    if not np.isfinite(W).all():
        return W, np.full(K, np.nan), float("nan")
    L = laplacian(W, normed=False)
    evals = np.linalg.eigh(L)[0]
    gaps = evals[1:] - evals[:-1]
    ratios = gaps / (K - np.arange(K - 1))
    score = float(np.maximum.accumulate(ratios).sum())
    return W, evals, score


def csg(X, y=None, *, samples_per_class=250, k=3, metric="euclidean", embedding="auto",
        random_state=None, progress: bool = False) -> CSGResult:
    """Cumulative Spectral Gradient: how separable the classes of ``(X, y)`` are.

    For ``M`` sampled points per class, the labels of each point's ``k``
    nearest neighbours in the whole dataset, weighted by a Parzen window,
    estimate the class overlap matrix S; the CSG is the cumulative maximum of
    the normalised eigen-gaps of the Laplacian of the class-similarity graph
    built from S. With every point sampled (``samples_per_class`` at least
    every class size) and raw features it equals ``spectral-metric`` 0.6.1's
    ``CumulativeGradientEstimator`` on the same (float64) data.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...), or a stream of (x, y) batches
        Features; each sample is flattened. Raw features are measured in
        float64 (as the reference); an embedding is fitted in float32 on the
        sampled rows, so no float64 copy of a large ``X`` is made. A stream —
        a batched ``tf.data.Dataset``, a ``keras.utils.PyDataset`` or any
        iterable / generator of ``(x, y)`` batches, ``y`` omitted — is read
        once into a seeded per-class reservoir of ``samples_per_class`` rows
        (:func:`tb_nndebug.measures.streaming.reservoir_rows` names them); the
        CSG is then that of the sample, every point of it sampled:
        ``csg(X[rows], y[rows], samples_per_class=None, ...)`` with the same
        ``random_state``. The neighbours are then searched among the sampled
        rows, not the whole stream; ``n_streamed`` counts what was read.
    y : array-like of shape (n_samples,), optional
        Labels (ints, strings or one-hot rows); at least two classes. Required
        with an array ``X``.
    samples_per_class : int, float or None, default=250
        ``M``: points sampled per class (``min(M, n_c)``); a float in (0, 1]
        is a fraction of each class; ``None`` samples every point. (The
        reference reads any ``M <= 1`` as a fraction, so its ``M=1`` means
        every point; here the int 1 means one point.)
    k : int, default=3
        Neighbours per sampled point; must be smaller than every class.
    metric : str or callable, default="euclidean"
        Any scikit-learn ``pairwise_distances`` metric.
    embedding : "auto", None, "pca", "tsne", array-like or callable, default="auto"
        Space to measure in. ``"auto"``: raw features up to
        :data:`AUTO_RAW_MAX_DIM` (1,024) dimensions, else a seeded randomized
        PCA to 50 dimensions fitted on the sampled rows only — in thousands of
        raw dimensions the Parzen volume, a product over every dimension,
        overflows and the score is undefined (64x64x3 images), while 50
        principal components keep the euclidean neighbourhoods, give finite
        volumes and make the neighbour search ~d/50 times cheaper. If the raw
        estimate is undefined all the same, ``"auto"`` measures again in the
        PCA space. ``None``: raw flattened features; ``"pca"``: PCA to
        ``min(50, n_features)`` fitted on the sampled rows and applied to every
        row (exact up to 1,024 features, seeded randomized SVD above);
        ``"tsne"``: t-SNE to 2 dimensions (after PCA to 50); a precomputed
        ``(n_samples, m)`` array; or a callable ``X -> Z``. The score depends
        on it; it is reported in the result.
    random_state : None, int or numpy.random.RandomState
        Seeds the sampling (same draws as the reference's ``find_samples``
        with that seed; for a stream, the reservoir's keys) and the embedding.
    progress : bool, default=False
        A progress bar (tqdm, on stderr) over the batches of a stream.

    Returns
    -------
    CSGResult

    Raises
    ------
    ValueError, TypeError
        Naming the offending argument.

    Warns
    -----
    RuntimeWarning
        When the score is undefined (a class whose every sampled point had
        an infinite Parzen volume); the reason is also in ``result.note``.
        numpy's own overflow warnings never leave the function.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> import tb_nndebug as nd
    >>> X, y = make_blobs(200, centers=[[0, 0], [20, 20]], random_state=0)
    >>> round(nd.csg(X, y, random_state=0).score, 6)
    0.0
    """
    from .streaming import is_stream

    if y is None or is_stream(X):
        return _csg_stream(X, y, samples_per_class=samples_per_class, k=k, metric=metric,
                           embedding=embedding, random_state=random_state, progress=progress)
    Xa, classes, codes = check_X_y(X, y, to_float=False, check_finite=False)
    if not all_finite(Xa):
        raise ValueError("X contains NaN or infinite values")
    K = len(classes)
    if K < 2:
        raise ValueError(f"y must contain at least 2 classes for a CSG, got {K}")
    k = check_positive_int(k, name="k")
    counts = np.bincount(codes, minlength=K)
    smallest = int(counts.argmin())
    if k >= counts[smallest]:
        raise ValueError(
            f"k={k} must be smaller than the smallest class "
            f"({classes[smallest]!r} has {counts[smallest]} samples)"
        )
    m = check_count_or_fraction(samples_per_class, name="samples_per_class", allow_none=True)
    rng = check_random_state(random_state)
    metric = check_metric(metric, Xa[:1].astype(np.float64))

    # sample first: the draws then match the reference's with the same seed
    rows, sample_counts = _sample_rows(codes, K, m, rng)
    emb_seed = random_state if isinstance(random_state, numbers.Integral) else rng
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        fitted = isinstance(embedding, str) and (
            embedding == "pca" or (embedding == "auto" and Xa.shape[1] > AUTO_RAW_MAX_DIM))
        raw = Xa if fitted else np.asarray(Xa, dtype=np.float64)
        Z, emb_name = _embed(raw, embedding, emb_seed, Xa.shape[0], rows)
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        out = _estimate(Z, codes, rows, K, k, metric)
        note = None
        if not math.isfinite(out[3]) and isinstance(embedding, str) and embedding == "auto" \
                and emb_name == "raw" and Z.shape[1] > 1:
            note = (f"raw features ({Z.shape[1]} dimensions) gave an undefined estimate; "
                    f"measured in a {PCA_COMPONENTS}-component PCA space instead")
            Z, n_comp = _pca_on_sample(Z, rows, PCA_COMPONENTS, emb_seed)
            emb_name = f"pca-{n_comp}"
            out = _estimate(np.ascontiguousarray(Z), codes, rows, K, k, metric)
    S, W, evals, score, n_inf, n_nan = out
    if not math.isfinite(score):
        empty = [_plain(classes[i]) for i in np.flatnonzero(S.sum(axis=1) == 0)]
        note = (f"CSG is undefined: every Parzen volume of class(es) {empty} overflowed in "
                f"{Z.shape[1]} dimensions ({n_inf} of {len(rows)} sampled points dropped)")
        warnings.warn(f"{note}; use embedding='pca' or 'tsne'", RuntimeWarning, stacklevel=2)
    for a in (S, W, evals):
        a.setflags(write=False)
    return CSGResult(
        score=score,
        overlap=S,
        similarity=W,
        eigenvalues=evals,
        classes=tuple(_plain(c) for c in classes),
        embedding=emb_name,
        samples_per_class=samples_per_class,
        k=k,
        metric=metric if isinstance(metric, str) else getattr(metric, "__name__", "callable"),
        n_samples=int(Z.shape[0]),
        dim=int(Z.shape[1]),
        sample_counts=sample_counts,
        dropped_points=n_inf,
        undefined_volumes=n_nan,
        note=note,
    )


def _csg_stream(data, y, *, samples_per_class, k, metric, embedding, random_state, progress):
    """:func:`csg` of a stream: one pass into a per-class reservoir, then the sample's CSG."""
    from .streaming import is_stream, scan

    if not is_stream(data):
        raise TypeError(
            "y is required when X is an array; omit y only when X is a stream of (x, y) "
            "batches (tf.data.Dataset, keras.utils.PyDataset, a generator or an iterable)")
    if y is not None:
        raise TypeError("X is a stream of (x, y) batches: its labels come from the "
                        "stream, so y must be omitted (got y as well)")
    if not (embedding is None or callable(embedding) or isinstance(embedding, str)):
        raise TypeError("embedding must be None, 'auto', 'pca', 'tsne' or a callable for a "
                        "stream of batches (a precomputed array cannot match the rows the "
                        f"stream samples), got {type(embedding).__name__}")
    k = check_positive_int(k, name="k")
    if isinstance(samples_per_class, numbers.Integral) and not isinstance(
            samples_per_class, bool) and samples_per_class == 0:
        raise ValueError("samples_per_class must be >= 1 or None, got 0")
    rng = check_random_state(random_state)
    seed = random_state if isinstance(random_state, numbers.Integral) else rng
    sc = scan(data, complexity=False, samples_per_class=samples_per_class, random_state=rng,
              progress=progress, name="X")
    res = csg(sc.X_sample, sc.y_sample, samples_per_class=None, k=k, metric=metric,
              embedding=embedding, random_state=seed)
    return replace(res, samples_per_class=samples_per_class, n_streamed=sc.n_samples)


def _plain(c):
    """A numpy scalar label as a plain Python value."""
    return c.item() if hasattr(c, "item") else c


def _estimate(Z, codes, rows, K, k, metric):
    """``(S, W, eigenvalues, score, n_infinite, n_undefined)`` in the space ``Z``."""
    idx, _ = nearest_neighbours(Z, rows, k, metric)
    P = np.zeros((len(rows), K))
    np.add.at(P, (np.repeat(np.arange(len(rows)), k), codes[idx[:, 1:]].ravel()), 1.0)
    P /= k
    vols, n_inf, n_nan = _parzen_volumes(Z, idx)
    S = np.zeros((K, K))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        contrib = P / vols[:, None]
        np.add.at(S, codes[rows], contrib)  # sequential: the reference's summation order
        S /= S.sum(axis=1, keepdims=True)
    S[~np.isfinite(S)] = 0.0
    W, evals, score = spectral_from_overlap(S)
    return S, W, evals, score, n_inf, n_nan

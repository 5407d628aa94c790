"""The dataset measures over data that does not fit in memory: one pass over ``(x, y)`` batches.

A *stream* is a ``tf.data.Dataset`` of batched ``(x, y)`` (or ``(x, y, sample_weight)``)
elements, a ``keras.utils.PyDataset`` (or ``Sequence``), or any iterable / generator of
``(x, y)`` batches. Arrays, memory-mapped ones included (``np.load(path, mmap_mode="r")``,
``np.memmap``), are not streams: the array functions read them chunk by chunk.

One pass keeps, per sample, only what the measures need:

- :func:`dataset_complexity` keeps each row's energy and its label (O(N) scalars);
- :func:`csg` keeps a seeded per-class *bottom-k* reservoir: every row gets a uniform key
  from ``random_state`` in stream order and each class keeps the rows of its
  ``samples_per_class`` smallest keys — a uniform sample without replacement whatever the
  batching. :func:`reservoir_rows` draws the same rows from an array of labels.

:func:`scan` does both in the same pass (what the Keras callback needs).

This module imports neither TensorFlow nor Keras: a ``tf.data.Dataset`` is recognised by its
``as_numpy_iterator`` method, a ``PyDataset`` by ``num_batches`` / ``__getitem__``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_count_or_fraction, check_random_state, label_vector


def is_stream(data) -> bool:
    """``data`` is a stream of batches, not an array-like of samples (a list or tuple is an
    array-like: pass ``iter(batches)`` for a list of batches)."""
    if isinstance(data, (np.ndarray, list, tuple, str, bytes, dict)) \
            or hasattr(data, "__array__"):
        return False
    return (hasattr(data, "as_numpy_iterator") or hasattr(data, "num_batches")
            or hasattr(data, "__iter__") or hasattr(data, "__next__"))


def _n_batches(data):
    """Number of batches when known without iterating (for the progress bar), else None."""
    for attr in ("num_batches", "__len__"):
        try:
            n = len(data) if attr == "__len__" else getattr(data, attr, None)
        except Exception:  # unknown length (generators, infinite PyDatasets)
            n = None
        if isinstance(n, numbers.Integral) and n >= 0:
            return int(n)
    card = getattr(data, "cardinality", None)
    if callable(card):
        try:
            n = int(card())
        except Exception:
            return None
        return n if n >= 0 else None
    return None


def array_batches(X, y, *, batch_size: int = 4096):
    """A stream of ``(X[i:i+b], y[i:i+b])`` batches over arrays, memory-mapped ones included.

    Each batch is read when it is asked for, so ``csg(array_batches(np.load(path,
    mmap_mode="r"), y))`` holds one batch of ``X`` at a time, never the whole file.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        Features (a ``np.memmap`` or ``np.load(..., mmap_mode="r")`` stays on disk).
    y : array-like of shape (n_samples,)
        Labels.
    batch_size : int, default=4096

    Returns
    -------
    generator of (ndarray, ndarray)
    """
    from .._validation import check_positive_int

    b = check_positive_int(batch_size, name="batch_size")
    if not hasattr(X, "shape") or len(X.shape) < 2:
        raise ValueError(f"X must be an array of shape (n_samples, features...), "
                         f"got {type(X).__name__} of shape {getattr(X, 'shape', None)}")
    yv = np.asarray(y)
    if yv.shape[:1] != X.shape[:1]:
        raise ValueError(f"X and y have different lengths: {X.shape[0]} != {yv.shape[:1]}")

    def gen():
        for s in range(0, X.shape[0], b):
            yield np.asarray(X[s:s + b]), yv[s:s + b]

    return gen()


def _raw_batches(data, name):
    if hasattr(data, "as_numpy_iterator"):  # tf.data.Dataset
        return iter(data.as_numpy_iterator())
    n = getattr(data, "num_batches", None)
    if isinstance(n, numbers.Integral) and hasattr(data, "__getitem__"):  # keras PyDataset
        return (data[i] for i in range(int(n)))
    try:
        return iter(data)
    except TypeError:
        raise TypeError(
            f"{name} must be an array or a stream of (x, y) batches (tf.data.Dataset, "
            f"keras.utils.PyDataset, a generator or an iterable), got {type(data).__name__}"
        ) from None


def iter_batches(data, *, name: str = "data", progress: bool = False):
    """Yield ``(x, y)`` numpy batches of ``data``: x of shape (b, d) flattened, y 1-d labels.

    Raises ``TypeError``/``ValueError`` naming ``name`` and the batch for anything that is
    not a batched ``(x, y)`` pair, for a batch whose feature size differs from the first
    one, for NaN/Inf labels and for a stream without any sample.
    """
    it = _raw_batches(data, name)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, total=_n_batches(data), desc=f"tb_nndebug: {name}", unit="batch",
                  leave=False)
    d = None
    seen = 0
    for i, item in enumerate(it):
        x, y = _pair(item, name, i)
        if x.ndim < 2:
            raise ValueError(
                f"{name} must yield batched (x, y) pairs: batch {i} has x of shape {x.shape}; "
                "batch the data (e.g. dataset.batch(256)) so that x is (batch, features...)")
        x = x.reshape(x.shape[0], -1)
        if d is None:
            d = x.shape[1]
            if d == 0:
                raise ValueError(f"{name}: batch {i} has no features (shape {x.shape})")
        elif x.shape[1] != d:
            raise ValueError(f"{name}: batch {i} has {x.shape[1]} features per sample, "
                             f"the first batches had {d}")
        try:
            yv = label_vector(y, name=f"y of batch {i} of {name}")
        except ValueError:
            raise ValueError(
                f"{name} must yield batched (x, y) pairs: batch {i} has y of shape "
                f"{np.shape(y)} (expected (batch,) labels or (batch, classes) one-hot)"
            ) from None
        if yv.shape[0] != x.shape[0]:
            raise ValueError(f"{name}: batch {i} has {x.shape[0]} samples in x but "
                             f"{yv.shape[0]} labels in y")
        if yv.dtype.kind == "f" and not np.isfinite(yv).all():
            raise ValueError(f"{name}: y of batch {i} contains NaN or infinite values")
        seen += x.shape[0]
        yield x, yv
    if not seen:
        raise ValueError(f"{name} yielded no samples")


def _pair(item, name, i):
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        kind = type(item).__name__
        raise TypeError(f"{name} must yield (x, y) or (x, y, sample_weight) batches; "
                        f"batch {i} is a {kind}"
                        + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""))
    x, y = np.asarray(item[0]), np.asarray(item[1])
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{name}: x of batch {i} must be numeric, got dtype {x.dtype}")
    return x, y


# --------------------------------------------------------------------------- #
# labels over a stream: O(N) codes whatever the label type
# --------------------------------------------------------------------------- #
def encode_labels(parts, name="y"):
    """``(classes, codes)`` of the concatenated label batches ``parts`` (as ``check_labels``)."""
    arr = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if arr.dtype == object:
        try:
            arr = arr.astype(str)
        except Exception:
            raise TypeError(f"{name} must hold numbers or strings") from None
    if arr.dtype.kind in "biu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= max(2**16, arr.size):  # a count per value beats np.unique's sort
            present = np.bincount((arr - lo).astype(np.intp), minlength=hi - lo + 1) > 0
            lut = np.cumsum(present) - 1
            classes = (np.flatnonzero(present) + lo).astype(arr.dtype)
            return classes, lut[(arr - lo).astype(np.intp)]
    classes, codes = np.unique(arr, return_inverse=True)
    return classes, codes.reshape(-1)


# --------------------------------------------------------------------------- #
# the per-class bottom-k reservoir
# --------------------------------------------------------------------------- #
def _check_m(samples_per_class):
    m = check_count_or_fraction(samples_per_class, name="samples_per_class", allow_none=True)
    if isinstance(m, float):
        raise ValueError(
            "samples_per_class must be an int or None for a stream of batches (the class "
            f"sizes are not known before the pass), got the fraction {samples_per_class!r}")
    return m


class _Reservoir:
    """Rows of the ``m`` smallest keys per label (all rows when ``m`` is None)."""

    def __init__(self, m):
        self.m = m
        self.keep = {}  # label -> [keys, stream indices, rows]

    def add(self, x, y, keys, start):
        for lab in np.unique(y):
            sel = np.flatnonzero(y == lab)
            cur = self.keep.get(lab)
            if self.m is not None and cur is not None and len(cur[0]) >= self.m:
                sel = sel[keys[sel] < cur[0].max()]  # only rows that enter the reservoir
                if not len(sel):
                    continue
            k_new, i_new = keys[sel], sel + start
            rows = x[sel]  # fancy indexing copies: batches may reuse their buffers
            if cur is None:
                ks, idx, xs = k_new, i_new, rows
            else:
                ks = np.concatenate([cur[0], k_new])
                idx = np.concatenate([cur[1], i_new])
                xs = np.concatenate([cur[2], rows])
            if self.m is not None and len(ks) > self.m:
                best = np.lexsort((idx, ks))[: self.m]
                ks, idx, xs = ks[best], idx[best], xs[best]
            self.keep[lab] = [ks, idx, xs]

    def result(self, classes):
        """``(X, labels, stream indices)``: class by class (sorted labels), stream order."""
        xs, ys, idx = [], [], []
        for lab in classes:
            _, i, x = self.keep[lab]
            order = np.argsort(i, kind="stable")
            xs.append(x[order])
            idx.append(i[order])
            ys.append(np.repeat(np.asarray([lab]), len(i)))
        return np.concatenate(xs), np.concatenate(ys), np.concatenate(idx)


def _keys(rng, n):
    return rng.random_sample(n)


def reservoir_rows(y, samples_per_class, random_state=None) -> np.ndarray:
    """Indices of the rows a stream of labels ``y`` (in this order) samples for :func:`csg`.

    Every row ``i`` gets the key ``RandomState(random_state).random_sample(len(y))[i]``; each
    class keeps its ``samples_per_class`` rows of smallest key (ties by index). The result is
    sorted by class (sorted labels), then by row. A stream of the same rows and labels, in
    the same order and any batching, samples exactly these rows with the same
    ``random_state``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels (ints, strings, or one-hot rows).
    samples_per_class : int or None
        Rows kept per class (``min(samples_per_class, n_c)``); None keeps every row.
    random_state : None, int or numpy.random.RandomState

    Returns
    -------
    ndarray of int
    """
    m = _check_m(samples_per_class)
    rng = check_random_state(random_state)
    yv = label_vector(y, name="y")
    classes, codes = encode_labels([yv])
    keys = _keys(rng, len(codes))
    out = []
    for c in range(len(classes)):
        rows = np.flatnonzero(codes == c)
        if m is not None and len(rows) > m:
            rows = np.sort(rows[np.lexsort((rows, keys[rows]))[:m]])
        out.append(rows)
    return np.concatenate(out)


# --------------------------------------------------------------------------- #
# one pass for both measures
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class DatasetScan:
    """What one pass over a stream keeps: the complexity, and the CSG sample.

    Attributes
    ----------
    complexity : DatasetComplexity or None
        :func:`dataset_complexity` of the whole stream (None if not asked for).
    X_sample : ndarray of shape (n_sampled, d) or None
        The per-class reservoir (input dtype, flattened), class by class; None when
        ``samples_per_class=0`` (see :func:`scan`).
    y_sample : ndarray of shape (n_sampled,) or None
        Their labels (the stream's own values).
    rows : ndarray of int or None
        Their positions in the stream (0-based, in stream order).
    n_samples, dim : int
        Samples seen, features per sample.
    classes : tuple
        Every label seen, sorted.
    class_counts : tuple of int
        Samples per class over the whole stream.
    """

    complexity: object
    X_sample: np.ndarray | None = field(repr=False)
    y_sample: np.ndarray | None = field(repr=False)
    rows: np.ndarray | None = field(repr=False)
    n_samples: int
    dim: int
    classes: tuple
    class_counts: tuple


def scan(data, *, complexity: bool = True, samples_per_class=250, energy: str = "sum",
         random_state=None, progress: bool = False, name: str = "data") -> DatasetScan:
    """One pass over a stream of ``(x, y)`` batches for :func:`dataset_complexity` and :func:`csg`.

    Memory: one batch, ``8 + label size`` bytes per sample (energies and labels; none when
    ``complexity=False`` beyond the labels), and the reservoir: at most
    ``n_classes * samples_per_class`` rows in the input dtype plus one batch's worth while
    merging. Nothing else grows with the stream.

    Parameters
    ----------
    data : tf.data.Dataset, keras.utils.PyDataset, generator or iterable
        Batched ``(x, y)`` or ``(x, y, sample_weight)`` elements; x of shape
        ``(batch, ...)`` (flattened per sample), y labels or one-hot rows.
    complexity : bool, default=True
        Also compute :func:`dataset_complexity` of the whole stream.
    samples_per_class : int or None, default=250
        Rows the reservoir keeps per class for :func:`csg`; ``None`` keeps every row;
        ``0`` keeps none (complexity only).
    energy : {"sum", "l1"}, default="sum"
        See :func:`dataset_complexity`.
    random_state : None, int or numpy.random.RandomState
        Seeds the reservoir's keys (see :func:`reservoir_rows`).
    progress : bool, default=False
        Show a tqdm progress bar (stderr) over the batches.
    name : str, default="data"
        The argument's name in error messages.

    Returns
    -------
    DatasetScan
    """
    from .complexity import _check_energy, _energies, complexity_from_energies

    _check_energy(energy)
    sample = not (isinstance(samples_per_class, numbers.Integral)
                  and not isinstance(samples_per_class, bool) and samples_per_class == 0)
    m = _check_m(samples_per_class) if sample else 0
    rng = check_random_state(random_state)
    res = _Reservoir(m) if sample else None
    energies, labels = [], []
    n = d = 0
    for x, yv in iter_batches(data, name=name, progress=progress):
        if complexity:
            energies.append(_energies(x, energy, name=f"x of {name}"))
        elif x.dtype.kind in "fc" and not np.isfinite(x).all():
            raise ValueError(f"x of {name} contains NaN or infinite values")
        labels.append(yv)
        if res is not None:
            res.add(x, yv, _keys(rng, len(yv)), n)
        n += x.shape[0]
        d = x.shape[1]
    classes, codes = encode_labels(labels, name=f"y of {name}")
    del labels
    cx = complexity_from_energies(np.concatenate(energies), codes, d, len(classes), energy) \
        if complexity else None
    Xs = ys = rows = None
    if res is not None:
        Xs, ys, rows = res.result(classes)
    return DatasetScan(
        complexity=cx, X_sample=Xs, y_sample=ys, rows=rows, n_samples=n, dim=d,
        classes=tuple(c.item() if hasattr(c, "item") else c for c in classes),
        class_counts=tuple(int(v) for v in np.bincount(codes, minlength=len(classes))),
    )

"""Dataset capacity requirement: Friedland's heuristic (paper 3.1.1)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_features, check_labels


@dataclass(frozen=True)
class DatasetComplexity:
    """Bits of memory-equivalent capacity a network needs for a dataset.

    Attributes
    ----------
    expected_bits : int
        ``ceil(log2(thresholds + 1)) * dim``: what a network that generalises
        needs.
    expected_bits_exact : float
        ``log2(thresholds + 1) * dim`` before rounding.
    max_bits : int
        ``thresholds * (dim + 1) + thresholds``: a lookup table's worth; more
        capacity than this can memorise every label.
    thresholds : int
        Label changes along the samples sorted by energy.
    dim, n_samples, n_classes : int
    energy : str
        ``"sum"`` (signed sum, Friedland's code) or ``"l1"``.
    """

    expected_bits: int
    expected_bits_exact: float
    max_bits: int
    thresholds: int
    dim: int
    n_samples: int
    n_classes: int
    energy: str = "sum"


def _energies(Xa, energy):
    """Row energies in one pass over ``Xa``, which is also the NaN/Inf check.

    A row sum is finite only if every entry is, so the full ``isfinite``
    pass runs only when some energy is not. Integers sum exactly in int64;
    floats in their own precision (as numpy does in Friedland's code).
    """
    kind = Xa.dtype.kind
    if kind in "biu":
        if energy == "l1" and kind == "i":
            Xa = np.abs(Xa.astype(np.int64))
        return Xa.sum(axis=1, dtype=np.int64)
    acc = np.float32 if Xa.dtype.itemsize < 4 else None
    with np.errstate(over="ignore", invalid="ignore"):
        e = (Xa if energy == "sum" else np.abs(Xa)).sum(axis=1, dtype=acc)
    if not np.isfinite(e).all():
        if not np.isfinite(Xa).all():
            raise ValueError("X contains NaN or infinite values")
        # finite entries whose sum overflowed: redo in float64, scaled down
        # (a positive scale keeps the order of the energies)
        Xs = Xa.astype(np.float64) / float(np.abs(Xa).max())
        e = (Xs if energy == "sum" else np.abs(Xs)).sum(axis=1)
    return e


def dataset_complexity(X, y, *, energy: str = "sum") -> DatasetComplexity:
    """Estimate the capacity (bits) a network needs to learn ``(X, y)``.

    Rows are sorted by an energy (stable sort) and the label changes along
    that order are counted; each change is a threshold a network must place.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Features; each sample is flattened.
    y : array-like of shape (n_samples,)
        Labels (ints, strings, or one-hot rows).
    energy : {"sum", "l1"}, default="sum"
        ``"sum"`` is the signed sum of a row, as Friedland's code computes it
        and as reproduces the paper's Table 1; ``"l1"`` is the L1 norm the
        paper's text names. They agree on non-negative data such as images.

    Returns
    -------
    DatasetComplexity

    Examples
    --------
    >>> import numpy as np, tb_nndebug as nd
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> nd.dataset_complexity(X, [0, 1, 1, 0]).expected_bits   # XOR
    4
    """
    if energy not in ("sum", "l1"):
        raise ValueError(f"energy must be 'sum' or 'l1', got {energy!r}")
    Xa = check_features(X, name="X", to_float=False, check_finite=False)
    classes, codes = check_labels(y, name="y", n_samples=Xa.shape[0])
    n, d = Xa.shape
    e = _energies(Xa, energy)
    order = np.argsort(e, kind="stable")
    sorted_codes = codes[order]
    thresholds = int(np.count_nonzero(sorted_codes[1:] != sorted_codes[:-1]))
    exact = math.log2(thresholds + 1) * d
    expected = int(math.ceil(math.log2(thresholds + 1))) * d
    return DatasetComplexity(
        expected_bits=expected,
        expected_bits_exact=float(exact),
        max_bits=thresholds * (d + 1) + thresholds,
        thresholds=thresholds,
        dim=d,
        n_samples=n,
        n_classes=len(classes),
        energy=energy,
    )

"""Class balance: counts, imbalance ratio, rare classes (paper 3.3)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_labels

#: The paper's "rare event": a class under 5 % of the data.
RARE_FRACTION = 0.05


@dataclass(frozen=True)
class ClassBalance:
    """How the labels of a dataset are spread over its classes.

    Attributes
    ----------
    counts : dict
        Label → count, labels in sorted order.
    proportions : dict
        Label → fraction of the data.
    imbalance_ratio : float
        Largest count / smallest count (1.0 = balanced).
    minority_fraction : float
        Fraction of the data in the smallest class.
    rare_classes : tuple
        Labels under ``rare_fraction`` of the data.
    normalized_entropy : float
        Shannon entropy of the proportions / log(K); 1 = perfectly balanced
        (1.0 for a single class by convention).
    n_samples, n_classes : int
    """

    counts: dict
    proportions: dict
    imbalance_ratio: float
    minority_fraction: float
    rare_classes: tuple
    normalized_entropy: float
    n_samples: int
    n_classes: int


def _plain(label):
    return label.item() if hasattr(label, "item") else label


def class_balance(y, *, rare_fraction: float = RARE_FRACTION) -> ClassBalance:
    """Measure how balanced the labels ``y`` are.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels (ints, strings or one-hot rows).
    rare_fraction : float, default=0.05
        A class with a smaller share of the data is reported as rare.

    Returns
    -------
    ClassBalance

    Examples
    --------
    >>> import tb_nndebug as nd
    >>> b = nd.class_balance([0] * 95 + [1] * 5)
    >>> b.imbalance_ratio, b.rare_classes
    (19.0, ())
    """
    if not 0 < rare_fraction < 1:
        raise ValueError(f"rare_fraction must be in (0, 1), got {rare_fraction!r}")
    classes, codes = check_labels(y)
    counts = np.bincount(codes, minlength=len(classes))
    n = int(counts.sum())
    props = counts / n
    k = len(classes)
    if k > 1:
        nz = props[props > 0]
        entropy = float(-(nz * np.log(nz)).sum() / np.log(k))
    else:
        entropy = 1.0
    labels = [_plain(c) for c in classes]
    return ClassBalance(
        counts={lab: int(c) for lab, c in zip(labels, counts)},
        proportions={lab: float(p) for lab, p in zip(labels, props)},
        imbalance_ratio=float(counts.max() / counts.min()),
        minority_fraction=float(counts.min() / n),
        rare_classes=tuple(lab for lab, p in zip(labels, props) if p < rare_fraction),
        normalized_entropy=entropy,
        n_samples=n,
        n_classes=k,
    )

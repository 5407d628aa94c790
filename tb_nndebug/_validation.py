"""Argument checks shared by the public functions, built on scikit-learn's."""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state as _sk_check_random_state


def check_features(X, *, name: str = "X", min_samples: int = 1,
                   to_float: bool = True, check_finite: bool = True) -> np.ndarray:
    """Return ``X`` as a finite float array of shape (n, d), flattened per sample.

    Raises ``ValueError``/``TypeError`` naming ``name`` for NaN/Inf, empty,
    0-d/1-d or non-numeric input. ``to_float=False`` keeps integer/bool
    dtypes and ``check_finite=False`` skips the NaN/Inf pass, for callers
    that can check more cheaply themselves (see ``dataset_complexity``).
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array-like of numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(
            f"{name} must have at least 2 dimensions (n_samples, n_features...), "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} must have at least {min_samples} sample(s), got {arr.shape[0]}"
        )
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no features (shape {arr.shape})")
    if to_float and not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if check_finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def label_vector(y, *, name: str = "y") -> np.ndarray:
    """``y`` as a 1-d array: one-hot / probability rows become their argmax."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] > 1:
        arr = arr.argmax(axis=1)
    elif arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d (or one-hot 2-d), got shape {np.shape(y)}")
    return arr


def check_labels(y, *, name: str = "y", n_samples: int | None = None):
    """Return ``(classes, codes)``: sorted unique labels and 0..K-1 codes.

    Labels may be ints, strings or one-hot / probability rows (argmax taken).
    """
    arr = label_vector(y, name=name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have different lengths: {n_samples} != {arr.shape[0]}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if arr.dtype == object:
        try:
            arr = arr.astype(str)
        except Exception:
            raise TypeError(f"{name} must hold numbers or strings") from None
    classes, codes = np.unique(arr, return_inverse=True)
    return classes, codes.reshape(-1)


def check_X_y(X, y, *, x_name="X", y_name="y", min_classes: int = 1):
    """Validate features and labels together; see :func:`check_features`."""
    Xa = check_features(X, name=x_name)
    classes, codes = check_labels(y, name=y_name, n_samples=Xa.shape[0])
    if len(classes) < min_classes:
        raise ValueError(
            f"{y_name} must contain at least {min_classes} classes, got {len(classes)}"
        )
    return Xa, classes, codes


def check_positive_int(value, *, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_random_state(random_state):
    """``None``, an int or a ``RandomState`` → ``numpy.random.RandomState``."""
    try:
        return _sk_check_random_state(random_state)
    except ValueError:
        raise TypeError(
            f"random_state must be None, an int or a numpy RandomState, got {random_state!r}"
        ) from None

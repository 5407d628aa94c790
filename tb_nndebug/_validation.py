"""Argument checks shared by the public functions, built on scikit-learn's."""
from __future__ import annotations

import math
import numbers
import os
import re

import numpy as np
from sklearn.utils import check_consistent_length as _sk_check_consistent_length
from sklearn.utils import check_random_state as _sk_check_random_state
from sklearn.utils import check_scalar as _sk_check_scalar


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
        raise ValueError(f"{name} must hold at least one label, got an empty array")
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


def check_X_y(X, y, *, x_name="X", y_name="y", min_classes: int = 1, to_float: bool = True,
              check_finite: bool = True):
    """Validate features and labels together; see :func:`check_features` (``to_float=False``
    keeps the caller's dtype, e.g. uint8 images, instead of a float64 copy)."""
    Xa = check_features(X, name=x_name, to_float=to_float, check_finite=check_finite)
    classes, codes = check_labels(y, name=y_name, n_samples=Xa.shape[0])
    if len(classes) < min_classes:
        raise ValueError(
            f"{y_name} must contain at least {min_classes} classes, got {len(classes)}"
        )
    return Xa, classes, codes


def check_random_state(random_state):
    """``None``, an int or a ``RandomState`` → ``numpy.random.RandomState``."""
    try:
        return _sk_check_random_state(random_state)
    except ValueError:
        raise TypeError(
            f"random_state must be None, an int or a numpy RandomState, got {random_state!r}"
        ) from None


# ------------------------------------------------------------------ scalar constraints
#
# One helper per idea, each naming the argument, what was expected and what came.
# ``check_params`` checks a table ``{"argument": constraint}`` the way scikit-learn's
# ``_parameter_constraints`` do; the constraints below are its vocabulary.


def check_int(value, *, name: str, minimum: int | None = 1, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` (bools are not ints); see ``check_scalar``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be an integer{none}, got {type(value).__name__} "
                        f"{value!r}")
    try:
        _sk_check_scalar(value, name, numbers.Integral, min_val=minimum, max_val=maximum)
    except ValueError:
        bound = (f">= {minimum}" if maximum is None else
                 f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]")
        raise ValueError(f"{name} must be {bound}, got {value}") from None
    return int(value)


def check_positive_int(value, *, name: str, minimum: int = 1) -> int:
    """An int ``>= minimum`` (1 by default); see :func:`check_int`."""
    return check_int(value, name=name, minimum=minimum)


def check_number(value, *, name: str, low: float | None = None, high: float | None = None,
                 inclusive: str = "both", allow_none: bool = False) -> float | None:
    """``value`` as a finite float within ``low``/``high`` (``inclusive`` as ``check_scalar``'s
    ``include_boundaries``: "both", "left", "right" or "neither")."""
    if value is None and allow_none:
        return None
    none = " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number{none}, got {type(value).__name__} {value!r}")
    try:
        if not math.isfinite(value):
            raise ValueError
        _sk_check_scalar(value, name, numbers.Real, min_val=low, max_val=high,
                         include_boundaries=_boundaries(low, high, inclusive))
    except ValueError:
        raise ValueError(f"{name} must be a finite number{_range_text(low, high, inclusive)}"
                         f"{none}, got {value!r}") from None
    return float(value)


def _boundaries(low, high, inclusive) -> str:
    """``inclusive`` as ``check_scalar`` accepts it when one bound is missing."""
    left = inclusive in ("both", "left") and low is not None
    right = inclusive in ("both", "right") and high is not None
    return {(True, True): "both", (True, False): "left", (False, True): "right",
            (False, False): "neither"}[left, right]


def _range_text(low, high, inclusive) -> str:
    left = inclusive in ("both", "left")
    right = inclusive in ("both", "right")
    if low is not None and high is not None:
        return f" in {'[' if left else '('}{low:g}, {high:g}{']' if right else ')'}"
    if low is not None:
        return f" {'>=' if left else '>'} {low:g}"
    if high is not None:
        return f" {'<=' if right else '<'} {high:g}"
    return ""


def check_positive_number(value, *, name: str, allow_none: bool = False) -> float | None:
    """A finite number ``> 0``."""
    return check_number(value, name=name, low=0, inclusive="neither", allow_none=allow_none)


def check_option(value, *, name: str, options) -> object:
    """``value`` if it is one of ``options`` (compared with ``==``)."""
    options = tuple(options)
    if not any(_same(value, o) for o in options):
        shown = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {shown}, got {value!r}")
    return value


def _same(value, option) -> bool:
    if value is option:
        return True
    if option is None or value is None or isinstance(value, bool) != isinstance(option, bool):
        return False
    try:
        return bool(value == option)
    except Exception:  # arrays and other values without a plain ==
        return False


def check_bool(value, *, name: str) -> bool:
    """``value`` if it is True or False (numpy bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_str(value, *, name: str, allow_none: bool = False, nonempty: bool = True):
    """``value`` if it is a (non-empty) string."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or (nonempty and not value.strip()):
        what = "a non-empty string" if nonempty else "a string"
        raise TypeError(f"{name} must be {what}{' or None' if allow_none else ''}, "
                        f"got {type(value).__name__} {value!r}")
    return value


def check_path(value, *, name: str, kind: str | None = None, suffixes=None):
    """``value`` (str or ``os.PathLike``) as a ``pathlib.Path``. ``kind="file"`` or ``"dir"``
    requires an existing entry of that kind, ``suffixes`` one of those file endings.
    Raises ``TypeError`` for a non-path and ``ValueError`` for a missing or wrong entry."""
    from pathlib import Path

    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)) or \
            (isinstance(value, str) and not value.strip()):
        raise TypeError(f"{name} must be a non-empty path (str or os.PathLike), "
                        f"got {type(value).__name__} {value!r}")
    path = Path(os.fspath(value))
    what = {"file": "file", "dir": "directory"}.get(kind, "path")
    if kind is not None and not path.exists():
        raise ValueError(f"{name}: no such {what}: {str(path)!r} (expected an existing {what})")
    if kind == "file" and not path.is_file():
        raise ValueError(f"{name} must be a file, got the directory {str(path)!r}")
    if kind == "dir" and not path.is_dir():
        raise ValueError(f"{name} must be a directory, got the file {str(path)!r}")
    if suffixes is not None and path.suffix not in suffixes:
        shown = " or ".join(suffixes)
        raise ValueError(f"{name}: expected a {shown} file, got {path.name!r}")
    return path


def check_shape(value, *, name: str = "input_shape", ndim: int | None = None,
                min_side: int | None = None, what: str = "") -> tuple:
    """A per-sample shape as a tuple of positive ints; ``ndim`` fixes its length and
    ``min_side`` bounds its first two (spatial) sizes."""
    try:
        shape = tuple(int(d) for d in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a tuple of ints, got {value!r}") from None
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"{name} must hold positive sizes, got {value!r}")
    suffix = f" for {what}" if what else ""
    if ndim == 3 and len(shape) != 3:
        raise ValueError(f"{name} must be (height, width, channels){suffix}, got {value!r}")
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} sizes{suffix}, got {value!r}")
    if min_side is not None and min(shape[:2]) < min_side:
        raise ValueError(f"{name} must be at least {min_side}x{min_side}{suffix}, "
                         f"got {value!r}")
    return shape


def check_interval(value, *, name: str) -> tuple[float, float]:
    """A pair ``(low, high)`` of finite numbers with ``low < high``."""
    try:
        lo, hi = (float(c) for c in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (min, max), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with min < max, got {value!r}")
    return lo, hi


def check_consistent_length(*arrays, names=("X", "y"), context: str | None = None,
                            min_samples: int = 0) -> None:
    """Raise ``ValueError`` naming the arrays when their first dimensions differ (scikit-learn's
    ``check_consistent_length``) or hold fewer than ``min_samples`` samples; ``context``
    prefixes the message (the argument or file the arrays came from)."""
    where = f"{context}: " if context else ""
    try:
        _sk_check_consistent_length(*arrays)
    except ValueError:
        lengths = " != ".join(str(len(a)) for a in arrays)
        raise ValueError(f"{where}{' and '.join(names)} have different lengths: {lengths}; "
                         "they must hold one entry per sample") from None
    n = len(arrays[0]) if arrays else 0
    if n < min_samples:
        raise ValueError(f"{where}{' and '.join(names)} must hold at least {min_samples} "
                         f"sample(s), got {n}")


class Constraint:
    """A named check for :func:`check_params`: ``Constraint(check_int, minimum=0)``."""

    def __init__(self, check, **options):
        self.check, self.options = check, options

    def __call__(self, value, *, name):
        return self.check(value, name=name, **self.options)

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.check.__name__}({opts})"


def check_params(params: dict, constraints: dict) -> dict:
    """Check every ``params[name]`` against ``constraints[name]``; return the checked values.

    ``constraints`` is a table ``{"argument": Constraint(...) or callable(value, *, name)}``, as
    scikit-learn's ``_parameter_constraints``; arguments without a constraint pass unchanged.
    """
    out = dict(params)
    for name, constraint in constraints.items():
        if name in params:
            out[name] = constraint(params[name], name=name)
    return out


#: Shorthands for the constraint tables.
def Int(minimum=1, maximum=None, allow_none=False):  # noqa: N802 - reads as a type
    return Constraint(check_int, minimum=minimum, maximum=maximum, allow_none=allow_none)


def Real(low=None, high=None, inclusive="both", allow_none=False):  # noqa: N802
    return Constraint(check_number, low=low, high=high, inclusive=inclusive,
                      allow_none=allow_none)


def Options(*options):  # noqa: N802
    return Constraint(check_option, options=options)


def Bool():  # noqa: N802
    return Constraint(check_bool)


def is_url(path) -> bool:
    """True for ``scheme://...`` paths (gs, s3, hdfs, ram), which stay URLs."""
    return isinstance(path, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path) is not None


def check_writable_dir(value, *, name: str = "log_dir") -> str:
    """``value`` as an absolute path that is, or can be created as, a writable directory
    (its nearest existing ancestor must be a writable directory).

    A URL (``gs://bucket/logs``, ``s3://...``, ``ram://...``) is kept as it is, for
    TensorFlow's file system layer to open; it is not checked here.
    """
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), "
                        f"got {type(value).__name__} {value!r}")
    if is_url(os.fspath(value)):
        return os.fspath(value)
    path = os.path.abspath(os.fspath(value))
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.exists(probe) and not os.path.isdir(probe):
        raise ValueError(f"{name} {path!r} is not usable: {probe!r} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {path!r} is not writable (no write permission on {probe!r})")
    return path


def check_plain_name(value, *, name: str, allow_none: bool = False):
    """``value`` if it can name one directory: a non-empty string without a path
    separator, not ``.`` or ``..``."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value or os.sep in value or value in (".", ".."):
        raise ValueError(f"{name} must be a plain directory name (a non-empty string without "
                         f"{os.sep!r}, not '.' or '..'){' or None' if allow_none else ''}, "
                         f"got {value!r}")
    return value


def check_count_or_fraction(value, *, name: str, allow_none: bool = False):
    """An int ``>= 1`` (a count) or a float in ``(0, 1]`` (a fraction of the whole)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an int, a fraction{' or None' if allow_none else ''}, "
                        f"got {type(value).__name__} {value!r}")
    if isinstance(value, numbers.Integral):
        return check_int(value, name=name, minimum=1)
    if not 0.0 < float(value) <= 1.0:
        raise ValueError(f"{name} as a fraction must be in (0, 1], got {value!r}")
    return float(value)


def check_metric(metric, X=None, *, name: str = "metric"):
    """A scikit-learn ``pairwise_distances`` metric: a callable or a name that works on
    one row of ``X`` (tried when ``X`` is given)."""
    if metric == "euclidean" or callable(metric):
        return metric
    if not isinstance(metric, str):
        raise TypeError(f"{name} must be a string or a callable, got {type(metric).__name__} "
                        f"{metric!r}")
    if X is not None:
        from sklearn.metrics import pairwise_distances

        try:
            pairwise_distances(X[:1], X[:1], metric=metric)
        except Exception as exc:
            raise ValueError(f"{name} {metric!r} is not usable: {exc}") from None
    return metric


def check_callable(value, *, name: str, what: str = "", allow_none: bool = False):
    """``value`` if it is callable (``what`` describes the expected signature)."""
    if value is None and allow_none:
        return None
    if not callable(value):
        sig = f" ({what})" if what else ""
        raise TypeError(f"{name} must be callable{sig}{' or None' if allow_none else ''}, "
                        f"got {type(value).__name__} {value!r}")
    return value

"""Resampling imbalanced data (paper 3.3) on imbalanced-learn's samplers.

* :func:`resample` runs one of imbalanced-learn's samplers — SMOTE
  over-sampling, Tomek-link under-sampling or both — on tables *or* images
  (samples are flattened for the sampler and given their shape back).
* :class:`CapacityGuidedResampler` is the paper's own method (3.3.3):
  shuffle, resample, measure the dataset's capacity requirement
  (:func:`tb_nndebug.dataset_complexity`), repeat, keep the result that needs
  the fewest bits. It is an imbalanced-learn sampler, so it drops into an
  ``imblearn.pipeline.Pipeline``; every trial is recorded in ``trials_`` so
  the choice can be shown (``tb_nndebug.summary.resampling``).

Nothing here imports TensorFlow.

Small classes and SMOTE's ``k_neighbors``: SMOTE interpolates between a
minority sample and one of its ``k_neighbors`` nearest same-class
neighbours, so every class it over-samples needs at least
``k_neighbors + 1`` samples. This module does **not** shrink
``k_neighbors`` behind the user's back: it raises a ``ValueError`` naming
``k_neighbors``, the class and the largest value that would work.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from imblearn.base import BaseSampler
from imblearn.combine import SMOTETomek
from imblearn.over_sampling import SMOTE
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.under_sampling import TomekLinks
from imblearn.utils import check_sampling_strategy
from sklearn.base import clone
from sklearn.utils.multiclass import type_of_target

from ._validation import (
    check_features,
    check_labels,
    check_positive_int,
    check_random_state,
)
from .measures.complexity import dataset_complexity

METHODS = ("smote", "tomek", "smote_tomek")

#: SMOTE's default number of neighbours in imbalanced-learn.
_SMOTE_DEFAULT_K = 5


# --------------------------------------------------------------------------
# validation and shape handling


@dataclass(frozen=True)
class _Prepared:
    """Validated input: flat float features, 1-d labels, how to undo both."""

    X: np.ndarray           # (n, d) float
    y: np.ndarray           # (n,) labels as given (ints or strings)
    sample_shape: tuple     # shape of one sample in the caller's X
    x_dtype: np.dtype       # the caller's X dtype
    y_kind: str             # "vector", "column" or "onehot"
    y_dtype: np.dtype
    n_onehot: int


def prepare(X, y, *, min_classes: int = 2) -> _Prepared:
    """Validate ``X``/``y`` for resampling and flatten them.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Features (tables or images); each sample is flattened.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels: ints or strings, a column, or one-hot rows.
    min_classes : int, default=2
        Fewest distinct classes ``y`` must hold.

    Returns
    -------
    _Prepared
        ``X`` as flat floats ``(n, d)``, ``y`` as 1-d labels, and how to give
        resampled arrays the caller's sample shape, dtype and label form back.

    Raises
    ------
    ValueError
        If ``X``/``y`` are malformed, ``y`` holds no class labels, or fewer
        than ``min_classes`` classes.
    """
    Xa = check_features(X, name="X")
    x_orig = np.asarray(X)
    check_labels(y, name="y", n_samples=Xa.shape[0])  # lengths, NaN, rank
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] > 1:
        y_kind, y1, n_onehot = "onehot", y_arr.argmax(axis=1), y_arr.shape[1]
    elif y_arr.ndim == 2:
        y_kind, y1, n_onehot = "column", y_arr[:, 0], 0
    else:
        y_kind, y1, n_onehot = "vector", y_arr, 0
    if y1.dtype == object:
        y1 = y1.astype(str)
    target = type_of_target(y1)
    if target not in ("binary", "multiclass"):
        raise ValueError(
            f"y must hold class labels (ints or strings), got {target!r} values"
        )
    n_classes = len(np.unique(y1))
    if n_classes < min_classes:
        raise ValueError(
            f"y must contain at least {min_classes} classes to resample, got {n_classes}"
        )
    return _Prepared(
        X=Xa, y=y1, sample_shape=tuple(x_orig.shape[1:]), x_dtype=x_orig.dtype,
        y_kind=y_kind, y_dtype=y_arr.dtype, n_onehot=n_onehot,
    )


def _restore(prep: _Prepared, X_flat: np.ndarray, y1: np.ndarray):
    """Give resampled arrays the caller's sample shape, dtype and label form."""
    X_out = np.asarray(X_flat).reshape((X_flat.shape[0],) + prep.sample_shape)
    dt = prep.x_dtype
    if dt == np.bool_:
        X_out = np.rint(X_out).clip(0, 1).astype(bool)
    elif np.issubdtype(dt, np.integer):
        # synthetic pixels are interpolations; round them back into the dtype
        info = np.iinfo(dt)
        X_out = np.rint(X_out).clip(info.min, info.max).astype(dt)
    elif X_out.dtype != dt:
        X_out = X_out.astype(dt)
    if prep.y_kind == "onehot":
        y_out = np.eye(prep.n_onehot, dtype=prep.y_dtype)[y1.astype(int)]
    elif prep.y_kind == "column":
        y_out = y1.reshape(-1, 1)
    else:
        y_out = y1
    return X_out, y_out


def _smote_k(sampler) -> int | None:
    """The ``k_neighbors`` a SMOTE-based sampler will use, if it is an int."""
    params = sampler.get_params(deep=True)
    if "k_neighbors" in params:
        k = params["k_neighbors"]
    elif "smote__k_neighbors" in params:
        k = params["smote__k_neighbors"]
    elif isinstance(sampler, SMOTETomek) and params.get("smote") is None:
        k = _SMOTE_DEFAULT_K
    else:
        return None
    return int(k) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else None


def _check_class_sizes(sampler, y) -> None:
    """Raise a clear error if SMOTE would have too few neighbours in a class."""
    k = _smote_k(sampler)
    if k is None:
        return
    strategy = sampler.get_params().get("sampling_strategy", "auto")
    try:
        targets = check_sampling_strategy(strategy, y, "over-sampling")
    except ValueError as exc:
        raise ValueError(f"sampling_strategy: {exc}") from None
    labels, counts = np.unique(y, return_counts=True)
    sizes = dict(zip(labels.tolist(), counts.tolist()))
    for label, n_new in targets.items():
        label = label.item() if hasattr(label, "item") else label
        n = sizes.get(label, 0)
        if n_new > 0 and n <= k:
            hint = (f"pass k_neighbors={n - 1} or fewer" if n > 1
                    else "a class of one sample cannot be over-sampled by SMOTE; "
                         "remove it or collect more samples")
            raise ValueError(
                f"k_neighbors={k} needs at least {k + 1} samples in every class SMOTE "
                f"over-samples, but class {label!r} has {n}: {hint}"
            )


def _make_sampler(method: str, random_state, options: dict):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    opts = dict(options)
    try:
        if method == "smote":
            return SMOTE(random_state=random_state, **opts)
        if method == "tomek":
            return TomekLinks(**opts)  # deterministic: no random_state
        smote_opts = {k: opts.pop(k) for k in ("k_neighbors",) if k in opts}
        smote = SMOTE(random_state=random_state,
                      sampling_strategy=opts.get("sampling_strategy", "auto"), **smote_opts)
        return SMOTETomek(smote=smote, random_state=random_state, **opts)
    except TypeError as exc:
        raise TypeError(f"unknown option for method {method!r}: {exc}") from None


def _run_sampler(sampler, X: np.ndarray, y: np.ndarray):
    _check_class_sizes(sampler, y)
    return sampler.fit_resample(X, y)


# --------------------------------------------------------------------------
# public API


def resample(X, y, method: str = "smote", random_state=None, **options):
    """Rebalance ``(X, y)`` with one of imbalanced-learn's samplers.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Tables ``(n, d)`` or images ``(n, h, w, c)``; samples are flattened
        for the sampler and the result is given the same sample shape back.
        Integer images come back as the same dtype (synthetic pixels rounded).
    y : array-like of shape (n_samples,)
        Class labels: ints or strings (or one-hot rows, returned one-hot).
    method : {"smote", "tomek", "smote_tomek"}, default="smote"
        ``"smote"``: :class:`imblearn.over_sampling.SMOTE` — every class is
        over-sampled with synthetic samples up to the majority's count.
        ``"tomek"``: :class:`imblearn.under_sampling.TomekLinks` — the
        non-minority member of every Tomek link is removed.
        ``"smote_tomek"``: :class:`imblearn.combine.SMOTETomek` — SMOTE, then
        *both* members of every Tomek link in the result are removed.
    random_state : None, int or numpy.random.RandomState
        Seeds SMOTE's choices (Tomek links are deterministic).
    **options
        Passed to the sampler, e.g. ``k_neighbors=3`` or
        ``sampling_strategy="not majority"``. For ``"smote_tomek"``,
        ``k_neighbors`` goes to its SMOTE.

    Returns
    -------
    X_res, y_res : ndarray
        The resampled data; for SMOTE the original samples come first, in
        their original order, followed by the synthetic ones.

    Raises
    ------
    ValueError
        Unknown ``method``; one class only; NaN/Inf in ``X``; ``X`` and ``y``
        of different lengths; a class SMOTE must over-sample having no more
        than ``k_neighbors`` samples (the message says what to pass instead).

    Examples
    --------
    >>> import numpy as np, tb_nndebug as nd
    >>> X = np.arange(40, dtype=float).reshape(20, 2)
    >>> y = np.array([0] * 14 + [1] * 6)
    >>> X_res, y_res = nd.resample(X, y, "smote", random_state=0)
    >>> np.bincount(y_res)
    array([14, 14])
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    check_random_state(random_state)
    prep = prepare(X, y)
    sampler = _make_sampler(method, random_state, options)
    X_res, y_res = _run_sampler(sampler, prep.X, prep.y)
    return _restore(prep, X_res, y_res)


def synthetic_mask(X_before, X_after) -> np.ndarray:
    """Which samples of ``X_after`` are not among the samples of ``X_before``.

    Works for any sampler (over-samplers add rows that were not there;
    under-samplers only keep rows), by exact comparison of flattened rows. A
    synthetic sample identical to an original (SMOTE between duplicates)
    counts as not synthetic.

    Returns
    -------
    ndarray of bool, shape (len(X_after),)
    """
    before = np.ascontiguousarray(np.asarray(X_before).reshape(len(X_before), -1))
    after = np.ascontiguousarray(np.asarray(X_after).reshape(len(X_after), -1))
    if before.shape[1] != after.shape[1]:
        raise ValueError(
            f"X_before and X_after have different sample sizes: "
            f"{before.shape[1]} != {after.shape[1]}"
        )
    after = after.astype(before.dtype, copy=False)
    seen = {row.tobytes() for row in before}
    return np.fromiter((row.tobytes() not in seen for row in after), dtype=bool,
                       count=len(after))


def _sampler_synthetic_mask(sampler, X_in, X_out) -> np.ndarray:
    """Synthetic rows of a fitted sampler's output, from how imbalanced-learn
    builds it (over-samplers put the originals first); row matching otherwise.
    """
    n_in, n_out = len(X_in), len(X_out)
    if isinstance(sampler, SMOTETomek):
        return np.asarray(sampler.tomek_.sample_indices_) >= n_in
    if isinstance(sampler, BaseOverSampler):
        return np.arange(n_out) >= n_in
    if hasattr(sampler, "sample_indices_"):  # under-samplers only keep rows
        return np.zeros(n_out, dtype=bool)
    return synthetic_mask(X_in, X_out)


@dataclass(frozen=True)
class ResamplingTrial:
    """One shuffle-and-resample trial of :class:`CapacityGuidedResampler`.

    Attributes
    ----------
    index : int
        Position in ``trials_``.
    seed : int
        Seeds both the shuffle and the sampler of this trial.
    counts : dict
        Label → number of samples after resampling.
    n_samples : int
    expected_bits : int
        Capacity requirement of the resampled data (rounded, see
        :class:`tb_nndebug.DatasetComplexity`).
    expected_bits_exact : float
        The same before rounding up; breaks ties between equal
        ``expected_bits``.
    thresholds : int
        Label changes along the energy-sorted data.
    """

    index: int
    seed: int
    counts: dict
    n_samples: int
    expected_bits: int
    expected_bits_exact: float
    thresholds: int

    def to_dict(self) -> dict:
        """The trial as the ``resampling`` record stores it."""
        return {
            "index": self.index, "seed": self.seed,
            "counts": {str(k): v for k, v in self.counts.items()},
            "n_samples": self.n_samples, "expected_bits": self.expected_bits,
            "expected_bits_exact": self.expected_bits_exact,
            "thresholds": self.thresholds,
        }


def _counts(y) -> dict:
    labels, counts = np.unique(y, return_counts=True)
    return {(lab.item() if hasattr(lab, "item") else lab): int(c)
            for lab, c in zip(labels, counts)}


class CapacityGuidedResampler(BaseSampler):
    """The paper's capacity-guided resampling (3.3.3).

    Repeats *shuffle the data → resample it → measure the capacity it
    requires* ``n_trials`` times and keeps the resampled dataset that needs
    the fewest bits (``expected_bits``; ties are broken by the unrounded
    ``expected_bits_exact``, then by the earlier trial). Shuffling matters
    because the sampler's random choices and the stable sort of the
    complexity measure both follow sample order.

    An imbalanced-learn sampler: ``fit_resample``, ``get_params`` /
    ``set_params``, ``sklearn.base.clone`` and ``imblearn.pipeline.Pipeline``
    all work; ``__init__`` only stores its parameters.

    Parameters
    ----------
    sampler : {"smote", "tomek", "smote_tomek"} or imbalanced-learn sampler, default="smote"
        What each trial runs; a sampler object (e.g. ``SMOTE(k_neighbors=3)``)
        is cloned per trial and given the trial's seed as ``random_state``.
    n_trials : int, default=10
    random_state : None, int or numpy.random.RandomState
        Draws the trial seeds.
    energy : {"sum", "l1"}, default="sum"
        Passed to :func:`tb_nndebug.dataset_complexity`.
    progress : bool, default=False
        Show a tqdm progress bar over the trials.

    Attributes
    ----------
    trials_ : list of ResamplingTrial
        Every trial, in order.
    chosen_ : int
        Index in ``trials_`` of the kept result.
    best_trial_ : ResamplingTrial
    best_expected_bits_ : int
    input_expected_bits_ : int
        Capacity requirement of the data before resampling.
    input_counts_ : dict
        Class counts before resampling.
    synthetic_mask_ : ndarray of bool
        For the returned samples: True where the sample was not in the input.
    timings_ : dict
        Seconds spent shuffling, resampling and measuring, summed over trials.

    Examples
    --------
    >>> import numpy as np, tb_nndebug as nd
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 3)); y = np.array([0] * 50 + [1] * 10)
    >>> r = nd.CapacityGuidedResampler(n_trials=3, random_state=0)
    >>> X_res, y_res = r.fit_resample(X, y)
    >>> r.best_expected_bits_ == min(t.expected_bits for t in r.trials_)
    True
    """

    _sampling_type = "bypass"

    def __init__(self, sampler="smote", n_trials=10, random_state=None, energy="sum",
                 progress=False):
        self.sampler = sampler
        self.n_trials = n_trials
        self.random_state = random_state
        self.energy = energy
        self.progress = progress

    def _base_sampler(self):
        if isinstance(self.sampler, str):
            return _make_sampler(self.sampler, None, {})
        if not hasattr(self.sampler, "fit_resample"):
            raise TypeError(
                f"sampler must be one of {METHODS} or an imbalanced-learn sampler, "
                f"got {type(self.sampler).__name__}"
            )
        return clone(self.sampler)

    def _method_name(self) -> str:
        inner = self.sampler if isinstance(self.sampler, str) else type(self.sampler).__name__
        return f"capacity_guided({inner})"

    def fit(self, X, y, **params):
        """Run the trials and record them; see :meth:`fit_resample`."""
        self._search(X, y)
        return self

    def fit_resample(self, X, y, **params):
        """Resample ``(X, y)`` ``n_trials`` times and return the leanest result.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Tables or images (flattened for the sampler, shape restored).
        y : array-like of shape (n_samples,)
            Class labels (ints or strings).

        Returns
        -------
        X_res, y_res : ndarray
            The chosen trial's resampled data (in that trial's shuffled order).
        """
        return self._search(X, y)

    def _fit_resample(self, X, y):  # imbalanced-learn's abstract hook
        return self._search(X, y)

    def _search(self, X, y):
        n_trials = check_positive_int(self.n_trials, name="n_trials")
        if self.energy not in ("sum", "l1"):
            raise ValueError(f"energy must be 'sum' or 'l1', got {self.energy!r}")
        rng = check_random_state(self.random_state)
        base = self._base_sampler()
        prep = prepare(X, y)
        _check_class_sizes(base, prep.y)
        n = prep.X.shape[0]
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_trials)
        # every random_state in the sampler (SMOTETomek's inner SMOTE too)
        rs_params = [k for k in base.get_params(deep=True)
                     if k == "random_state" or k.endswith("__random_state")]

        trials, best, best_key = [], None, None
        timings = {"shuffle": 0.0, "resample": 0.0, "measure": 0.0}
        iterator = range(n_trials)
        if self.progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, desc="capacity-guided resampling", unit="trial")
        for i in iterator:
            seed = int(seeds[i])
            t0 = time.perf_counter()
            order = np.random.RandomState(seed).permutation(n)
            Xs, ys = prep.X[order], prep.y[order]
            t1 = time.perf_counter()
            sampler = clone(base)
            if rs_params:
                sampler.set_params(**{k: seed for k in rs_params})
            X_res, y_res = sampler.fit_resample(Xs, ys)
            t2 = time.perf_counter()
            c = dataset_complexity(X_res, y_res, energy=self.energy)
            t3 = time.perf_counter()
            timings["shuffle"] += t1 - t0
            timings["resample"] += t2 - t1
            timings["measure"] += t3 - t2
            trial = ResamplingTrial(
                index=i, seed=seed, counts=_counts(y_res), n_samples=len(y_res),
                expected_bits=c.expected_bits, expected_bits_exact=c.expected_bits_exact,
                thresholds=c.thresholds,
            )
            trials.append(trial)
            key = (c.expected_bits, c.expected_bits_exact)
            if best_key is None or key < best_key:
                best_key = key
                best = (i, X_res, y_res, _sampler_synthetic_mask(sampler, Xs, X_res))

        self.trials_ = trials
        self.chosen_ = best[0]
        self.best_trial_ = trials[best[0]]
        self.best_expected_bits_ = self.best_trial_.expected_bits
        self.input_expected_bits_ = dataset_complexity(
            prep.X, prep.y, energy=self.energy).expected_bits
        self.input_counts_ = _counts(prep.y)
        self.method_ = self._method_name()
        self.n_features_in_ = prep.X.shape[1]
        self.timings_ = timings
        X_best, y_best = best[1], best[2]
        self.synthetic_mask_ = best[3]
        return _restore(prep, X_best, y_best)

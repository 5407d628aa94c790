"""The paper's capacity sweep (section 3.4): is a smaller network more robust?

Build one architecture at several capacity levels, train each, and measure
its capacity (Algorithm 1), its accuracy and its robustness
(:func:`tb_nndebug.robustness`). Each level is logged as its own TensorBoard
run, so the Debugger tab's comparison view lines them up.

The search rule (``levels=None``), after the paper's "100 %, 50 %, 75 %, …":

1. Level 1.0 is the reference; its test accuracy ``A`` sets the bar: a
   level *keeps accuracy* when its accuracy is at least
   ``A - accuracy_tolerance``.
2. Bisection on ``(lo, hi] = (0, 1]``: the next level is ``(lo + hi) / 2``;
   if it keeps accuracy the search goes lower (``hi = level``; smaller is
   the paper's hypothesis for more robust), otherwise higher
   (``lo = level``). So 1.0, 0.5, then 0.25 or 0.75, … — ``n_levels`` in all.
3. The *best* level is the most robust (largest median pixel count, or
   median ε with ``score="eps"``; ties → the smaller level) among the
   evaluated levels that keep accuracy. The rows hold every measurement, so
   whether robustness really rises as capacity falls is read off them, not
   assumed.

With an explicit ``levels=(...)`` exactly those levels are run, in order
(the first is the reference).
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    Constraint,
    Int,
    Options,
    Real,
    check_callable,
    check_params,
    check_plain_name,
    check_positive_number,
    check_random_state,
)
from ._values import finite_or_none
from .measures.accuracy import accuracy

__all__ = ["capacity_sweep", "SweepResult", "SweepRow"]


@dataclass(frozen=True, eq=False)
class SweepRow:
    """One capacity level: what was built, how it trained, how robust it is."""

    level: float
    target_bits: float | None
    bits: int
    n_params: int
    accuracy: float
    keeps_accuracy: bool
    median_eps: float
    median_pixels: float
    pixel_fraction: float
    censored_fraction: float
    run_dir: str | None
    train_seconds: float
    robustness_seconds: float
    robustness: object = field(repr=False, default=None)

    def to_dict(self) -> dict:
        """Numbers only (non-finite numbers become ``None``)."""
        fin = finite_or_none
        return {
            "level": self.level, "target_bits": fin(self.target_bits), "bits": self.bits,
            "n_params": self.n_params, "accuracy": self.accuracy,
            "keeps_accuracy": self.keeps_accuracy, "median_eps": fin(self.median_eps),
            "median_pixels": fin(self.median_pixels),
            "pixel_fraction": fin(self.pixel_fraction),
            "censored_fraction": self.censored_fraction, "run_dir": self.run_dir,
            "train_seconds": self.train_seconds, "robustness_seconds": self.robustness_seconds,
        }


@dataclass(frozen=True, eq=False)
class SweepResult:
    """All levels of a sweep, in the order they were run."""

    rows: tuple
    architecture: str | None
    reference_accuracy: float
    accuracy_tolerance: float
    score: str
    best_level: float | None
    rule: str

    def row(self, level: float) -> SweepRow:
        for r in self.rows:
            if math.isclose(r.level, level):
                return r
        raise KeyError(level)

    def sorted_rows(self) -> list:
        """Rows from the largest capacity to the smallest."""
        return sorted(self.rows, key=lambda r: -r.level)

    def to_dicts(self) -> list:
        return [dict(r.to_dict(), architecture=self.architecture,
                     best=(self.best_level is not None and math.isclose(r.level, self.best_level)))
                for r in self.rows]

    def table(self) -> str:
        """A plain-text table, largest capacity first."""
        head = (f"{'level':>6} {'bits':>9} {'params':>9} {'acc':>6} {'keeps':>5} "
                f"{'med_eps':>8} {'med_px':>7} {'censored':>8}")
        lines = [head]
        for r in self.sorted_rows():
            star = " *" if self.best_level is not None and math.isclose(r.level,
                                                                         self.best_level) else ""
            lines.append(
                f"{r.level:>6.3g} {r.bits:>9d} {r.n_params:>9d} {r.accuracy:>6.3f} "
                f"{('yes' if r.keeps_accuracy else 'no'):>5} {_fmt(r.median_eps, 4):>8} "
                f"{_fmt(r.median_pixels, 1):>7} {r.censored_fraction:>8.2f}{star}")
        return "\n".join(lines)


def _fmt(v, digits):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if math.isinf(v):
        return ">max"
    return f"{v:.{digits}f}"


def _default_callbacks(run_dir):
    import keras

    cbs = [keras.callbacks.TensorBoard(log_dir=run_dir)]
    from .callback import DebuggerCallback

    return cbs + [DebuggerCallback(run_dir, verbose=0)]


def capacity_sweep(build_model, train, X_test, y_test, *, levels=None, n_levels=4,
                   accuracy_tolerance=0.02, score="pixels", logdir=None, architecture=None,
                   callbacks=None, robustness_samples=100, robustness_kwargs=None,
                   random_state=0, progress=True) -> SweepResult:
    """Build, train and attack one architecture at several capacity levels.

    Parameters
    ----------
    build_model : callable
        ``build_model(level) -> keras.Model`` for a capacity ``level`` (1.0 =
        the reference capacity), e.g. ``lambda lv: nd.models.alexnet_like(
        shape, 10, target_bits=lv * B)``. A model with a ``warehouse``
        attribute reports its ``target_bits``.
    train : callable
        ``train(model, callbacks)``: compile and fit the model, passing
        ``callbacks`` to ``fit`` (it holds this level's TensorBoard and
        Debugger callbacks when ``logdir`` is set, else is empty).
    X_test, y_test : arrays
        Held-out data: accuracy on all of it, robustness on
        ``robustness_samples`` of it (drawn once with ``random_state``, the
        same samples for every level). Inputs must lie in the robustness
        ``clip`` range (default [0, 1]).
    levels : sequence of float, optional
        Run exactly these levels (first = reference). ``None``: the binary
        search of the module docstring with ``n_levels`` levels.
    n_levels : int
        Levels run by the search (``levels=None``).
    accuracy_tolerance : float
        A level keeps accuracy when it is at most this much below the
        reference's.
    score : {"pixels", "eps"}
        Robustness number used to pick the best level.
    logdir : str, optional
        Each level becomes the run ``<logdir>/<architecture or "level">_<level>``
        (Keras writes ``train``/``validation`` there, the Debugger callback
        and this sweep write ``debugger``: run_info, model and robustness
        records, via :mod:`tb_nndebug.summary`).
    architecture : str, optional
        Name recorded in ``run_info`` and used in run names.
    callbacks : callable, optional
        ``callbacks(run_dir) -> list`` of Keras callbacks for a level;
        default: ``keras.callbacks.TensorBoard(run_dir)`` and
        ``DebuggerCallback(run_dir)``.
    robustness_samples : int
        Samples attacked per level.
    robustness_kwargs : dict, optional
        Passed to :func:`tb_nndebug.robustness` (``eps_max``, ``max_pixels``, ...).
    random_state : None, int or RandomState
        Picks the attacked samples.
    progress : bool
        Show a progress bar over levels.

    Returns
    -------
    SweepResult
        One row per level in the order run, the reference accuracy and the
        best level.
    """
    from tqdm.auto import tqdm

    a = _check_sweep_arguments(build_model=build_model, train=train, callbacks=callbacks,
                               X_test=X_test, y_test=y_test, levels=levels, n_levels=n_levels,
                               accuracy_tolerance=accuracy_tolerance, score=score,
                               architecture=architecture,
                               robustness_samples=robustness_samples)
    X_test, y_test, levels = a["X_test"], a["y_test"], a["levels"]
    rng = check_random_state(random_state)
    n = X_test.shape[0]
    attack_idx = np.sort(rng.choice(n, size=min(a["robustness_samples"], n), replace=False))
    level = _Level(build_model=build_model, train=train, X_test=X_test, y_test=y_test,
                   attack_idx=attack_idx, robustness_kwargs=dict(robustness_kwargs or {}),
                   accuracy_tolerance=accuracy_tolerance, logdir=logdir,
                   architecture=architecture, make_callbacks=callbacks or _default_callbacks)
    total = len(levels) if levels is not None else a["n_levels"]
    level.bar = tqdm(total=total, desc=f"capacity sweep {architecture or ''}".strip(),
                     disable=not progress, leave=False)
    try:
        if levels is not None:
            for lv in levels:
                level.run(lv)
            rule = "explicit levels"
        else:
            _bisect_levels(level, a["n_levels"])
            rule = (f"bisection toward the smallest level keeping accuracy >= reference - "
                    f"{accuracy_tolerance:g}; best = most robust ({score}) among those")
    finally:
        level.bar.close()

    rows = level.rows
    key = (lambda r: r.median_pixels) if score == "pixels" else (lambda r: r.median_eps)
    ok = [r for r in rows if r.keeps_accuracy and not math.isnan(key(r))]
    best = max(ok, key=lambda r: (key(r), -r.level)).level if ok else None
    return SweepResult(rows=tuple(rows), architecture=architecture,
                       reference_accuracy=rows[0].accuracy,
                       accuracy_tolerance=float(accuracy_tolerance), score=score,
                       best_level=best, rule=rule)


def _check_levels(levels, name="levels"):
    """None, or a non-empty list of positive finite capacity levels."""
    if levels is None:
        return None
    checked = []
    for v in levels:
        try:
            checked.append(check_positive_number(v, name=name))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold positive finite numbers, got {v!r}") from None
    if not checked:
        raise ValueError(f"{name} must hold at least one level, got an empty sequence")
    return checked


#: The arguments of :func:`capacity_sweep` and what each must be (X_test/y_test aside).
_CONSTRAINTS = {
    "build_model": Constraint(check_callable, what="level -> keras.Model"),
    "train": Constraint(check_callable, what="(model, callbacks) -> None"),
    "callbacks": Constraint(check_callable, what="run_dir -> list of callbacks",
                            allow_none=True),
    "levels": _check_levels,
    "n_levels": Int(minimum=1),
    "accuracy_tolerance": Real(low=0),
    "score": Options("pixels", "eps"),
    "architecture": Constraint(check_plain_name, allow_none=True),
    "robustness_samples": Int(minimum=1),
}


def _check_sweep_arguments(*, X_test, y_test, **params):
    checked = check_params(params, _CONSTRAINTS)
    X_test = np.asarray(X_test)
    y_test = np.asarray(y_test)
    if X_test.ndim < 2 or X_test.shape[0] == 0:
        raise ValueError(f"X_test must be a non-empty array (n_samples, ...), got shape "
                         f"{X_test.shape}")
    if y_test.ndim != 1 or y_test.shape[0] != X_test.shape[0]:
        raise ValueError(f"y_test must be 1-d class indices as long as X_test "
                         f"({X_test.shape[0]}), got shape {y_test.shape}")
    return dict(checked, X_test=X_test, y_test=y_test)


def _bisect_levels(level, n_levels):
    """The reference level 1, then bisection toward the smallest level keeping accuracy."""
    level.run(1.0)
    lo, hi = 0.0, 1.0
    for _ in range(n_levels - 1):
        mid = (lo + hi) / 2
        if level.run(mid).keeps_accuracy:
            hi = mid
        else:
            lo = mid


@dataclass
class _Level:
    """Runs one capacity level: build, train, measure accuracy, attack, log."""

    build_model: object
    train: object
    X_test: np.ndarray
    y_test: np.ndarray
    attack_idx: np.ndarray
    robustness_kwargs: dict
    accuracy_tolerance: float
    logdir: object
    architecture: str | None
    make_callbacks: object
    bar: object = None
    rows: list = field(default_factory=list)

    def run(self, level) -> SweepRow:
        from .adversarial import robustness
        from .measures import model_capacity

        prefix = f"{self.architecture}_" if self.architecture else "level_"
        run_dir = None if self.logdir is None else os.path.join(str(self.logdir),
                                                                 f"{prefix}{level:g}")
        model = self.build_model(level)
        cbs = list(self.make_callbacks(run_dir)) if run_dir is not None else []
        t0 = time.perf_counter()
        self.train(model, cbs)
        t_train = time.perf_counter() - t0
        acc = accuracy(model, self.X_test, self.y_test)
        t0 = time.perf_counter()
        rob = robustness(model, self.X_test[self.attack_idx], self.y_test[self.attack_idx],
                         **self.robustness_kwargs)
        t_rob = time.perf_counter() - t0
        cap = model_capacity(model)
        info = getattr(model, "warehouse", None)
        target = float(info.target_bits) if info is not None else None
        ref = self.rows[0].accuracy if self.rows else acc
        row = SweepRow(
            level=level, target_bits=target, bits=int(cap.bits),
            n_params=int(model.count_params()), accuracy=acc,
            keeps_accuracy=bool(acc >= ref - self.accuracy_tolerance),
            median_eps=rob.median_eps, median_pixels=rob.median_pixels,
            pixel_fraction=rob.pixel_fraction, censored_fraction=rob.censored_fraction,
            run_dir=run_dir, train_seconds=t_train, robustness_seconds=t_rob, robustness=rob)
        if run_dir is not None:
            _log_level(run_dir, row, model, rob, cbs, self.architecture)
        self.rows.append(row)
        self.bar.update(1)
        self.bar.set_postfix(level=f"{level:g}", acc=f"{acc:.3f}",
                             px=_fmt(rob.median_pixels, 1))
        return row


def _log_level(run_dir, row, model, rob, cbs, architecture):
    """Write run_info (+ model unless a DebuggerCallback did) and robustness records."""
    import tensorflow as tf

    from . import summary

    has_debugger = any(type(cb).__name__ == "DebuggerCallback" for cb in cbs)
    debug_dir = os.path.join(run_dir, "debugger")
    for cb in cbs:  # a DebuggerCallback may be named otherwise: follow its run_dir
        if type(cb).__name__ == "DebuggerCallback" and getattr(cb, "run_dir", None):
            debug_dir = cb.run_dir
    writer = tf.summary.create_file_writer(debug_dir)
    try:
        with writer.as_default():
            doc = {"architecture": architecture, "capacity_level": row.level,
                   "target_bits": row.target_bits, "bits": row.bits, "experiment": "sweep",
                   "test_accuracy": row.accuracy, "keeps_accuracy": row.keeps_accuracy}
            summary.run_info("run_info", doc, step=0)
            if not has_debugger:
                summary.model("model", model, step=0)
            summary.robustness("robustness", rob, step=0)
        writer.flush()
    finally:
        writer.close()

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
import numbers
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_positive_int, check_random_state

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
        fin = lambda v: None if v is None or not math.isfinite(v) else float(v)
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


def _check_level(v, name="levels"):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (
            math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must hold positive finite numbers, got {v!r}")
    return float(v)


def _default_callbacks(run_dir):
    import keras

    cbs = [keras.callbacks.TensorBoard(log_dir=run_dir)]
    try:
        from .callback import DebuggerCallback
    except ImportError:  # pragma: no cover - the callback ships with the package
        return cbs
    return cbs + [DebuggerCallback(run_dir, verbose=0)]


def _accuracy(model, X, y, batch_size=256):
    out = np.asarray(model.predict(X, batch_size=batch_size, verbose=0))
    if out.ndim == 1 or out.shape[1] == 1:
        pred = (out.reshape(-1) > (0.5 if out.min() >= 0 and out.max() <= 1 else 0.0))
        pred = pred.astype(int)
    else:
        pred = out.argmax(axis=1)
    return float(np.mean(pred == y))


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

    from .adversarial import robustness

    if not callable(build_model):
        raise TypeError(f"build_model must be callable (level -> keras.Model), got "
                        f"{type(build_model).__name__}")
    if not callable(train):
        raise TypeError(f"train must be callable (model, callbacks) -> None, got "
                        f"{type(train).__name__}")
    if callbacks is not None and not callable(callbacks):
        raise TypeError("callbacks must be a callable run_dir -> list of callbacks, or None")
    X_test = np.asarray(X_test)
    y_test = np.asarray(y_test)
    if X_test.ndim < 2 or X_test.shape[0] == 0:
        raise ValueError(f"X_test must be a non-empty array (n_samples, ...), got shape "
                         f"{X_test.shape}")
    if y_test.ndim != 1 or y_test.shape[0] != X_test.shape[0]:
        raise ValueError(f"y_test must be 1-d class indices as long as X_test "
                         f"({X_test.shape[0]}), got shape {y_test.shape}")
    if levels is not None:
        levels = [_check_level(v) for v in levels]
        if not levels:
            raise ValueError("levels must not be empty")
    n_levels = check_positive_int(n_levels, name="n_levels")
    if isinstance(accuracy_tolerance, bool) or not isinstance(accuracy_tolerance, numbers.Real) \
            or not accuracy_tolerance >= 0:
        raise ValueError(f"accuracy_tolerance must be a number >= 0, got {accuracy_tolerance!r}")
    if score not in ("pixels", "eps"):
        raise ValueError(f"score must be 'pixels' or 'eps', got {score!r}")
    if architecture is not None and (not isinstance(architecture, str) or not architecture
                                     or os.sep in architecture):
        raise ValueError(f"architecture must be a plain name, got {architecture!r}")
    robustness_samples = check_positive_int(robustness_samples, name="robustness_samples")
    rkw = dict(robustness_kwargs or {})
    rng = check_random_state(random_state)
    n = X_test.shape[0]
    attack_idx = np.sort(rng.choice(n, size=min(robustness_samples, n), replace=False))
    make_callbacks = callbacks or _default_callbacks
    prefix = f"{architecture}_" if architecture else "level_"

    rows: list[SweepRow] = []
    total = len(levels) if levels is not None else n_levels
    bar = tqdm(total=total, desc=f"capacity sweep {architecture or ''}".strip(),
               disable=not progress, leave=False)

    def run(level):
        run_dir = None if logdir is None else os.path.join(str(logdir), f"{prefix}{level:g}")
        model = build_model(level)
        cbs = list(make_callbacks(run_dir)) if run_dir is not None else []
        t0 = time.perf_counter()
        train(model, cbs)
        t_train = time.perf_counter() - t0
        acc = _accuracy(model, X_test, y_test)
        t0 = time.perf_counter()
        rob = robustness(model, X_test[attack_idx], y_test[attack_idx], **rkw)
        t_rob = time.perf_counter() - t0
        from .measures import model_capacity

        cap = model_capacity(model)
        info = getattr(model, "warehouse", None)
        target = float(info.target_bits) if info is not None else None
        ref = rows[0].accuracy if rows else acc
        row = SweepRow(
            level=level, target_bits=target, bits=int(cap.bits),
            n_params=int(model.count_params()), accuracy=acc,
            keeps_accuracy=bool(acc >= ref - accuracy_tolerance),
            median_eps=rob.median_eps, median_pixels=rob.median_pixels,
            pixel_fraction=rob.pixel_fraction, censored_fraction=rob.censored_fraction,
            run_dir=run_dir, train_seconds=t_train, robustness_seconds=t_rob, robustness=rob)
        if run_dir is not None:
            _log_level(run_dir, row, model, rob, cbs, architecture)
        rows.append(row)
        bar.update(1)
        bar.set_postfix(level=f"{level:g}", acc=f"{acc:.3f}", px=_fmt(rob.median_pixels, 1))
        return row

    try:
        if levels is not None:
            for lv in levels:
                run(lv)
            rule = "explicit levels"
        else:
            run(1.0)
            lo, hi = 0.0, 1.0
            for _ in range(n_levels - 1):
                mid = (lo + hi) / 2
                if run(mid).keeps_accuracy:
                    hi = mid
                else:
                    lo = mid
            rule = (f"bisection toward the smallest level keeping accuracy >= reference - "
                    f"{accuracy_tolerance:g}; best = most robust ({score}) among those")
    finally:
        bar.close()

    key = (lambda r: r.median_pixels) if score == "pixels" else (lambda r: r.median_eps)
    ok = [r for r in rows if r.keeps_accuracy and not math.isnan(key(r))]
    best = max(ok, key=lambda r: (key(r), -r.level)).level if ok else None
    return SweepResult(rows=tuple(rows), architecture=architecture,
                       reference_accuracy=rows[0].accuracy,
                       accuracy_tolerance=float(accuracy_tolerance), score=score,
                       best_level=best, rule=rule)


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
            if hasattr(summary, "run_info"):
                summary.run_info("run_info", doc, step=0)
            else:  # pragma: no cover - before summary.run_info existed
                summary.write_record("run_info", "run_info", doc, step=0)
            if not has_debugger and hasattr(summary, "model"):
                summary.model("model", model, step=0)
            summary.robustness("robustness", rob, step=0)
        writer.flush()
    finally:
        writer.close()

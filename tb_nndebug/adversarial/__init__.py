"""How hard is a model to fool: minimal adversarial perturbation and pixel count.

The paper's section 3.4 attacks a trained model with CleverHans and counts
"the pixels needed" to change its prediction. This module measures, for every
sample at once (batched):

* ``min_eps``: the smallest L∞ (or L2) perturbation that changes the
  prediction, by a bisection over a per-sample ε; each bisection step is ONE
  projected-gradient attack on the whole batch, built from CleverHans 4's
  ``fast_gradient_method`` and ``clip_eta`` (stock ``projected_gradient_descent``
  rejects a per-sample ε);
* ``pixels``: how many input values must change before the prediction flips,
  by a batched greedy gradient-saliency (JSMA-like) attack — CleverHans 4 has
  no L0 attack for TensorFlow 2.

Both attacks are deterministic (no random start, argmax ties go to the lowest
index) and change no global TensorFlow state.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validation import (
    Bool,
    Constraint,
    Int,
    check_interval,
    check_params,
    check_positive_number,
    check_random_state,
    label_vector,
)
from .attacks import bisect_min_eps, greedy_pixels
from .classifier import Classifier, check_gradient, detect_output, probe_model
from .examples import example_grid
from .result import CENSORED, FOOLED, MISCLASSIFIED, AdversarialExample, RobustnessResult

__all__ = ["robustness", "RobustnessResult", "AdversarialExample", "example_grid"]


def robustness(model, X, y, *, norm=np.inf, eps_max=0.5, bisection_steps=10, attack_steps=20,
               pixels=True, max_pixels=150, clip=(0.0, 1.0), random_state=None,
               n_examples=4, output="auto", batch_size=None,
               progress=False) -> RobustnessResult:
    """Measure how hard a classifier is to fool, sample by sample.

    Parameters
    ----------
    model : keras.Model or callable
        Maps a float32 batch shaped like ``X`` to ``(n, K)`` outputs: logits,
        or probabilities (softmax rows; a single sigmoid column is read as
        binary ``P(class 1)``). Probabilities are turned into
        log-probabilities ``log(p + 1e-30)`` before attacking, so the attack
        loss (the CW margin) is a difference of log-probabilities and its
        gradient does not vanish when softmax saturates. The model must be
        differentiable with respect to its input; Keras models are called
        with ``training=False``.
    X : array-like, shape (n, ...)
        Inputs, flat ``(n, d)`` or images ``(n, H, W, C)``, inside ``clip``.
    y : array-like of int, shape (n,)
        True class indices (positions of the model's outputs), or one-hot rows.
    norm : {np.inf, 2}
        Norm of the ε ball.
    eps_max : float
        Largest ε tried; samples not fooled within it are "censored".
    bisection_steps : int
        Bisection steps after the first attack at ``eps_max``; the resolution
        is ``eps_max / 2**bisection_steps``.
    attack_steps : int
        PGD iterations per attack (step size ``2.5 ε / attack_steps``).
    pixels : bool
        Also run the greedy pixel-count attack. It counts input *values*:
        each channel of an RGB pixel counts on its own.
    max_pixels : int
        Cap of the pixel attack; samples needing more are censored.
    clip : (float, float)
        Valid input range; every perturbed input stays inside it.
    random_state : None, int or RandomState
        Picks which fooled samples become ``examples`` (``None``: the first
        ones). The attacks themselves use no randomness.
    n_examples : int
        How many adversarial examples to keep.
    output : {"auto", "logits", "probabilities"}
        What the model returns; ``"auto"`` reads probabilities when every
        output row lies in [0, 1] and sums to 1 on ``X``.
    batch_size : int or None
        Attack this many samples at a time (``None``: all at once). Bounds
        memory for large models or many samples; each sample's result does
        not depend on the batches (up to floating-point differences of the
        backend's batched kernels).
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    RobustnessResult

    Notes
    -----
    ε bisection: one PGD attack (CleverHans ``fast_gradient_method`` steps,
    projected with ``clip_eta``, no random start) at ``eps_max`` on the whole
    batch, then ``bisection_steps`` attacks each with a per-sample ε, the
    midpoint of that sample's bracket. The first iterate that fools a sample
    is kept; ``min_eps`` is the norm of the smallest adversarial found, an
    upper bound of the true minimum. The pixel count is greedy, hence also an
    upper bound of the minimal number of changed values (as JSMA).
    Computations are deterministic for a deterministic model on the same
    hardware; no global TensorFlow setting is changed.
    """
    p = check_params(dict(norm=norm, eps_max=eps_max, bisection_steps=bisection_steps,
                          attack_steps=attack_steps, max_pixels=max_pixels,
                          n_examples=n_examples, pixels=pixels, clip=clip,
                          batch_size=batch_size), _CONSTRAINTS)
    norm, eps_max, clip, batch_size = p["norm"], p["eps_max"], p["clip"], p["batch_size"]
    bisection_steps, attack_steps = p["bisection_steps"], p["attack_steps"]
    max_pixels, n_examples = p["max_pixels"], p["n_examples"]
    rng = None if random_state is None else check_random_state(random_state)
    x = _check_inputs(X, clip)
    batches = _batches(x.shape[0], batch_size)
    out = probe_model(model, x, batches)
    kind = detect_output(out, output)
    n_classes = max(out.shape[1], 2)
    labels = _check_labels(y, x.shape[0], n_classes)

    import tensorflow as tf

    clf = Classifier(model, kind, out.shape[1])
    check_gradient(clf, x, labels, batches)

    predictions = np.concatenate([clf.predict(tf.constant(x[b])) for b in batches])
    correct = predictions == labels
    parts = [bisect_min_eps(clf, x[b], labels[b], correct[b], norm=norm, eps_max=eps_max,
                             bisection_steps=bisection_steps, attack_steps=attack_steps,
                             clip=clip, progress=progress) for b in batches]
    min_eps, best, fooled = (np.concatenate(p) for p in zip(*parts))
    status = tuple(MISCLASSIFIED if not c else (FOOLED if f else CENSORED)
                   for c, f in zip(correct, fooled))

    px = pstatus = None
    if pixels:
        px = np.concatenate([
            greedy_pixels(clf, x[b], labels[b], correct[b], max_pixels=max_pixels, clip=clip,
                           progress=progress) for b in batches])
        pstatus = tuple(MISCLASSIFIED if not c else (FOOLED if np.isfinite(p) else CENSORED)
                        for c, p in zip(correct, px))

    idx = np.flatnonzero(fooled)
    if rng is not None and len(idx) > n_examples:
        idx = np.sort(rng.choice(idx, size=n_examples, replace=False))
    idx = idx[:n_examples]
    adv_pred = clf.predict(tf.constant(best[idx])) if len(idx) else np.array([], int)
    examples = tuple(
        AdversarialExample(index=int(i), label=int(labels[i]), adversarial_label=int(a),
                           eps=float(min_eps[i]), original=_readonly(x[i]),
                           adversarial=_readonly(best[i]))
        for i, a in zip(idx, adv_pred))

    return RobustnessResult(
        norm=norm, eps_max=eps_max, clip=clip, input_shape=tuple(x.shape[1:]), output=kind,
        bisection_steps=bisection_steps, attack_steps=attack_steps, max_pixels=max_pixels,
        labels=_readonly(labels), predictions=_readonly(predictions),
        min_eps=_readonly(min_eps), status=status,
        pixels=None if px is None else _readonly(px), pixel_status=pstatus, examples=examples)


def _check_norm(norm, name="norm"):
    if isinstance(norm, str) and norm.lower() in ("inf", "linf"):
        return np.inf
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        if norm == np.inf:
            return np.inf
        if norm == 2:
            return 2
    raise ValueError(f"{name} must be np.inf (or 'inf') or 2, got {norm!r}")


def _check_inputs(X, clip):
    try:
        arr = np.asarray(X)
    except Exception as exc:
        raise TypeError(f"X must be an array of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"X must be numeric, got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(f"X must have shape (n_samples, ...features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("X is empty: it must hold at least one sample")
    if arr.size == 0:
        raise ValueError(f"X has no features (shape {arr.shape})")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("X contains NaN or infinite values")
    lo, hi = clip
    if arr.min() < lo or arr.max() > hi:
        raise ValueError(
            f"X has values in [{arr.min():.4g}, {arr.max():.4g}], outside clip=({lo:g}, {hi:g}); "
            "rescale X (e.g. X / 255.0) or pass the data's range as clip"
        )
    return arr


def _check_labels(y, n, n_classes):
    arr = label_vector(y)
    if arr.shape[0] != n:
        raise ValueError(f"X and y have different lengths: {n} != {arr.shape[0]}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"y must hold integer class indices 0..{n_classes - 1} (the model's output "
            f"positions), got dtype {arr.dtype}"
        )
    if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
        raise ValueError("y must hold integer class indices, got non-integer or non-finite values")
    if arr.min() < 0 or arr.max() >= n_classes:
        raise ValueError(
            f"y has labels in [{arr.min():g}, {arr.max():g}] but the model has "
            f"{n_classes} outputs (classes 0..{n_classes - 1})"
        )
    return arr.astype(np.int64)


def _batches(n, batch_size):
    size = n if batch_size is None else batch_size
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


#: The scalar arguments of :func:`robustness` and what each must be.
_CONSTRAINTS = {
    "norm": _check_norm,
    "eps_max": Constraint(check_positive_number),
    "bisection_steps": Int(minimum=0),
    "attack_steps": Int(minimum=1),
    "max_pixels": Int(minimum=1),
    "n_examples": Int(minimum=0),
    "pixels": Bool(),
    "clip": Constraint(check_interval),
    "batch_size": Int(minimum=1, allow_none=True),
}

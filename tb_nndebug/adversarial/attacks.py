"""The two batched attacks: ε bisection of projected gradient descent, greedy pixel count."""
from __future__ import annotations

import numpy as np

from .classifier import gradient, margin_loss

__all__ = ["bisect_min_eps", "greedy_pixels"]


def _pgd(clf, x0, y, eps, *, norm, steps, clip):
    """One batched PGD run with a per-sample ``eps`` (0 = leave the sample alone).

    Returns ``(found, best)``: which samples were fooled at some iterate, and
    the first fooling iterate of each (the rest unchanged).
    """
    import tensorflow as tf
    from cleverhans.tf2.attacks.fast_gradient_method import fast_gradient_method
    from cleverhans.tf2.utils import clip_eta

    lo, hi = clip
    x0_np = x0.numpy()
    eps_b = tf.reshape(tf.constant(eps, tf.float32), [-1] + [1] * (len(x0.shape) - 1))
    step = eps_b * (2.5 / steps)  # Madry et al.'s step size
    y_np = y.numpy()
    todo = eps > 0
    found = np.zeros(len(eps), dtype=bool)
    best = x0_np.copy()
    if not todo.any():
        return found, best
    adv = x0
    for _ in range(steps):
        adv = fast_gradient_method(clf.model_fn, adv, step, norm, loss_fn=margin_loss,
                                   clip_min=lo, clip_max=hi, y=y, sanity_checks=False)
        adv = tf.clip_by_value(x0 + clip_eta(adv - x0, norm, eps_b), lo, hi)
        new = todo & ~found & (clf.predict(adv) != y_np)
        if new.any():
            best[new] = adv.numpy()[new]
            found |= new
            if found[todo].all():
                break
    return found, best


def _norms(diff: np.ndarray, norm) -> np.ndarray:
    flat = diff.reshape(diff.shape[0], -1).astype(np.float64)
    if norm == np.inf:
        return np.max(np.abs(flat), axis=1) if flat.shape[1] else np.zeros(len(flat))
    return np.sqrt(np.sum(flat ** 2, axis=1))


def bisect_min_eps(clf, x, y, correct, *, norm, eps_max, bisection_steps, attack_steps,
                    clip, progress=False):
    """Batched bisection of the minimal ε: ``1 + bisection_steps`` PGD calls in all.

    Returns ``(min_eps, best_adv, fooled)`` for the samples in ``x``.
    """
    import tensorflow as tf

    x0 = tf.constant(x, tf.float32)
    y_tf = tf.constant(y, tf.int32)
    n = x.shape[0]
    steps = range(bisection_steps + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="robustness: eps bisection", leave=False)
    lo = np.zeros(n)
    hi = np.full(n, float(eps_max))
    fooled = np.zeros(n, dtype=bool)
    best = x.astype(np.float32).copy()
    for s in steps:
        if s == 0:
            eps = np.where(correct, eps_max, 0.0)
        else:
            if not fooled.any():
                break
            eps = np.where(fooled, (lo + hi) / 2, 0.0)
        found, adv = _pgd(clf, x0, y_tf, eps.astype(np.float32), norm=norm,
                          steps=attack_steps, clip=clip)
        if s == 0:
            fooled = found & correct
            best[fooled] = adv[fooled]
            continue
        ok = found & fooled
        best[ok] = adv[ok]
        hi = np.where(ok, eps, hi)
        lo = np.where(fooled & ~found, eps, lo)
    # float32 rounding may put the norm a hair above the ε it was found at
    min_eps = np.where(fooled, np.minimum(_norms(best - x, norm), hi), np.inf)
    min_eps[~correct] = np.nan
    return min_eps, best, fooled


def greedy_pixels(clf, x, y, correct, *, max_pixels, clip, progress=False):
    """Batched greedy saliency attack: one gradient per step for every sample.

    At each step every unfinished sample sets the unmodified input value with
    the largest first-order margin gain ``|g| * |bound - x|`` to the bound
    that raises the margin. Returns the step count at which each flipped.
    """
    import tensorflow as tf

    lo, hi = clip
    shape = x.shape
    n, d = shape[0], int(np.prod(shape[1:]))
    cur = x.reshape(n, d).astype(np.float32).copy()
    modified = np.zeros((n, d), dtype=bool)
    done = ~correct
    pixels = np.full(n, np.inf)
    pixels[~correct] = np.nan
    y_tf = tf.constant(y, tf.int32)
    rows_all = np.arange(n)
    steps = range(1, min(max_pixels, d) + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="robustness: pixels", leave=False)
    for k in steps:
        active = ~done
        if not active.any():
            break
        g = gradient(clf, tf.constant(cur.reshape(shape)), y_tf).numpy().reshape(n, d)
        target = np.where(g > 0, np.float32(hi), np.float32(lo))
        gain = np.abs(g) * np.abs(target - cur)
        gain[modified] = -1.0
        j = np.argmax(gain, axis=1)
        rows = rows_all[active]
        cur[rows, j[rows]] = target[rows, j[rows]]
        modified[rows, j[rows]] = True
        flipped = active & (clf.predict(tf.constant(cur.reshape(shape))) != y)
        pixels[flipped] = k
        done |= flipped
    return pixels

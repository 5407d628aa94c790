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

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_positive_int, check_random_state, label_vector

__all__ = ["robustness", "RobustnessResult", "AdversarialExample", "example_grid"]

FOOLED = "fooled"
CENSORED = "censored"
MISCLASSIFIED = "misclassified"

#: Added inside the log of probability outputs; float32 keeps it (> 1.2e-38),
#: so a competitor's log-probability keeps its gradient down to ~1e-30.
_LOG_FLOOR = 1e-30


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class AdversarialExample:
    """One fooled sample: the clean input and the smallest adversarial found."""

    index: int
    label: int
    adversarial_label: int
    eps: float
    original: np.ndarray
    adversarial: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.adversarial - self.original


@dataclass(frozen=True, eq=False)
class RobustnessResult:
    """Per-sample robustness of a classifier (see :func:`robustness`).

    Attributes
    ----------
    min_eps : ndarray of float, shape (n,)
        Norm of the smallest adversarial perturbation found for each sample
        (an upper bound of the true minimum, at most ``eps_tolerance`` above the
        bisection's last failed ε). ``inf`` = censored (not fooled within
        ``eps_max``), ``nan`` = misclassified before any attack.
    status : tuple of str
        ``"fooled"``, ``"censored"`` or ``"misclassified"`` per sample.
    pixels : ndarray of float, shape (n,), or None
        Input values changed until the prediction flipped; ``inf`` = censored
        (not flipped within ``max_pixels``), ``nan`` = misclassified; ``None``
        when the pixel attack was not run.
    pixel_status : tuple of str or None
        Like ``status``, for the pixel attack.
    labels, predictions : ndarray of int
        True labels and clean predictions.
    examples : tuple of AdversarialExample
        A few fooled samples with their minimal-ε adversarials.
    """

    norm: float
    eps_max: float
    clip: tuple
    input_shape: tuple
    output: str
    bisection_steps: int
    attack_steps: int
    max_pixels: int
    labels: np.ndarray
    predictions: np.ndarray
    min_eps: np.ndarray
    status: tuple
    pixels: np.ndarray | None
    pixel_status: tuple | None
    examples: tuple = field(default=())

    # ---- derived numbers
    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def eps_tolerance(self) -> float:
        """Bisection resolution: ``eps_max / 2**bisection_steps``."""
        return self.eps_max / 2 ** self.bisection_steps

    @property
    def correct(self) -> np.ndarray:
        return self.predictions == self.labels

    @property
    def clean_accuracy(self) -> float:
        return float(np.mean(self.correct))

    @property
    def censored_fraction(self) -> float:
        return float(np.mean([s == CENSORED for s in self.status]))

    @property
    def misclassified_fraction(self) -> float:
        return float(np.mean([s == MISCLASSIFIED for s in self.status]))

    @property
    def median_eps(self) -> float:
        """Median ``min_eps`` over the correctly classified samples.

        Censored samples count as larger than any found ε, so the median is
        ``inf`` when more than half of them are censored, and ``nan`` when no
        sample was classified correctly (clean accuracy is reported apart).
        """
        return _median(self.min_eps[self.correct])

    @property
    def median_pixels(self) -> float:
        """Median pixel count over the correctly classified samples (as ``median_eps``)."""
        if self.pixels is None:
            return math.nan
        return _median(self.pixels[self.correct])

    @property
    def pixel_fraction(self) -> float:
        """``median_pixels`` as a fraction of the input size."""
        return self.median_pixels / self.input_size

    def robust_accuracy(self, eps):
        """Fraction of samples still classified correctly under any perturbation ≤ ``eps``.

        Misclassified samples never count; a sample counts while ``eps`` is
        below its ``min_eps`` (censored ones count up to ``eps_max``; beyond
        ``eps_max`` nothing is known and the result is ``nan``).
        """
        e = np.asarray(eps, dtype=float)
        if np.any(e < 0):
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        m = np.where(np.isnan(self.min_eps), -np.inf, self.min_eps)
        ra = np.mean(m[None, :] > e.reshape(-1, 1), axis=1)
        ra = np.where(e.reshape(-1) > self.eps_max, np.nan, ra)
        return float(ra[0]) if e.ndim == 0 else ra.reshape(e.shape)

    def curve(self, n_points: int = 21):
        """``(eps, robust_accuracy)`` on ``n_points`` evenly spaced ε in [0, eps_max]."""
        n_points = check_positive_int(n_points, name="n_points", minimum=2)
        eps = np.linspace(0.0, self.eps_max, n_points)
        return eps, self.robust_accuracy(eps)

    def to_record(self, *, n_examples: int | None = None) -> dict:
        """The ``robustness`` record document of ``docs/data-contract.md``.

        Examples become small PNG data URLs (original, adversarial, and the
        difference on a grey background, scaled to its own largest change).
        """
        examples = self.examples if n_examples is None else self.examples[:n_examples]
        eps, ra = self.curve()
        return {
            "norm": "inf" if self.norm == np.inf else str(int(self.norm)),
            "eps_max": self.eps_max,
            "n": self.n,
            "clean_accuracy": self.clean_accuracy,
            "input_size": self.input_size,
            "min_eps": [_finite_or_none(v) for v in self.min_eps],
            "status": list(self.status),
            "median_eps": _finite_or_none(self.median_eps),
            "censored_fraction": self.censored_fraction,
            "misclassified_fraction": self.misclassified_fraction,
            "curve": {"eps": eps.tolist(), "robust_accuracy": ra.tolist()},
            "pixels": None if self.pixels is None
            else [None if not np.isfinite(v) else int(v) for v in self.pixels],
            "median_pixels": _finite_or_none(self.median_pixels),
            "pixel_fraction": _finite_or_none(self.pixel_fraction),
            "max_pixels": self.max_pixels if self.pixels is not None else None,
            # fields beyond the contract's example (added, none renamed)
            "pixel_status": None if self.pixel_status is None else list(self.pixel_status),
            "eps_tolerance": self.eps_tolerance,
            "output": self.output,
            "examples": [
                {
                    "index": ex.index,
                    "label": ex.label,
                    "adversarial_label": ex.adversarial_label,
                    "eps": ex.eps,
                    **{k: _png_data_url(img) for k, img in zip(
                        ("original", "adversarial", "difference"),
                        _example_images(ex, self.input_shape, self.clip))},
                }
                for ex in examples
            ],
        }


def _median(values: np.ndarray) -> float:
    if values.size == 0:
        return math.nan
    return float(np.median(values))  # inf sorts last, as censoring requires


def _finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------- pictures


def _as_image(flat: np.ndarray, input_shape: tuple) -> np.ndarray:
    """A sample as a 2-D grey or (H, W, 3) image in its own units."""
    shape = tuple(input_shape)
    if len(shape) == 3 and shape[-1] in (1, 3):
        img = flat.reshape(shape)
        return img[..., 0] if shape[-1] == 1 else img
    if len(shape) == 3:
        return flat.reshape(shape)[..., 0]
    if len(shape) == 2:
        return flat.reshape(shape)
    d = flat.size
    side = int(round(math.sqrt(d)))
    if side * side == d:
        return flat.reshape(side, side)
    return np.repeat(flat.reshape(1, d), 8, axis=0)  # a strip for flat features


def _upscale(img: np.ndarray) -> np.ndarray:
    f = max(1, 64 // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1)


def _example_images(ex: AdversarialExample, input_shape, clip):
    lo, hi = clip
    to_u8 = lambda a: np.clip(np.rint((a - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
    orig = _as_image(np.ravel(ex.original), input_shape)
    adv = _as_image(np.ravel(ex.adversarial), input_shape)
    diff = adv - orig
    scale = float(np.max(np.abs(diff))) or 1.0
    diff_u8 = np.clip(np.rint(127.5 + 127.5 * diff / scale), 0, 255).astype(np.uint8)
    return _upscale(to_u8(orig)), _upscale(to_u8(adv)), _upscale(diff_u8)


def example_grid(result: RobustnessResult, n_examples: int | None = None) -> np.ndarray | None:
    """One uint8 RGB picture: a row per example, ``original | adversarial | difference``.

    Returns ``None`` when the result holds no example.
    """
    examples = result.examples if n_examples is None else result.examples[:n_examples]
    if not examples:
        return None
    rows = []
    for ex in examples:
        panels = [_rgb(p) for p in _example_images(ex, result.input_shape, result.clip)]
        gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
        rows.append(np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1))
    width = max(r.shape[1] for r in rows)
    out = []
    for r in rows:
        pad = np.full((r.shape[0], width - r.shape[1], 3), 255, np.uint8)
        out += [np.concatenate([r, pad], axis=1), np.full((4, width, 3), 255, np.uint8)]
    return np.concatenate(out[:-1], axis=0)


def _rgb(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)


def _png_data_url(img: np.ndarray) -> str:
    from .records.pictures import data_url

    return data_url(img)


# --------------------------------------------------------------------------- model adapter


class _Classifier:
    """The model seen as ``x -> logits`` with a ``(n, K>=2)`` output.

    Built once per :func:`robustness` call: CleverHans' ``compute_gradient``
    is a module-level ``tf.function`` keyed on the ``model_fn`` object, so a
    fresh lambda per attack call would retrace every time.
    """

    def __init__(self, model, output: str, n_outputs: int):
        import tensorflow as tf

        self._model = model
        self.output = output
        single = n_outputs == 1
        try:
            import keras

            is_keras = isinstance(model, keras.layers.Layer)
        except Exception:  # pragma: no cover - keras always present with TF 2.21
            is_keras = False
        call = (lambda x: model(x, training=False)) if is_keras else model

        def logits(x):
            z = tf.cast(call(x), tf.float32)
            if single:
                z = tf.reshape(z, [-1, 1])
                if output == "probabilities":
                    # sigmoid p -> log-probabilities of (class 0, class 1)
                    return tf.concat([tf.math.log(1.0 - z + _LOG_FLOOR),
                                      tf.math.log(z + _LOG_FLOOR)], axis=1)
                return tf.concat([tf.zeros_like(z), z], axis=1)
            if output == "probabilities":
                return tf.math.log(z + _LOG_FLOOR)
            return z

        self.model_fn = logits
        self.predict_fn = tf.function(logits, reduce_retracing=True)
        self.n_classes = 2 if single else n_outputs

    def predict(self, x) -> np.ndarray:
        # argmax ties go to the lowest index (numpy), the same everywhere here
        return np.argmax(self.predict_fn(x).numpy(), axis=1)


def _margin_loss(labels, logits):
    """Untargeted CW margin: best other logit minus the true one (> 0 = fooled)."""
    import tensorflow as tf

    onehot = tf.one_hot(labels, tf.shape(logits)[1], dtype=logits.dtype)
    true = tf.reduce_sum(onehot * logits, axis=1)
    other = tf.reduce_max(logits - onehot * 1e30, axis=1)
    return other - true


def _gradient(clf: _Classifier, x, y):
    from cleverhans.tf2.utils import compute_gradient

    return compute_gradient(clf.model_fn, _margin_loss, x, y, False)


# --------------------------------------------------------------------------- attacks


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
        adv = fast_gradient_method(clf.model_fn, adv, step, norm, loss_fn=_margin_loss,
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


def _bisect_min_eps(clf, x, y, correct, *, norm, eps_max, bisection_steps, attack_steps,
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


def _greedy_pixels(clf, x, y, correct, *, max_pixels, clip, progress=False):
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
        g = _gradient(clf, tf.constant(cur.reshape(shape)), y_tf).numpy().reshape(n, d)
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


# --------------------------------------------------------------------------- validation


def _check_norm(norm):
    if isinstance(norm, str) and norm.lower() in ("inf", "linf"):
        return np.inf
    if isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        if norm == np.inf:
            return np.inf
        if norm == 2:
            return 2
    raise ValueError(f"norm must be np.inf (or 'inf') or 2, got {norm!r}")


def _check_positive_float(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _check_clip(clip):
    try:
        lo, hi = (float(c) for c in clip)
    except (TypeError, ValueError):
        raise TypeError(f"clip must be a pair of numbers (min, max), got {clip!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"clip must be finite with min < max, got {clip!r}")
    return lo, hi


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
        raise ValueError("y must hold integer class indices")
    if arr.min() < 0 or arr.max() >= n_classes:
        raise ValueError(
            f"y has labels in [{arr.min():g}, {arr.max():g}] but the model has "
            f"{n_classes} outputs (classes 0..{n_classes - 1})"
        )
    return arr.astype(np.int64)


def _probe_model(model, X, batches):
    """Run the model once on X, batch by batch; return its outputs as a (n, K) float array."""
    if not callable(model):
        raise TypeError(f"model must be a callable Keras model, got {type(model).__name__}")
    import keras

    outs = []
    for b in batches:
        try:
            out = model(X[b], training=False) if isinstance(model, keras.layers.Layer) \
                else model(X[b])
        except Exception as exc:
            raise ValueError(f"model could not be called on X: {type(exc).__name__}: {exc}") \
                from None
        if isinstance(out, (list, tuple, dict)):
            raise ValueError("model must have a single output tensor (n_samples, n_classes)")
        out = np.asarray(out)
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != X[b].shape[0]:
            raise ValueError(
                f"model output must have shape (n_samples, n_classes), got {out.shape}")
        outs.append(out)
    out = np.concatenate(outs)
    if not np.isfinite(out).all():
        raise ValueError("model outputs NaN or infinite values on X")
    return out.astype(np.float64)


def _batches(n, batch_size):
    size = n if batch_size is None else batch_size
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _detect_output(out: np.ndarray, output: str) -> str:
    if output not in ("auto", "logits", "probabilities"):
        raise ValueError(f"output must be 'auto', 'logits' or 'probabilities', got {output!r}")
    if output != "auto":
        return output
    in_unit = out.min() >= 0.0 and out.max() <= 1.0
    if out.shape[1] == 1:
        return "probabilities" if in_unit else "logits"
    sums_to_one = np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    return "probabilities" if in_unit and sums_to_one else "logits"


# --------------------------------------------------------------------------- public


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
    norm = _check_norm(norm)
    eps_max = _check_positive_float(eps_max, "eps_max")
    bisection_steps = check_positive_int(bisection_steps, name="bisection_steps", minimum=0)
    attack_steps = check_positive_int(attack_steps, name="attack_steps")
    max_pixels = check_positive_int(max_pixels, name="max_pixels")
    n_examples = check_positive_int(n_examples, name="n_examples", minimum=0)
    if not isinstance(pixels, (bool, np.bool_)):
        raise TypeError(f"pixels must be True or False, got {pixels!r}")
    clip = _check_clip(clip)
    rng = None if random_state is None else check_random_state(random_state)
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, name="batch_size")
    x = _check_inputs(X, clip)
    batches = _batches(x.shape[0], batch_size)
    out = _probe_model(model, x, batches)
    kind = _detect_output(out, output)
    n_classes = max(out.shape[1], 2)
    labels = _check_labels(y, x.shape[0], n_classes)

    import tensorflow as tf

    clf = _Classifier(model, kind, out.shape[1])
    _check_gradient(clf, x, labels, batches)

    predictions = np.concatenate([clf.predict(tf.constant(x[b])) for b in batches])
    correct = predictions == labels
    parts = [_bisect_min_eps(clf, x[b], labels[b], correct[b], norm=norm, eps_max=eps_max,
                             bisection_steps=bisection_steps, attack_steps=attack_steps,
                             clip=clip, progress=progress) for b in batches]
    min_eps, best, fooled = (np.concatenate(p) for p in zip(*parts))
    status = tuple(MISCLASSIFIED if not c else (FOOLED if f else CENSORED)
                   for c, f in zip(correct, fooled))

    px = pstatus = None
    if pixels:
        px = np.concatenate([
            _greedy_pixels(clf, x[b], labels[b], correct[b], max_pixels=max_pixels, clip=clip,
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


def _check_gradient(clf, x, labels, batches):
    """Raise unless the attack loss has a non-zero input gradient on some batch."""
    import tensorflow as tf

    for b in batches:
        try:
            grad = _gradient(clf, tf.constant(x[b]), tf.constant(labels[b], tf.int32))
        except Exception as exc:
            raise ValueError("model is not differentiable with respect to its input: "
                             f"{type(exc).__name__}: {exc}") from None
        if grad is None:
            raise ValueError(
                "model has no gradient with respect to its input (a non-differentiable op "
                "such as argmax, round or a cast?); gradient attacks need a differentiable model"
            )
        if np.any(grad.numpy()):
            return
    raise ValueError(
        "model's gradient with respect to its input is zero for every sample "
        "(non-differentiable op or fully saturated outputs); gradient attacks cannot run"
    )


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a

"""The model warehouse: one architecture family, built at a capacity in bits.

The paper's section 4 asks for "several categories of the architecture of the
same capacity … for users to select", so that the Debugger's advice "shrink
to about N bits" becomes a model one can train. Each builder here takes an
input shape, a class count and ``target_bits`` and searches the family's
width multiplier until :func:`tb_nndebug.model_capacity` (the paper's
Algorithm 1) of the built model is as close to the target as the integer
layer widths allow.

Returned models are **uncompiled** Keras 3 functional models (compile them
with the optimizer you want; with the default ``output_activation="softmax"``
use ``sparse_categorical_crossentropy``). The capacity reached is attached as
``model.warehouse``, a :class:`WarehouseInfo` (``bits``, ``target_bits``,
``ratio``, ``widths``, ...). It is a plain Python attribute: it does not
survive ``model.save`` / ``load_model``; call ``model_capacity`` again there.

Tolerance: a build succeeds when ``|bits / target_bits − 1| <= tolerance``
(default :data:`DEFAULT_TOLERANCE` = 10 %); otherwise a ``ValueError`` names
the closest capacity the family reaches (pass ``tolerance=None`` to accept
it). What each family can reach follows from Friedland's rules, which bound
every layer but the first by the number of units feeding it:

* ``mlp`` — the first layer sees the raw input, so each hidden unit costs
  ``d + 1`` bits: targets from about ``5 (d + 1)`` bits (finer steps below
  that miss 10 %) up to ``max_params``;
* ``alexnet_like`` — two conv + pooling stages feed the dense head, so its
  capacity grows about linearly in width: from a few hundred bits to ~1e5;
* ``resnet_like`` — stages at full, half and quarter resolution: from a few
  hundred bits to ~1e6 at the default depth (raise ``blocks`` to go higher).

Targets outside a family's reach (e.g. 1e7 bits for a small CNN on 32×32
images, which would need more activation units per sample than these
networks have) raise a ``ValueError`` with the reachable range instead of a
model of the wrong size.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import check_positive_int, check_random_state

__all__ = ["mlp", "alexnet_like", "resnet_like", "WarehouseInfo", "DEFAULT_TOLERANCE",
           "FAMILIES"]

#: Relative tolerance of the reached capacity (``|bits/target - 1|``).
DEFAULT_TOLERANCE = 0.10
#: Largest parameter count the search builds (keeps memory bounded).
DEFAULT_MAX_PARAMS = 30_000_000


@dataclass(frozen=True)
class WarehouseInfo:
    """What a warehouse builder made (attached as ``model.warehouse``)."""

    family: str
    target_bits: float
    bits: int
    n_params: int
    widths: tuple
    scale: float
    tolerance: float | None

    @property
    def ratio(self) -> float:
        """``bits / target_bits``."""
        return self.bits / self.target_bits

    def to_dict(self) -> dict:
        return {"family": self.family, "target_bits": self.target_bits, "bits": self.bits,
                "n_params": self.n_params, "widths": list(self.widths), "scale": self.scale,
                "ratio": self.ratio, "tolerance": self.tolerance}


# --------------------------------------------------------------------------- checks


def _check_shape(input_shape):
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise TypeError(f"input_shape must be a tuple of ints, got {input_shape!r}") from None
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"input_shape must hold positive sizes, got {input_shape!r}")
    return shape


def _check_image_shape(input_shape, family, min_side):
    shape = _check_shape(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels) for {family}, "
                         f"got {input_shape!r}")
    if min(shape[:2]) < min_side:
        raise ValueError(f"input_shape must be at least {min_side}x{min_side} for {family}, "
                         f"got {input_shape!r}")
    return shape


def _check_common(n_classes, target_bits, tolerance, max_params):
    n_classes = check_positive_int(n_classes, name="n_classes", minimum=2)
    if isinstance(target_bits, bool) or not isinstance(target_bits, numbers.Real):
        raise TypeError(f"target_bits must be a number, got {type(target_bits).__name__}")
    if not (math.isfinite(target_bits) and target_bits >= 1):
        raise ValueError(f"target_bits must be a finite number >= 1, got {target_bits!r}")
    if tolerance is not None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) \
                or not tolerance > 0:
            raise ValueError(f"tolerance must be a positive number or None, got {tolerance!r}")
        tolerance = float(tolerance)
    max_params = check_positive_int(int(max_params) if isinstance(max_params, float)
                                    else max_params, name="max_params")
    return n_classes, float(target_bits), tolerance, max_params


def _seeds(random_state, n):
    if random_state is None:
        return [None] * n
    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


def _output_activation(value):
    if value not in ("softmax", None, "linear"):
        raise ValueError(f"output_activation must be 'softmax' or None (logits), got {value!r}")
    return None if value == "linear" else value


# --------------------------------------------------------------------------- search


def _search(family, target, widths_of, params_of, build, *, max_params, tolerance):
    """Find the width multiplier whose built model's capacity is nearest ``target``.

    ``widths_of(s)`` maps a positive multiplier to a tuple of layer widths
    (non-decreasing in ``s``; capacity is non-decreasing in every width),
    ``params_of(widths)`` estimates the parameter count without building,
    ``build(widths)`` builds a model with cheap (zeros) weights. Secant steps
    in log-log space, then bisection on the bracket; every built width tuple
    is measured once.
    """
    from .measures import model_capacity

    cache: dict[tuple, int] = {}

    def bits(s):
        w = widths_of(s)
        if w not in cache:
            cache[w] = model_capacity(build(w)).bits
        return cache[w]

    def fits(s):
        return params_of(widths_of(s)) <= max_params

    s_min = 1e-6  # every width is 1 here
    while widths_of(s_min) != widths_of(s_min * 2):
        s_min /= 2
    s_max = 1.0
    while fits(s_max * 2) and s_max < 1e6:
        s_max *= 2
    while not fits(s_max) and s_max > s_min:
        s_max /= 2
    lo_s, hi_s = s_max, s_max * 2  # largest fitting multiplier, to ~1 %
    for _ in range(7):
        mid = math.sqrt(lo_s * hi_s)
        lo_s, hi_s = (mid, hi_s) if fits(mid) else (lo_s, mid)
    s_max = lo_s

    def close(s, frac):
        return abs(bits(s) / target - 1) <= frac

    # secant steps on log bits vs log s: a few builds in the usual case
    lo, hi = s_min, s_max  # invariant: bits(lo) < target <= bits(hi) where evaluated
    s, prev = min(max(1.0, s_min), s_max), None
    goal = (tolerance or DEFAULT_TOLERANCE) / 4
    for _ in range(8):
        b = bits(s)
        if b < target:
            lo = s
        else:
            hi = s
        if close(s, goal) or (s == s_max and b < target) or (s == s_min and b >= target):
            break
        slope = 1.0
        if prev is not None and prev[1] != b and prev[0] != s:
            slope = min(max(math.log(b / prev[1]) / math.log(s / prev[0]), 0.5), 3.0)
        prev = (s, b)
        nxt = min(max(s * (target / b) ** (1 / slope), lo), hi)
        if widths_of(nxt) == widths_of(s):
            break
        s = nxt
    evaluated = [t for t in (lo, hi, s) if widths_of(t) in cache]
    best = min(evaluated, key=lambda t: abs(math.log(bits(t) / target)))
    if not close(best, goal) and lo < hi:
        # bisection on the bracket until its two ends have adjacent widths
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if widths_of(mid) in (widths_of(lo), widths_of(hi)) and hi / lo < 1.0001:
                break
            if bits(mid) < target:
                lo = mid
            else:
                hi = mid
            if close(mid, goal):
                break
        best = min((t for t in (lo, hi, mid, best)),
                   key=lambda t: abs(math.log(bits(t) / target)))
    reached = bits(best)
    if tolerance is not None and abs(reached / target - 1) > tolerance:
        b_min, b_max = bits(s_min), bits(s_max)
        raise ValueError(
            f"target_bits={target:g} is out of reach for {family} on this input within "
            f"tolerance={tolerance:g}: the closest is {reached} bits (widths {widths_of(best)}); "
            f"this family reaches {b_min} to {b_max} bits here (max_params={max_params:g}); "
            "pass tolerance=None to accept the closest"
        )
    return best, reached


def _finish(family, model_fn, widths, target, scale, tolerance, name):
    from .measures import model_capacity

    model = model_fn(widths)
    cap = model_capacity(model)
    model.warehouse = WarehouseInfo(family=family, target_bits=target, bits=int(cap.bits),
                                    n_params=int(model.count_params()), widths=tuple(widths),
                                    scale=float(scale), tolerance=tolerance)
    return model


def _scaled(bases):
    return lambda s: tuple(max(1, int(round(b * s))) for b in bases)


def _init(kind, seed):
    import keras

    if kind == "zeros":
        return keras.initializers.Zeros()
    return keras.initializers.HeNormal(seed=seed) if kind == "he" else \
        keras.initializers.GlorotUniform(seed=seed)


# --------------------------------------------------------------------------- mlp


def mlp(input_shape, n_classes, *, target_bits, depth=1, activation="relu",
        output_activation="softmax", tolerance=DEFAULT_TOLERANCE,
        max_params=DEFAULT_MAX_PARAMS, random_state=None, name="mlp"):
    """A multilayer perceptron of ``depth`` equal hidden layers at ``target_bits``.

    Parameters
    ----------
    input_shape : tuple of int
        Per-sample shape: flat ``(d,)`` or an image ``(H, W, C)``.
    n_classes : int
        Number of outputs (>= 2).
    target_bits : float
        Capacity to reach, in bits (:func:`tb_nndebug.model_capacity`).
    depth : int
        Hidden layers (all of the searched width).
    activation : str
        Hidden activation.
    output_activation : {"softmax", None}
        ``None`` gives logits.
    tolerance : float or None
        Allowed ``|bits/target_bits - 1|``; ``None`` returns the closest.
    max_params : int
        Largest model the search may build.
    random_state : None, int or RandomState
        Seeds the weight initialisers (``None``: Keras' global seed).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo`.

    Notes
    -----
    Image inputs are flattened first (``Flatten`` passes the raw input's
    unbounded information on, so the first ``Dense`` counts all its
    ``(d + 1) × width`` parameters, as on a flat input). Hidden layers after
    the first are capped at the width feeding them (one bit per unit), so
    ``depth`` adds little capacity; the search scales the common width.
    """
    shape = _check_shape(input_shape)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    depth = check_positive_int(depth, name="depth")
    out_act = _output_activation(output_activation)
    d = int(np.prod(shape))

    def params_of(w):
        h = w[0]
        return (d + 1) * h + (depth - 1) * (h + 1) * h + (h + 1) * n_classes

    def build(w, init="zeros", seeds=None):
        import keras

        seeds = seeds or [None] * (depth + 1)
        L = keras.layers
        inp = keras.Input(shape)
        x = L.Flatten(name="flatten")(inp) if len(shape) > 1 else inp
        x = L.Dense(w[0], activation=activation, kernel_initializer=_init(init, seeds[0]),
                    name="dense_1")(x)
        for i in range(1, depth):
            x = L.Dense(w[0], activation=activation, kernel_initializer=_init(init, seeds[i]),
                        name=f"dense_{i + 1}")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=_init(init, seeds[depth]), name="output")(x)
        return keras.Model(inp, out, name=name)

    widths_of = lambda s: (max(1, int(round(s))),)
    s, _ = _search("mlp", target, widths_of, params_of, build, max_params=max_params,
                   tolerance=tolerance)
    seeds = _seeds(random_state, depth + 1)
    return _finish("mlp", lambda w: build(w, "glorot", seeds), widths_of(s), target, s,
                   tolerance, name)


# --------------------------------------------------------------------------- alexnet


def alexnet_like(input_shape, n_classes, *, target_bits, dropout=0.0,
                 output_activation="softmax", tolerance=DEFAULT_TOLERANCE,
                 max_params=DEFAULT_MAX_PARAMS, random_state=None, name="alexnet_like"):
    """A small AlexNet (cuda-convnet's CIFAR-10 layout) at ``target_bits``.

    ``conv5x5(c1) → maxpool → conv5x5(c2) → maxpool → dense(f1) → dense(f2)
    → dense(n_classes)``, ReLU everywhere, with base widths 64, 64, 384, 192
    times the searched multiplier (conv widths round at slightly different
    multipliers: c1 uses 56, so capacity moves in finer steps).

    Parameters are as :func:`mlp` (``input_shape`` is ``(H, W, C)``, at least
    8×8); ``dropout`` is the rate after each hidden dense layer (seeded).

    Returns
    -------
    keras.Model
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo`.
    """
    shape = _check_image_shape(input_shape, "alexnet_like", 8)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
            or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    out_act = _output_activation(output_activation)
    H, W, C = shape
    h2, w2 = -(-H // 2), -(-W // 2)
    h4, w4 = -(-h2 // 2), -(-w2 // 2)

    def params_of(w):
        c1, c2, f1, f2 = w
        return ((25 * C + 1) * c1 + (25 * c1 + 1) * c2 + (h4 * w4 * c2 + 1) * f1
                + (f1 + 1) * f2 + (f2 + 1) * n_classes)

    def build(w, init="zeros", seeds=None):
        import keras

        seeds = seeds or [None] * 7
        L = keras.layers
        c1, c2, f1, f2 = w
        inp = keras.Input(shape)
        x = L.Conv2D(c1, 5, padding="same", activation="relu",
                     kernel_initializer=_init("he" if init != "zeros" else init, seeds[0]),
                     name="conv1")(inp)
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = L.Conv2D(c2, 5, padding="same", activation="relu",
                     kernel_initializer=_init("he" if init != "zeros" else init, seeds[1]),
                     name="conv2")(x)
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(f1, activation="relu", kernel_initializer=_init(init, seeds[2]),
                    name="fc1")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[5], name="drop1")(x)
        x = L.Dense(f2, activation="relu", kernel_initializer=_init(init, seeds[3]),
                    name="fc2")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[6], name="drop2")(x)
        out = L.Dense(n_classes, activation=out_act, kernel_initializer=_init(init, seeds[4]),
                      name="output")(x)
        return keras.Model(inp, out, name=name)

    widths_of = _scaled((56, 64, 384, 192))
    s, _ = _search("alexnet_like", target, widths_of, params_of, build,
                   max_params=max_params, tolerance=tolerance)
    seeds = _seeds(random_state, 7)
    return _finish("alexnet_like", lambda w: build(w, "glorot", seeds), widths_of(s), target, s,
                   tolerance, name)


# --------------------------------------------------------------------------- resnet


def resnet_like(input_shape, n_classes, *, target_bits, blocks=1,
                output_activation="softmax", tolerance=DEFAULT_TOLERANCE,
                max_params=DEFAULT_MAX_PARAMS, random_state=None, name="resnet_like"):
    """A small pre-2016 ResNet (He et al.'s CIFAR layout) at ``target_bits``.

    ``conv3x3(c) → 3 stages of `blocks` residual blocks at widths c, 2c, 4c
    (stride 2 and a 1×1 projection entering stages 2 and 3) → global average
    pooling → dense(n_classes)``; each block is conv3x3 → BN → ReLU →
    conv3x3 → BN → add → ReLU. The searched width is ``c`` (stage widths
    round at 1×, 2×, 4× of it). BatchNormalization uses ``momentum=0.9`` so
    its moving statistics settle within the few epochs of a sweep.

    Parameters are as :func:`mlp` (``input_shape`` is ``(H, W, C)``, at least
    4×4); ``blocks`` is the residual blocks per stage.

    Returns
    -------
    keras.Model
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo`.
    """
    shape = _check_image_shape(input_shape, "resnet_like", 4)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    blocks = check_positive_int(blocks, name="blocks")
    out_act = _output_activation(output_activation)
    C = shape[2]

    def params_of(w):
        c0, c1, c2, c3 = w
        p = 9 * C * c0 + 3 * c0
        prev = c0
        for c in (c1, c2, c3):
            for b in range(blocks):
                p += 9 * prev * c + 9 * c * c + 4 * c
                if b == 0:  # a projection may enter the stage (an overestimate is fine)
                    p += prev * c + 2 * c
                prev = c
        return p + (prev + 1) * n_classes

    def build(w, init="zeros", seeds=None):
        import keras

        n_convs = 2 + 3 * blocks * 3
        seeds = seeds or [None] * n_convs
        seed_iter = iter(seeds)
        L = keras.layers
        kinit = lambda: _init("he" if init != "zeros" else init, next(seed_iter))
        inp = keras.Input(shape)
        x = L.Conv2D(w[0], 3, padding="same", use_bias=False, kernel_initializer=kinit(),
                     name="stem_conv")(inp)
        x = L.BatchNormalization(momentum=0.9, name="stem_bn")(x)
        x = L.Activation("relu", name="stem_relu")(x)
        prev = w[0]
        for stage, c in enumerate(w[1:]):
            for b in range(blocks):
                stride = 2 if (stage > 0 and b == 0) else 1
                tag = f"s{stage + 1}b{b + 1}"
                y = L.Conv2D(c, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer=kinit(), name=f"{tag}_conv1")(x)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn1")(y)
                y = L.Activation("relu", name=f"{tag}_relu1")(y)
                y = L.Conv2D(c, 3, padding="same", use_bias=False, kernel_initializer=kinit(),
                             name=f"{tag}_conv2")(y)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn2")(y)
                shortcut = x
                if stride != 1 or prev != c:
                    shortcut = L.Conv2D(c, 1, strides=stride, use_bias=False,
                                        kernel_initializer=kinit(), name=f"{tag}_proj")(x)
                    shortcut = L.BatchNormalization(momentum=0.9, name=f"{tag}_proj_bn")(shortcut)
                x = L.Activation("relu", name=f"{tag}_out")(L.Add(name=f"{tag}_add")([y, shortcut]))
                prev = c
        x = L.GlobalAveragePooling2D(name="gap")(x)
        out = L.Dense(n_classes, activation=out_act, kernel_initializer=_init(
            "glorot" if init != "zeros" else init, next(seed_iter)), name="output")(x)
        return keras.Model(inp, out, name=name)

    base = lambda s: (max(1, int(round(16 * s))), max(1, int(round(16 * s))),
                      max(1, int(round(32 * s))), max(1, int(round(64 * s))))
    s, _ = _search("resnet_like", target, base, params_of, build, max_params=max_params,
                   tolerance=tolerance)
    seeds = _seeds(random_state, 2 + 3 * blocks * 3)
    return _finish("resnet_like", lambda w: build(w, "glorot", seeds), base(s), target, s,
                   tolerance, name)


#: The builders by family name (used by the capacity sweep's demo).
FAMILIES = {"mlp": mlp, "alexnet_like": alexnet_like, "resnet_like": resnet_like}

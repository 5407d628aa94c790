"""The model warehouse: one architecture family, built at a capacity in bits.

The paper's section 4 asks for "several categories of the architecture of the
same capacity … for users to select", so that the Debugger's advice "shrink
to about N bits" becomes a model one can train. Each builder here takes an
input shape, a class count and ``target_bits`` and searches the family's
size until :func:`tb_nndebug.model_capacity` (the paper's Algorithm 1) of the
built model is as close to the target as the integer layer widths allow.

Returned models are **uncompiled** Keras 3 functional models (compile them
with the optimizer you want; with the default ``output_activation="softmax"``
use ``sparse_categorical_crossentropy``). The capacity reached is attached as
``model.warehouse``, a :class:`WarehouseInfo` (``bits``, ``target_bits``,
``ratio``, ``widths``, ``structure``, ...). It is a plain Python attribute:
it does not survive ``model.save`` / ``load_model``; call ``model_capacity``
again there.

Tolerance: a build succeeds when ``|bits / target_bits − 1| <= tolerance``
(default :data:`DEFAULT_TOLERANCE` = 10 %); otherwise a ``ValueError`` names
the range the family reaches (pass ``tolerance=None`` to accept the closest).

How each family reaches a target follows from Friedland's rules, which give
the first layer all its parameters (it sees raw input) and cap every later
layer by the number of units feeding it:

* ``mlp`` scales its hidden width. One hidden unit on a ``d``-value input
  costs ``d + 1`` bits, so targets below a few units' worth (1,000 bits on
  28×28 images) are met by **average-pooling the image first**
  (``input_pool``, the least pooling that reaches the target): pooling has no
  parameters and passes the raw input on, so each unit costs fewer bits.
* ``alexnet_like`` and ``resnet_like`` scale their width up to the
  **efficient width** — the first stage's filter count ``c = ⌈H·W / 9⌉``
  at which a full-resolution 3×3 convolution has as many weights (``9c²``)
  as the units feeding it (``H·W·c``); wider filters add parameters faster
  than bits. Larger targets add **depth** at that width, where each layer
  buys about one bit per parameter: extra residual 3×3 conv layers after
  ``conv1`` (``extra_layers``) or extra residual blocks in the first stage
  (``extra_blocks``). Each identical full-resolution layer adds
  the same bits, so the depth is solved from two shallow builds, not by
  building deep candidates. This is how 10⁷ bits fit in about 10–17 M
  parameters on MNIST- and CIFAR-shaped inputs; width alone stops near 10⁵
  bits for the AlexNet layout (its dense head holds most parameters).

Pass ``input_pool=1`` / ``extra_layers=0`` / ``extra_blocks=0`` to scale width
only (up to ``max_params``), or another integer to fix the structure.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

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
    """What a warehouse builder made (attached as ``model.warehouse``).

    ``widths`` are the searched layer widths, ``scale`` their multiplier and
    ``structure`` the family's other size choices (``input_pool`` for
    :func:`mlp`, ``extra_layers`` / ``extra_blocks`` for the CNNs).
    """

    family: str
    target_bits: float
    bits: int
    n_params: int
    widths: tuple
    scale: float
    tolerance: float | None
    structure: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """``bits / target_bits``."""
        return self.bits / self.target_bits

    def to_dict(self) -> dict:
        return {"family": self.family, "target_bits": self.target_bits, "bits": self.bits,
                "n_params": self.n_params, "widths": list(self.widths), "scale": self.scale,
                "ratio": self.ratio, "tolerance": self.tolerance,
                "structure": dict(self.structure)}


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


def _check_optional_int(value, name, minimum):
    return None if value is None else check_positive_int(value, name=name, minimum=minimum)


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


@dataclass(frozen=True)
class _Plan:
    """One structure of a family, searched over its width multiplier ``s``.

    ``widths_of(s)`` maps ``s > 0`` to a hashable width tuple (non-decreasing
    in ``s``; capacity is non-decreasing in every width), ``params_of``
    estimates the parameter count without building, ``measure`` gives the
    capacity in bits of a width tuple, ``build(widths, seeds)`` the final
    model, and ``s_cap`` the largest multiplier this structure may use.
    """

    structure: dict
    widths_of: Callable
    params_of: Callable
    measure: Callable
    build: Callable
    n_seeds: int
    s_cap: float = math.inf


@dataclass(frozen=True)
class _Fit:
    plan: _Plan
    s: float
    bits: int
    above_reach: bool  # even the widest widths the plan allows fall short of the target
    span: Callable     # () -> (bits at the narrowest, bits at the widest); for error messages


def _off(bits, target):
    return abs(math.log(bits / target)) if bits > 0 else math.inf


def _fit(plan, target, *, max_params, goal):
    """The multiplier of ``plan`` whose capacity is nearest ``target`` (None: nothing fits).

    Secant steps in log-log space, then bisection on the bracket; every width
    tuple is measured once.
    """
    widths_of, cache = plan.widths_of, {}

    def bits(s):
        w = widths_of(s)
        if w not in cache:
            cache[w] = int(plan.measure(w))
        return cache[w]

    def fits(s):
        return plan.params_of(widths_of(s)) <= max_params

    s_min = 1e-6  # every width is 1 here
    while widths_of(s_min) != widths_of(s_min * 2):
        s_min /= 2
    if not fits(s_min):
        return None
    s_max = 1.0
    while fits(s_max * 2) and s_max < 1e6:
        s_max *= 2
    while not fits(s_max) and s_max > s_min:
        s_max /= 2
    lo_s, hi_s = s_max, s_max * 2  # largest fitting multiplier, to ~1 %
    for _ in range(7):
        mid = math.sqrt(lo_s * hi_s)
        lo_s, hi_s = (mid, hi_s) if fits(mid) else (lo_s, mid)
    s_max = max(s_min, min(lo_s, plan.s_cap))

    def close(s):
        return abs(bits(s) / target - 1) <= goal

    lo, hi = s_min, s_max  # invariant: bits(lo) < target <= bits(hi) where evaluated
    s, prev = min(max(1.0, s_min), s_max), None
    for _ in range(8):
        b = bits(s)
        if b < target:
            lo = s
        else:
            hi = s
        if close(s) or (s == s_max and b < target) or (s == s_min and b >= target):
            break
        slope = 1.0
        if prev is not None and prev[1] != b and prev[0] != s and b > 0 and prev[1] > 0:
            slope = min(max(math.log(b / prev[1]) / math.log(s / prev[0]), 0.5), 3.0)
        prev = (s, b)
        nxt = min(max(s * (target / max(b, 1)) ** (1 / slope), lo), hi)
        if widths_of(nxt) == widths_of(s):
            break
        s = nxt
    candidates = [t for t in (lo, hi, s) if widths_of(t) in cache]
    best = min(candidates, key=lambda t: _off(bits(t), target))
    if not close(best) and lo < hi:
        mid = best
        for _ in range(40):  # bisection until the bracket's ends have adjacent widths
            mid = math.sqrt(lo * hi)
            if widths_of(mid) in (widths_of(lo), widths_of(hi)) and hi / lo < 1.0001:
                break
            if bits(mid) < target:
                lo = mid
            else:
                hi = mid
            if close(mid):
                break
        best = min((lo, hi, mid, best), key=lambda t: _off(bits(t), target))
    above = widths_of(best) == widths_of(s_max) and bits(best) < target
    return _Fit(plan, best, bits(best), above, lambda: (bits(s_min), bits(s_max)))


def _settle(family, target, tolerance, max_params, fits):
    """The first fit within tolerance, else the closest (``tolerance=None``) or a ValueError.

    ``fits`` is consumed lazily, so later (costlier) structures are only
    searched when the earlier ones miss.
    """
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    seen = []
    for fit in fits:
        if fit is None:
            continue
        if abs(fit.bits / target - 1) <= tol:
            return fit
        seen.append(fit)
    if not seen:
        raise ValueError(f"max_params={max_params:g} is too small for the narrowest {family} "
                         "on this input")
    best = min(seen, key=lambda f: _off(f.bits, target))
    if tolerance is None:
        return best
    spans = [f.span() for f in seen]
    lowest, highest = min(lo for lo, _ in spans), max(hi for _, hi in spans)
    shown = [0, len(seen) - 1] if len(seen) > 3 else range(len(seen))
    tried = " … ".join(f"{_describe(seen[i].plan.structure)}: {spans[i][0]} to {spans[i][1]}"
                       for i in shown)
    raise ValueError(
        f"target_bits={target:g} is out of reach for {family} on this input within "
        f"tolerance={tolerance:g}: the closest is {best.bits} bits "
        f"(widths {best.plan.widths_of(best.s)}, {_describe(best.plan.structure)}); "
        f"this family reaches {lowest} to {highest} bits here (max_params={max_params:g}; "
        f"{tried}); pass tolerance=None to accept the closest"
    )


def _describe(structure):
    return ", ".join(f"{k}={v}" for k, v in structure.items()) or "as built"


def _finish(family, fit, target, tolerance, random_state, name):
    from .measures import model_capacity

    plan = fit.plan
    widths = plan.widths_of(fit.s)
    model = plan.build(widths, _seeds(random_state, plan.n_seeds))
    bits = int(model_capacity(model).bits)
    if tolerance is not None and abs(bits / target - 1) > tolerance:  # pragma: no cover
        raise RuntimeError(f"{family}: the built model measures {bits} bits, not the "
                           f"{fit.bits} its search predicted; please report this")
    model.warehouse = WarehouseInfo(family=family, target_bits=target, bits=bits,
                                    n_params=int(model.count_params()),
                                    widths=tuple(widths),
                                    scale=float(fit.s), tolerance=tolerance,
                                    structure=dict(plan.structure))
    return model


def _capacity_of(build):
    from .measures import model_capacity

    return lambda w: model_capacity(build(w)).bits


def _scaled(bases):
    return lambda s: tuple(max(1, round(b * s)) for b in bases)


def _efficient_width(shape):
    """Filters at which a full-resolution 3×3 conv has as many weights as units feeding it."""
    return math.ceil(shape[0] * shape[1] / 9)


def _solve_depth(target, *, widths_of, params_of, build, s_eff, max_params):
    """Depth and capacity function for a layout that adds identical full-resolution layers.

    ``build(widths, extra)`` builds with cheap weights. Each extra layer adds
    the same bits (same width, same resolution, same bits feeding it), so a
    width tuple's capacity at depth ``n`` is ``b0 + n·step`` from the two
    shallow builds ``extra=0`` and ``extra=1``. The depth is solved at the
    efficient width. Returns ``(n, measure)``, ``measure(widths)`` giving the
    bits at depth ``n`` without building it, or None when no layer fits.
    """
    lines: dict[tuple, tuple[int, int]] = {}
    measure0 = _capacity_of(lambda w: build(w, 0))
    measure1 = _capacity_of(lambda w: build(w, 1))

    def line(w):
        if w not in lines:
            b0 = measure0(w)
            lines[w] = (b0, measure1(w) - b0)
        return lines[w]

    w_eff = widths_of(s_eff)
    b0, step = line(w_eff)
    p0 = params_of(w_eff, 0)
    dp = params_of(w_eff, 1) - p0
    if step <= 0 or dp <= 0 or p0 + dp > max_params:
        return None
    n = int(min(max(1, round((target - b0) / step)), (max_params - p0) // dp))

    def measure(w):
        b, st = line(w)
        return b + n * st

    return n, measure


def _init(kind, seed):
    import keras

    if kind == "zeros":
        return keras.initializers.Zeros()
    return keras.initializers.HeNormal(seed=seed) if kind == "he" else \
        keras.initializers.GlorotUniform(seed=seed)


def _real(init, kind, seed):
    return _init("zeros" if init == "zeros" else kind, seed)


# --------------------------------------------------------------------------- mlp


def mlp(input_shape, n_classes, *, target_bits, depth=1, input_pool=None, activation="relu",
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
    input_pool : int or None
        Average-pool an image input by this factor before flattening.
        ``None`` (default) chooses the least pooling that reaches the target:
        1 (none) unless the target is below what whole hidden units on the
        full image can meet. Image inputs only.
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
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo` whose
        ``structure`` holds the ``input_pool`` used.

    Notes
    -----
    Image inputs are flattened first (``Flatten`` and pooling pass the raw
    input's unbounded information on, so the first ``Dense`` counts all its
    ``(d + 1) × width`` parameters, as on a flat input). Hidden layers after
    the first are capped at the width feeding them (one bit per unit), so
    ``depth`` adds little capacity; the search scales the common width.

    Examples
    --------
    >>> from tb_nndebug import models
    >>> m = models.mlp((28, 28, 1), 10, target_bits=1000)  # doctest: +SKIP
    >>> m.warehouse.bits, m.warehouse.structure             # doctest: +SKIP
    (990, {'input_pool': 2})
    """
    shape = _check_shape(input_shape)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    depth = check_positive_int(depth, name="depth")
    input_pool = _check_optional_int(input_pool, "input_pool", 1)
    if input_pool not in (None, 1) and len(shape) != 3:
        raise ValueError(f"input_pool needs an image input_shape (H, W, C), got {input_shape!r}")
    if input_pool is not None and len(shape) == 3 and input_pool > min(shape[:2]):
        raise ValueError(f"input_pool must be at most the image side {min(shape[:2])}, "
                         f"got {input_pool}")
    out_act = _output_activation(output_activation)

    def plan(pool):
        if pool == 1:
            d = int(np.prod(shape))
        else:
            d = math.ceil(shape[0] / pool) * math.ceil(shape[1] / pool) * shape[2]

        def params_of(w):
            h = w[0]
            return (d + 1) * h + (depth - 1) * (h + 1) * h + (h + 1) * n_classes

        def build(w, init="zeros", seeds=None):
            import keras

            seeds = seeds or [None] * (depth + 1)
            L = keras.layers
            inp = keras.Input(shape)
            x = inp
            if pool > 1:
                x = L.AveragePooling2D(pool, padding="same", name="input_pool")(x)
            if len(shape) > 1:
                x = L.Flatten(name="flatten")(x)
            for i in range(depth):
                x = L.Dense(w[0], activation=activation,
                            kernel_initializer=_real(init, "glorot", seeds[i]),
                            name=f"dense_{i + 1}")(x)
            out = L.Dense(n_classes, activation=out_act,
                          kernel_initializer=_real(init, "glorot", seeds[depth]),
                          name="output")(x)
            return keras.Model(inp, out, name=name)

        return _Plan(structure={"input_pool": pool}, widths_of=lambda s: (max(1, round(s)),),
                     params_of=params_of, measure=_capacity_of(build),
                     build=lambda w, seeds: build(w, "real", seeds), n_seeds=depth + 1)

    goal = (tolerance or DEFAULT_TOLERANCE) / 4

    def fits():
        if input_pool is not None:
            yield _fit(plan(input_pool), target, max_params=max_params, goal=goal)
            return
        first = _fit(plan(1), target, max_params=max_params, goal=goal)
        yield first
        if len(shape) == 3 and (first is None or not first.above_reach):
            pooled = {tuple(shape[:2])}
            for pool in range(2, min(shape[:2]) + 1):  # fewer inputs, cheaper units
                size = (math.ceil(shape[0] / pool), math.ceil(shape[1] / pool))
                if size not in pooled:  # a larger factor that pools to the same size adds nothing
                    pooled.add(size)
                    yield _fit(plan(pool), target, max_params=max_params, goal=goal)

    fit = _settle("mlp", target, tolerance, max_params, fits())
    return _finish("mlp", fit, target, tolerance, random_state, name)


# --------------------------------------------------------------------------- alexnet


def alexnet_like(input_shape, n_classes, *, target_bits, dropout=0.0, extra_layers=None,
                 output_activation="softmax", tolerance=DEFAULT_TOLERANCE,
                 max_params=DEFAULT_MAX_PARAMS, random_state=None, name="alexnet_like"):
    """A small AlexNet (cuda-convnet's CIFAR-10 layout) at ``target_bits``.

    ``conv5x5(c1) → [x + BN(conv3x3(c1)(x)) → ReLU] × extra_layers →
    maxpool → conv5x5(c2) → maxpool → dense(f1) → dense(f2) →
    dense(n_classes)``, ReLU everywhere, with base widths 56, 64, 384, 192
    times the searched multiplier (c1 uses 56 rather than cuda-convnet's 64
    so that widths round at different multipliers and capacity moves in
    finer steps).

    Parameters are as :func:`mlp` (``input_shape`` is ``(H, W, C)``, at least
    8×8); ``dropout`` is the rate after each hidden dense layer (seeded).
    ``extra_layers``: full-resolution residual 3×3 conv layers after
    ``conv1``, each starting as the identity (its batch-norm scale is
    initialised to 0, as in Goyal et al. 2017), so the deep network trains
    like the shallow one; ``None`` (default) adds them only for targets that
    width up to the efficient width (``c1 = ⌈H·W/9⌉``) cannot reach; an
    integer fixes them (``0`` scales width alone, up to ``max_params``).

    Returns
    -------
    keras.Model
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo` whose
        ``structure`` holds ``extra_layers``.
    """
    shape = _check_image_shape(input_shape, "alexnet_like", 8)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
            or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    extra_layers = _check_optional_int(extra_layers, "extra_layers", 0)
    out_act = _output_activation(output_activation)
    H, W, C = shape
    h2, w2 = -(-H // 2), -(-W // 2)
    h4, w4 = -(-h2 // 2), -(-w2 // 2)

    def params_of(w, extra):
        c1, c2, f1, f2 = w
        return ((25 * C + 1) * c1 + extra * (9 * c1 + 4) * c1 + (25 * c1 + 1) * c2
                + (h4 * w4 * c2 + 1) * f1 + (f1 + 1) * f2 + (f2 + 1) * n_classes)

    def build(w, extra, init="zeros", seeds=None):
        import keras

        seeds = seeds or [None] * n_seeds(extra)
        L = keras.layers
        c1, c2, f1, f2 = w
        inp = keras.Input(shape)
        x = L.Conv2D(c1, 5, padding="same", activation="relu",
                     kernel_initializer=_real(init, "he", seeds[0]), name="conv1")(inp)
        for i in range(extra):
            # a residual unit starting as the identity (BN scale 0), so a deep
            # stack trains like the shallow network; a plain stack of ~100
            # layers does not train here
            y = L.Conv2D(c1, 3, padding="same", use_bias=False,
                         kernel_initializer=_real(init, "he", seeds[7 + i]),
                         name=f"conv1_{i + 1}")(x)
            y = L.BatchNormalization(momentum=0.9, gamma_initializer="zeros",
                                     name=f"conv1_{i + 1}_bn")(y)
            x = L.Activation("relu", name=f"conv1_{i + 1}_out")(
                L.Add(name=f"conv1_{i + 1}_add")([x, y]))
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = L.Conv2D(c2, 5, padding="same", activation="relu",
                     kernel_initializer=_real(init, "he", seeds[1]), name="conv2")(x)
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(f1, activation="relu", kernel_initializer=_real(init, "glorot", seeds[2]),
                    name="fc1")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[5], name="drop1")(x)
        x = L.Dense(f2, activation="relu", kernel_initializer=_real(init, "glorot", seeds[3]),
                    name="fc2")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[6], name="drop2")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=_real(init, "glorot", seeds[4]), name="output")(x)
        return keras.Model(inp, out, name=name)

    def n_seeds(extra):
        return 7 + extra

    fit = _settle("alexnet_like", target, tolerance, max_params, _cnn_fits(
        target, tolerance, max_params, extra_layers, key="extra_layers",
        widths_of=_scaled((56, 64, 384, 192)), params_of=params_of, build=build,
        n_seeds=n_seeds, s_eff=_efficient_width(shape) / 56))
    return _finish("alexnet_like", fit, target, tolerance, random_state, name)


def _cnn_fits(target, tolerance, max_params, extra, *, key, widths_of, params_of, build,
              n_seeds, s_eff):
    """Width up to the efficient width (or the fixed depth), then depth: lazily."""
    goal = (tolerance or DEFAULT_TOLERANCE) / 4

    def plan(n, s_cap=math.inf, measure=None):
        return _Plan(structure={key: n}, widths_of=widths_of,
                     params_of=lambda w: params_of(w, n),
                     measure=measure or _capacity_of(lambda w: build(w, n)),
                     build=lambda w, seeds: build(w, n, "real", seeds), n_seeds=n_seeds(n),
                     s_cap=s_cap)

    if extra is not None:
        yield _fit(plan(extra), target, max_params=max_params, goal=goal)
        return
    first = _fit(plan(0, s_cap=s_eff), target, max_params=max_params, goal=goal)
    yield first
    if first is not None and first.bits < target:
        depth = _solve_depth(target, widths_of=widths_of, params_of=params_of, build=build,
                             s_eff=s_eff, max_params=max_params)
        if depth is not None:
            n, measure = depth
            yield _fit(plan(n, measure=measure), target, max_params=max_params, goal=goal)


# --------------------------------------------------------------------------- resnet


def resnet_like(input_shape, n_classes, *, target_bits, blocks=1, extra_blocks=None,
                output_activation="softmax", tolerance=DEFAULT_TOLERANCE,
                max_params=DEFAULT_MAX_PARAMS, random_state=None, name="resnet_like"):
    """A small pre-2016 ResNet (He et al.'s CIFAR layout) at ``target_bits``.

    ``conv3x3(c) → 3 stages of residual blocks at widths c, 2c, 4c (stride 2
    and a 1×1 projection entering stages 2 and 3) → global average pooling
    → dense(n_classes)``; each block is conv3x3 → BN → ReLU → conv3x3 → BN →
    add → ReLU. The searched width is ``c`` (stage widths round at 1×, 2×, 4×
    of it). BatchNormalization uses ``momentum=0.9`` so its moving statistics
    settle within the few epochs of a sweep.

    Parameters are as :func:`mlp` (``input_shape`` is ``(H, W, C)``, at least
    4×4). ``blocks`` is the residual blocks per stage; ``extra_blocks`` more
    blocks in the first (full-resolution) stage: ``None`` (default) adds
    them only for targets that width up to the efficient width
    (``c = ⌈H·W/9⌉``) cannot reach; an integer fixes them (``0`` scales width
    alone, up to ``max_params``).

    Returns
    -------
    keras.Model
        Uncompiled; ``model.warehouse`` is a :class:`WarehouseInfo` whose
        ``structure`` holds ``extra_blocks``.
    """
    shape = _check_image_shape(input_shape, "resnet_like", 4)
    n_classes, target, tolerance, max_params = _check_common(n_classes, target_bits, tolerance,
                                                             max_params)
    blocks = check_positive_int(blocks, name="blocks")
    extra_blocks = _check_optional_int(extra_blocks, "extra_blocks", 0)
    out_act = _output_activation(output_activation)
    C = shape[2]

    def stage_blocks(extra):
        return (blocks + extra, blocks, blocks)

    def params_of(w, extra):
        c0 = w[0]
        p = 9 * C * c0 + 2 * c0
        prev = c0
        for c, n in zip(w[1:], stage_blocks(extra)):
            for b in range(n):
                p += 9 * prev * c + 9 * c * c + 4 * c
                if b == 0:  # a projection may enter the stage (an overestimate is fine)
                    p += prev * c + 2 * c
                prev = c
        return p + (prev + 1) * n_classes

    def n_seeds(extra):
        return 2 + 3 * sum(stage_blocks(extra))

    def build(w, extra, init="zeros", seeds=None):
        import keras

        seed_iter = iter(seeds or [None] * n_seeds(extra))
        L = keras.layers
        inp = keras.Input(shape)
        x = L.Conv2D(w[0], 3, padding="same", use_bias=False,
                     kernel_initializer=_real(init, "he", next(seed_iter)), name="stem_conv")(inp)
        x = L.BatchNormalization(momentum=0.9, name="stem_bn")(x)
        x = L.Activation("relu", name="stem_relu")(x)
        prev = w[0]
        for stage, (c, n) in enumerate(zip(w[1:], stage_blocks(extra))):
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                tag = f"s{stage + 1}b{b + 1}"
                y = L.Conv2D(c, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer=_real(init, "he", next(seed_iter)),
                             name=f"{tag}_conv1")(x)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn1")(y)
                y = L.Activation("relu", name=f"{tag}_relu1")(y)
                y = L.Conv2D(c, 3, padding="same", use_bias=False,
                             kernel_initializer=_real(init, "he", next(seed_iter)),
                             name=f"{tag}_conv2")(y)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn2")(y)
                shortcut = x
                if stride != 1 or prev != c:
                    shortcut = L.Conv2D(c, 1, strides=stride, use_bias=False,
                                        kernel_initializer=_real(init, "he", next(seed_iter)),
                                        name=f"{tag}_proj")(x)
                    shortcut = L.BatchNormalization(momentum=0.9, name=f"{tag}_proj_bn")(shortcut)
                x = L.Activation("relu", name=f"{tag}_out")(L.Add(name=f"{tag}_add")([y, shortcut]))
                prev = c
        x = L.GlobalAveragePooling2D(name="gap")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=_real(init, "glorot", next(seed_iter)), name="output")(x)
        return keras.Model(inp, out, name=name)

    def widths_of(s):
        c = max(1, round(16 * s))
        return (c, c, max(1, round(32 * s)), max(1, round(64 * s)))

    fit = _settle("resnet_like", target, tolerance, max_params, _cnn_fits(
        target, tolerance, max_params, extra_blocks, key="extra_blocks", widths_of=widths_of,
        params_of=params_of, build=build, n_seeds=n_seeds,
        s_eff=_efficient_width(shape) / 16))
    return _finish("resnet_like", fit, target, tolerance, random_state, name)


#: The builders by family name (used by the capacity sweep's demo).
FAMILIES = {"mlp": mlp, "alexnet_like": alexnet_like, "resnet_like": resnet_like}

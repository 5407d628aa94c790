"""The warehouse's multilayer perceptron."""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_shape
from .search import (
    DEFAULT_MAX_PARAMS,
    DEFAULT_TOLERANCE,
    Plan,
    capacity_of,
    check_common,
    finish,
    fit_plan,
    initializer,
    output_activation_of,
    settle,
)

__all__ = ["mlp"]


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
    shape = check_shape(input_shape)
    n_classes, target, tolerance, max_params = check_common(n_classes, target_bits, tolerance,
                                                            max_params)
    depth = check_int(depth, name="depth")
    input_pool = _check_input_pool(input_pool, shape, input_shape)
    out_act = output_activation_of(output_activation)

    def plan(pool):
        return _mlp_plan(shape, n_classes, pool=pool, depth=depth, activation=activation,
                         out_act=out_act, name=name)

    goal = (tolerance or DEFAULT_TOLERANCE) / 4
    fit = settle("mlp", target, tolerance, max_params,
                 _mlp_fits(plan, shape, input_pool, target, max_params=max_params, goal=goal))
    return finish("mlp", fit, target, tolerance, random_state, name)


def _check_input_pool(input_pool, shape, input_shape):
    input_pool = check_int(input_pool, name="input_pool", minimum=1, allow_none=True)
    if input_pool not in (None, 1) and len(shape) != 3:
        raise ValueError(f"input_pool needs an image input_shape (H, W, C), got {input_shape!r}")
    if input_pool is not None and len(shape) == 3 and input_pool > min(shape[:2]):
        raise ValueError(f"input_pool must be at most the image side {min(shape[:2])}, "
                         f"got {input_pool}")
    return input_pool


def _mlp_fits(plan, shape, input_pool, target, *, max_params, goal):
    """No pooling first, then each pooling factor that gives a new size: lazily."""
    if input_pool is not None:
        yield fit_plan(plan(input_pool), target, max_params=max_params, goal=goal)
        return
    first = fit_plan(plan(1), target, max_params=max_params, goal=goal)
    yield first
    if len(shape) == 3 and (first is None or not first.above_reach):
        pooled = {tuple(shape[:2])}
        for pool in range(2, min(shape[:2]) + 1):  # fewer inputs, cheaper units
            size = (math.ceil(shape[0] / pool), math.ceil(shape[1] / pool))
            if size not in pooled:  # a larger factor that pools to the same size adds nothing
                pooled.add(size)
                yield fit_plan(plan(pool), target, max_params=max_params, goal=goal)


def _mlp_plan(shape, n_classes, *, pool, depth, activation, out_act, name):
    """The mlp with ``pool``-fold input pooling, searched over its hidden width."""
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
                        kernel_initializer=initializer(init, "glorot", seeds[i]),
                        name=f"dense_{i + 1}")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=initializer(init, "glorot", seeds[depth]),
                      name="output")(x)
        return keras.Model(inp, out, name=name)

    return Plan(structure={"input_pool": pool}, widths_of=lambda s: (max(1, round(s)),),
                params_of=params_of, measure=capacity_of(build),
                build=lambda w, seeds: build(w, "real", seeds), n_seeds=depth + 1)

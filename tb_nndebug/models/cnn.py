"""The warehouse's convolutional families: a small AlexNet and a small ResNet."""
from __future__ import annotations

import math

from .._validation import check_int, check_number, check_shape
from .search import (
    DEFAULT_MAX_PARAMS,
    DEFAULT_TOLERANCE,
    Plan,
    capacity_of,
    check_common,
    efficient_width,
    finish,
    fit_plan,
    initializer,
    output_activation_of,
    scaled,
    settle,
    solve_depth,
)

__all__ = ["alexnet_like", "resnet_like"]


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
    shape = check_shape(input_shape, ndim=3, min_side=8, what="alexnet_like")
    n_classes, target, tolerance, max_params = check_common(n_classes, target_bits, tolerance,
                                                            max_params)
    dropout = check_number(dropout, name="dropout", low=0, high=1, inclusive="left")
    extra_layers = check_int(extra_layers, name="extra_layers", minimum=0, allow_none=True)
    out_act = output_activation_of(output_activation)
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
                     kernel_initializer=initializer(init, "he", seeds[0]), name="conv1")(inp)
        for i in range(extra):
            # a residual unit starting as the identity (BN scale 0), so a deep
            # stack trains like the shallow network; a plain stack of ~100
            # layers does not train here
            y = L.Conv2D(c1, 3, padding="same", use_bias=False,
                         kernel_initializer=initializer(init, "he", seeds[7 + i]),
                         name=f"conv1_{i + 1}")(x)
            y = L.BatchNormalization(momentum=0.9, gamma_initializer="zeros",
                                     name=f"conv1_{i + 1}_bn")(y)
            x = L.Activation("relu", name=f"conv1_{i + 1}_out")(
                L.Add(name=f"conv1_{i + 1}_add")([x, y]))
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = L.Conv2D(c2, 5, padding="same", activation="relu",
                     kernel_initializer=initializer(init, "he", seeds[1]), name="conv2")(x)
        x = L.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(f1, activation="relu", kernel_initializer=initializer(init, "glorot", seeds[2]),
                    name="fc1")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[5], name="drop1")(x)
        x = L.Dense(f2, activation="relu", kernel_initializer=initializer(init, "glorot", seeds[3]),
                    name="fc2")(x)
        if dropout:
            x = L.Dropout(dropout, seed=seeds[6], name="drop2")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=initializer(init, "glorot", seeds[4]), name="output")(x)
        return keras.Model(inp, out, name=name)

    def n_seeds(extra):
        return 7 + extra

    fit = settle("alexnet_like", target, tolerance, max_params, _cnn_fits(
        target, tolerance, max_params, extra_layers, key="extra_layers",
        widths_of=scaled((56, 64, 384, 192)), params_of=params_of, build=build,
        n_seeds=n_seeds, s_eff=efficient_width(shape) / 56))
    return finish("alexnet_like", fit, target, tolerance, random_state, name)


def _cnn_fits(target, tolerance, max_params, extra, *, key, widths_of, params_of, build,
              n_seeds, s_eff):
    """Width up to the efficient width (or the fixed depth), then depth: lazily."""
    goal = (tolerance or DEFAULT_TOLERANCE) / 4

    def plan(n, s_cap=math.inf, measure=None):
        return Plan(structure={key: n}, widths_of=widths_of,
                     params_of=lambda w: params_of(w, n),
                     measure=measure or capacity_of(lambda w: build(w, n)),
                     build=lambda w, seeds: build(w, n, "real", seeds), n_seeds=n_seeds(n),
                     s_cap=s_cap)

    if extra is not None:
        yield fit_plan(plan(extra), target, max_params=max_params, goal=goal)
        return
    first = fit_plan(plan(0, s_cap=s_eff), target, max_params=max_params, goal=goal)
    yield first
    if first is not None and first.bits < target:
        depth = solve_depth(target, widths_of=widths_of, params_of=params_of, build=build,
                             s_eff=s_eff, max_params=max_params)
        if depth is not None:
            n, measure = depth
            yield fit_plan(plan(n, measure=measure), target, max_params=max_params, goal=goal)


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
    shape = check_shape(input_shape, ndim=3, min_side=4, what="resnet_like")
    n_classes, target, tolerance, max_params = check_common(n_classes, target_bits, tolerance,
                                                            max_params)
    blocks = check_int(blocks, name="blocks")
    extra_blocks = check_int(extra_blocks, name="extra_blocks", minimum=0, allow_none=True)
    out_act = output_activation_of(output_activation)
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
                     kernel_initializer=initializer(init, "he", next(seed_iter)),
                     name="stem_conv")(inp)
        x = L.BatchNormalization(momentum=0.9, name="stem_bn")(x)
        x = L.Activation("relu", name="stem_relu")(x)
        prev = w[0]
        for stage, (c, n) in enumerate(zip(w[1:], stage_blocks(extra))):
            for b in range(n):
                stride = 2 if (stage > 0 and b == 0) else 1
                tag = f"s{stage + 1}b{b + 1}"
                y = L.Conv2D(c, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer=initializer(init, "he", next(seed_iter)),
                             name=f"{tag}_conv1")(x)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn1")(y)
                y = L.Activation("relu", name=f"{tag}_relu1")(y)
                y = L.Conv2D(c, 3, padding="same", use_bias=False,
                             kernel_initializer=initializer(init, "he", next(seed_iter)),
                             name=f"{tag}_conv2")(y)
                y = L.BatchNormalization(momentum=0.9, name=f"{tag}_bn2")(y)
                shortcut = x
                if stride != 1 or prev != c:
                    shortcut = L.Conv2D(c, 1, strides=stride, use_bias=False,
                                        kernel_initializer=initializer(init, "he", next(seed_iter)),
                                        name=f"{tag}_proj")(x)
                    shortcut = L.BatchNormalization(momentum=0.9, name=f"{tag}_proj_bn")(shortcut)
                x = L.Activation("relu", name=f"{tag}_out")(L.Add(name=f"{tag}_add")([y, shortcut]))
                prev = c
        x = L.GlobalAveragePooling2D(name="gap")(x)
        out = L.Dense(n_classes, activation=out_act,
                      kernel_initializer=initializer(init, "glorot", next(seed_iter)),
                      name="output")(x)
        return keras.Model(inp, out, name=name)

    def widths_of(s):
        c = max(1, round(16 * s))
        return (c, c, max(1, round(32 * s)), max(1, round(64 * s)))

    fit = settle("resnet_like", target, tolerance, max_params, _cnn_fits(
        target, tolerance, max_params, extra_blocks, key="extra_blocks", widths_of=widths_of,
        params_of=params_of, build=build, n_seeds=n_seeds,
        s_eff=efficient_width(shape) / 16))
    return finish("resnet_like", fit, target, tolerance, random_state, name)

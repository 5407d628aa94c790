"""The per-epoch probe: one forward/backward pass on a fixed batch of training samples.

It gives the loss in inference mode, the gradient norm of every layer with
trainable variables (grouped by layer path, so ``SeparableConv2D``, LSTM,
``Embedding``, ``MultiHeadAttention`` and sub-models' layers are covered as
well as ``Dense``), the global gradient norm, which ReLU units fire, and the
spread of the predictions across samples.

Everything but the gradient itself is ``keras.ops`` (backend-neutral); the
gradient is one small function per Keras backend: a ``GradientTape`` traced
once with ``tf.function`` (TensorFlow), ``jax.value_and_grad`` over the JAX
trainer's stateless loss, jitted once (JAX), ``torch.autograd.grad`` (PyTorch).
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..records import keras_facts as ki

#: The Keras backends the probe has a gradient function for.
BACKENDS = ("tensorflow", "jax", "torch")


def _first_output(pred):
    if isinstance(pred, dict):
        return next(iter(pred.values()))
    if isinstance(pred, (list, tuple)):
        return pred[0]
    return pred


def _square_sum(g):
    return None if g is None else ops.sum(ops.square(ops.cast(g, "float32")))


def _group_squares(grads, sizes):
    """The summed squared gradient of each group of ``sizes`` variables; -1 marks a
    group the loss does not reach (every gradient None)."""
    squares, i = [], 0
    for size in sizes:
        parts = [s for s in (_square_sum(g) for g in grads[i:i + size]) if s is not None]
        squares.append(ops.sum(ops.stack(parts)) if parts else ops.convert_to_tensor(-1.0))
        i += size
    return squares


def _signals(pred, acts):
    """``(spread of the first output across samples, per ReLU layer which units fire, the
    predictions flattened)``."""
    out = ops.cast(_first_output(pred), "float32")
    out = ops.reshape(out, (ops.shape(out)[0], -1))
    spread = ops.mean(ops.std(out, axis=0))
    # a unit (a channel for convolutions) is alive if it fires anywhere
    actives = [ops.any(ops.reshape(o, (-1, ops.shape(o)[-1])) > 0, axis=0) for o in acts]
    return spread, actives, keras.tree.flatten(pred)


def _forward(model):
    """``(forward, activations, relu)``: ``forward(x)`` is ``(predictions, [output of each
    layer in relu])`` in inference mode, ``activations(x)`` the second part alone, ``relu``
    the ReLU layers the model's graph reaches.

    One pass where the graph allows: a model from the inputs to both the outputs and the
    ReLU layers' outputs (a tap model beside the model's own call runs most of the network
    twice, and its trace was a third of the probe's on the corpus' residual CNN). Without a
    graph to tap: the model's own call, and no activations.
    """
    def plain(x):
        return model(x, training=False), []

    def none(x):
        return []

    try:
        if not model.inputs:
            return plain, none, []
    except (AttributeError, ValueError):
        return plain, none, []
    relu = ki.relu_layers(model)
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    try:
        tap = keras.Model(inputs=inputs, outputs=[layer.output for layer in relu]) \
            if relu else None
    except Exception:  # noqa: BLE001 - a graph Keras cannot cut: no dead-unit signal
        tap = None
    if tap is None:
        return plain, none, []

    def activations(x):
        return list(tap(x, training=False))

    try:
        out = model.outputs[0] if isinstance(model, keras.Sequential) else model.output
        both = keras.Model(inputs=inputs, outputs=[out, tap.outputs])
    except Exception:  # noqa: BLE001 - no output structure to rebuild: two passes
        return (lambda x: (model(x, training=False), activations(x))), activations, relu

    def forward(x):
        pred, seen = both(x, training=False)
        return pred, list(seen)

    return forward, activations, relu


# ---------------------------------------------------------------- one function per backend
# Each builds ``run(x, y) -> (loss, squares, spread, actives, predictions)`` (the last three
# from :func:`_signals`) for the variables in ``variables`` (grouped by ``sizes``) from
# ``forward`` or ``activations`` (see :func:`_forward`); the loss is 0 and squares are -1
# without a loss.


def _tensorflow_run(model, variables, sizes, forward, activations, with_loss):
    import tensorflow as tf

    @tf.function(autograph=False)  # plain Python control flow here; tracing is the cost
    def run(x, y):
        with tf.GradientTape() as tape:
            pred, acts = forward(x)
            loss = (model.compute_loss(x=x, y=y, y_pred=pred, training=False)
                    if with_loss else tf.constant(0.0))
        grads = tape.gradient(loss, variables) if with_loss else [None] * len(variables)
        # embedding tables: the rows this batch touched
        grads = [g.values if isinstance(g, tf.IndexedSlices) else g for g in grads]
        return (tf.cast(loss, tf.float32), _group_squares(grads, sizes)) + _signals(pred, acts)

    return run


def _jax_reachable(fn, args, n):
    """Which of the first ``n`` flat inputs of ``fn`` the first output depends on, read off
    its jaxpr (JAX returns zeros, not None, for a variable the loss does not reach)."""
    import jax
    from jax.extend.core import Literal

    jaxpr = jax.make_jaxpr(fn)(*args).jaxpr
    needed = {v for v in jaxpr.outvars[:1] if not isinstance(v, Literal)}
    for eqn in reversed(jaxpr.eqns):
        if any(o in needed for o in eqn.outvars):
            needed.update(v for v in eqn.invars if not isinstance(v, Literal))
    return [v in needed for v in jaxpr.invars[:n]]


def _jax_run(model, variables, sizes, forward, activations, with_loss):
    import jax

    position = {id(v): i for i, v in enumerate(model.trainable_variables)}
    order = [position[id(v)] for v in variables]  # the groups' order of the variables

    def loss_fn(trainable, non_trainable, metrics, x, y):
        # the JAX trainer's own stateless loss (forward-pass losses and regularisers included)
        loss, (_, pred, _, _) = model.compute_loss_and_updates(
            trainable, non_trainable, metrics, x, y, None, training=False)
        return loss, pred

    grad_fn = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))
    reached = []

    def state():
        return ([v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables],
                [v.value for v in model.metrics_variables])

    def run(x, y):
        if not with_loss:
            return ((ops.convert_to_tensor(0.0), [ops.convert_to_tensor(-1.0)] * len(sizes))
                    + _signals(*forward(x)))
        args = state() + (x, y)
        if not reached:
            reached.extend(_jax_reachable(loss_fn, args, len(args[0])))
        (loss, pred), grads = grad_fn(*args)
        grads = [grads[i] if reached[i] else None for i in order]
        # the activations from an inference pass of their own (the loss is the trainer's)
        acts = activations(x)
        return (ops.cast(loss, "float32"), _group_squares(grads, sizes)) + _signals(pred, acts)

    return run


def _torch_run(model, variables, sizes, forward, activations, with_loss):
    import torch

    params = [v.value for v in variables]

    def run(x, y):
        if not with_loss:
            with torch.no_grad():
                return ((ops.convert_to_tensor(0.0), [ops.convert_to_tensor(-1.0)] * len(sizes))
                        + _signals(*forward(x)))
        with torch.enable_grad():
            pred, acts = forward(x)
            loss = model.compute_loss(x=x, y=y, y_pred=pred, training=False)
            grads = (torch.autograd.grad(loss, params, allow_unused=True)
                     if loss.requires_grad else [None] * len(params))
        with torch.no_grad():
            return ((ops.cast(loss, "float32"), _group_squares(grads, sizes))
                    + _signals(pred, acts))

    return run


_RUNS = {"tensorflow": _tensorflow_run, "jax": _jax_run, "torch": _torch_run}


def _to_tensors(tree):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.nest.map_structure(tf.convert_to_tensor, tree)  # strings too
    return keras.tree.map_structure(ops.convert_to_tensor, tree)


def _number(t) -> float:
    return float(np.asarray(ops.convert_to_numpy(t)))


class Probe:
    """The compiled probe for one model (build once, call each epoch).

    Parameters
    ----------
    model : keras.Model
    x, y : array or nested structure of arrays
        The fixed probe batch (``y`` may be None: then no loss and no gradients).
    with_loss : bool
        Compute the loss and the gradients (the model is compiled with a loss).

    Raises
    ------
    NotImplementedError
        Under a Keras backend the probe has no gradient function for (see
        :data:`BACKENDS`).
    """

    def __init__(self, model, x, y, *, with_loss: bool):
        backend = keras.backend.backend()
        if backend not in _RUNS:
            raise NotImplementedError(
                f"the probe has no implementation for the Keras backend {backend!r} "
                f"(it supports {', '.join(BACKENDS)}): gradient norms, dead units and the "
                "probe loss are not measured")
        self.model = model
        self.groups = ki.variable_groups(model)
        self.x = _to_tensors(x)
        self.y = None if y is None else _to_tensors(y)
        self.with_loss = with_loss and y is not None
        forward, activations, self.relu = _forward(model)
        variables = [v for _, vs, _ in self.groups for v in vs]
        sizes = [len(vs) for _, vs, _ in self.groups]
        self._run = _RUNS[backend](model, variables, sizes, forward, activations,
                                   self.with_loss)

    def __call__(self, x=None, y=None, *, predictions: bool = False) -> dict:
        """``{"loss", "grad_norms", "grad_norm_total", "probe_output_std", "dead_units"}``
        on the probe batch, or on ``x``, ``y`` of the same shapes (one trace serves both);
        with ``predictions``, also ``"predictions"``: the model's outputs in inference
        mode, flattened, as arrays."""
        if x is None:
            x, y = self.x, self.y
        else:
            x, y = _to_tensors(x), None if y is None or self.y is None else _to_tensors(y)
        loss, squares, spread, actives, preds = self._run(x, y)
        grad_norms, total = [], 0.0
        for (path, vs, weighted), sq in zip(self.groups, squares):
            sq = _number(sq)
            entry = {"layer": path, "norm": None, "weighted": bool(weighted),
                     "variables": len(vs)}
            if not np.isfinite(sq):
                entry["nonfinite"] = True
            elif sq >= 0:
                entry["norm"] = float(np.sqrt(sq))
            grad_norms.append(entry)
            total = total + sq if sq >= 0 or not np.isfinite(sq) else total
        dead = None
        if self.relu:
            dead = []
            for layer, active in zip(self.relu, actives):
                active = np.asarray(ops.convert_to_numpy(active))
                dead.append({"layer": layer.name, "fraction": float(1.0 - active.mean()),
                             "units": int(active.shape[0])})
        loss = _number(loss) if self.with_loss else None
        spread = _number(spread)
        out = {"predictions": [np.asarray(ops.convert_to_numpy(p)) for p in preds]} \
            if predictions else {}
        return {**out, "loss": loss,
                "grad_norms": grad_norms if self.with_loss else None,
                "grad_norm_total": float(np.sqrt(total)) if self.with_loss and np.isfinite(total)
                else None,
                "probe_output_std": spread if np.isfinite(spread) else None,
                "dead_units": dead}

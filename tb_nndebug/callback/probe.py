"""The per-epoch probe: one forward/backward pass on a fixed batch of training samples.

It gives the loss in inference mode, the gradient norm of every layer with
trainable variables (grouped by layer path, so ``SeparableConv2D``, LSTM,
``Embedding``, ``MultiHeadAttention`` and sub-models' layers are covered as
well as ``Dense``), the global gradient norm, which ReLU units fire, and the
spread of the predictions across samples. TensorFlow backend.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..records import keras_facts as ki


def _first_output(pred):
    if isinstance(pred, dict):
        return next(iter(pred.values()))
    if isinstance(pred, (list, tuple)):
        return pred[0]
    return pred


def _norm(g):
    if g is None:
        return None
    if isinstance(g, tf.IndexedSlices):  # embedding tables: the rows this batch touched
        g = g.values
    return tf.reduce_sum(tf.square(tf.cast(g, tf.float32)))


def _relu_tap(model):
    """A model from the inputs to the output of each ReLU layer it can reach, and those
    layers; ``(None, [])`` when the model has no graph to tap."""
    try:
        if not model.inputs:
            return None, []
    except (AttributeError, ValueError):
        return None, []
    relu = ki.relu_layers(model)
    if not relu:
        return None, []
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    try:
        return keras.Model(inputs=inputs, outputs=[layer.output for layer in relu]), relu
    except Exception:  # noqa: BLE001 - a graph Keras cannot cut: no dead-unit signal
        return None, []


class Probe:
    """The compiled probe for one model (build once, call each epoch)."""

    def __init__(self, model, x, y, *, with_loss: bool):
        self.model = model
        self.groups = ki.variable_groups(model)
        self.x = tf.nest.map_structure(tf.convert_to_tensor, x)
        self.y = None if y is None else tf.nest.map_structure(tf.convert_to_tensor, y)
        self.with_loss = with_loss and y is not None
        self.tap, self.relu = _relu_tap(model)
        variables = [v for _, vs, _ in self.groups for v in vs]
        sizes = [len(vs) for _, vs, _ in self.groups]
        tap, with_loss = self.tap, self.with_loss

        @tf.function(autograph=False)  # plain Python control flow here; tracing is the cost
        def run(x, y):
            with tf.GradientTape() as tape:
                pred = model(x, training=False)
                loss = (model.compute_loss(x=x, y=y, y_pred=pred, training=False)
                        if with_loss else tf.constant(0.0))
            grads = tape.gradient(loss, variables) if with_loss else [None] * len(variables)
            squares, i = [], 0
            for size in sizes:  # -1 marks a layer the loss does not reach
                parts = [s for s in (_norm(g) for g in grads[i:i + size]) if s is not None]
                squares.append(tf.add_n(parts) if parts else tf.constant(-1.0))
                i += size
            out = tf.cast(_first_output(pred), tf.float32)
            out = tf.reshape(out, [tf.shape(out)[0], -1])
            spread = tf.reduce_mean(tf.math.reduce_std(out, axis=0))
            actives = []
            if tap is not None:
                outs = tap(x, training=False)
                outs = outs if isinstance(outs, (list, tuple)) else [outs]
                # a unit (a channel for convolutions) is alive if it fires anywhere
                actives = [tf.reduce_any(tf.reshape(o, [-1, tf.shape(o)[-1]]) > 0, axis=0)
                           for o in outs]
            return tf.cast(loss, tf.float32), squares, spread, actives

        self._run = run

    def __call__(self) -> dict:
        """``{"loss", "grad_norms", "grad_norm_total", "probe_output_std", "dead_units"}``."""
        loss, squares, spread, actives = self._run(self.x, self.y)
        grad_norms, total = [], 0.0
        for (path, vs, weighted), sq in zip(self.groups, squares):
            sq = float(sq.numpy())
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
                active = np.asarray(active)
                dead.append({"layer": layer.name, "fraction": float(1.0 - active.mean()),
                             "units": int(active.shape[0])})
        loss = float(np.asarray(loss)) if self.with_loss else None
        spread = float(np.asarray(spread))
        return {"loss": loss,
                "grad_norms": grad_norms if self.with_loss else None,
                "grad_norm_total": float(np.sqrt(total)) if self.with_loss and np.isfinite(total)
                else None,
                "probe_output_std": spread if np.isfinite(spread) else None,
                "dead_units": dead}

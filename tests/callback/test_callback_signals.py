"""The per-epoch signals the callback records equal a direct computation."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from tb_nndebug.callback import DebuggerCallback

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:500] / 16.0).astype("float32"), y[:500].astype("int32")


class Snapshot(keras.callbacks.Callback):
    """Keeps the kernels at train begin and after each epoch (runs after the debugger)."""

    def on_train_begin(self, logs=None):
        self.kernels = [[w.numpy().copy() for w in self._kernels()]]

    def on_epoch_end(self, epoch, logs=None):
        self.kernels.append([w.numpy().copy() for w in self._kernels()])

    def _kernels(self):
        return [layer.kernel for layer in self.model.layers if hasattr(layer, "kernel")]


def test_gradient_norms_dead_units_and_update_ratio_are_exact(tmp_path, digits):
    X, y = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    cb = DebuggerCallback(tmp_path, train_data=(X, y), batch_size=100, verbose=0, csg=False)
    snap = Snapshot()
    model.fit(X, y, epochs=2, batch_size=50, verbose=0, callbacks=[cb, snap])
    xp, yp = cb._probe
    assert len(xp) == 100
    doc = cb.records["training"][-1]["value"]
    # gradients of the compiled loss on the probe batch, layer by layer (kernel and bias)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(yp, model(xp, training=False))
    grads = tape.gradient(loss, [layer.trainable_variables for layer in model.layers])
    want = [float(tf.linalg.global_norm(g)) for g in grads]
    assert [g["layer"] for g in doc["grad_norms"]] == [layer.name for layer in model.layers]
    assert [g["norm"] for g in doc["grad_norms"]] == pytest.approx(want, rel=1e-4)
    assert [(g["weighted"], g["variables"]) for g in doc["grad_norms"]] == [(True, 2)] * 3
    assert doc["grad_norm_total"] == pytest.approx(float(tf.linalg.global_norm(
        [g for gs in grads for g in gs])), rel=1e-4)
    assert doc["probe_loss"] == pytest.approx(float(loss), rel=1e-5)
    # dead units: share of units that output <= 0 on every probe sample
    h1 = model.layers[0](xp).numpy()
    h2 = model.layers[1](h1).numpy()
    dead = [float((h <= 0).all(axis=0).mean()) for h in (h1, h2)]
    assert [d["fraction"] for d in doc["dead_units"]] == pytest.approx(dead)
    assert [d["units"] for d in doc["dead_units"]] == [32, 16]
    # update ratio: |W_1 - W_0| / |W_0| over all kernels, epoch 1 vs epoch 0
    w0, w1 = snap.kernels[1], snap.kernels[2]
    num = sum(float(np.sum((a - b) ** 2)) for a, b in zip(w1, w0))
    den = sum(float(np.sum(b ** 2)) for b in w0)
    assert doc["weight_update_ratio"] == pytest.approx(np.sqrt(num / den), rel=1e-5)
    assert doc["history"]["loss"] == pytest.approx(model.history.history["loss"])
    checks = cb.records["checks"][0]["value"]
    assert checks["initial_loss"] is not None and checks["inference_deterministic"] is True
    assert checks["label_range"] == [0.0, 9.0] and checks["epochs_planned"] == 2


def test_conv_dead_units_count_channels(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(64, 8, 8, 1).astype("float32")
    y = (X.mean(axis=(1, 2, 3)) > 0.5).astype("int32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(6, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=0, csg=False)
    model.fit(X, y, epochs=1, verbose=0, callbacks=[cb])
    h = model.layers[0](cb._probe[0]).numpy()
    want = float((h <= 0).all(axis=(0, 1, 2)).mean())
    got = cb.records["training"][0]["value"]["dead_units"]
    assert got == [{"layer": model.layers[0].name, "fraction": pytest.approx(want), "units": 6}]


def test_regression_targets_skip_the_dataset_measures_with_a_reason(tmp_path, digits):
    X, _ = digits
    target = X.mean(axis=1)  # continuous
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile("adam", "mse")
    cb = DebuggerCallback(tmp_path, train_data=(X, target), verbose=0)
    model.fit(X, target, epochs=2, verbose=0, callbacks=[cb])
    assert "dataset" not in cb.records
    (skipped,) = [f for f in cb.findings if f.id == "dataset.not_measured"]
    assert "continuous" in skipped.title and skipped.severity == "info"
    assert cb.records["training"][-1]["value"]["grad_norms"]


def test_probe_reads_predictions_and_relu_activations_from_one_pass(digits):
    """A two-head functional model (dict outputs): the probe's loss and dead units are those
    of the model, and its trace runs the hidden ReLU layer once, not once for the
    predictions and again for a tap on the activations."""
    from tb_nndebug.callback.probe import Probe

    X, y = digits
    keras.utils.set_random_seed(0)
    inp = keras.Input((64,))
    h = keras.layers.Dense(32, activation="relu", name="hidden")(inp)
    model = keras.Model(inp, {"digit": keras.layers.Dense(10, activation="softmax",
                                                           name="digit")(h),
                              "even": keras.layers.Dense(1, activation="sigmoid",
                                                         name="even")(h)})
    model.compile("adam", loss={"digit": "sparse_categorical_crossentropy",
                                "even": "binary_crossentropy"})
    xp = X[:128]
    yp = {"digit": y[:128], "even": (y[:128] % 2 == 0).astype("float32")[:, None]}
    # built first: a trace that creates the loss trackers' variables is traced again
    want = model.compute_loss(x=xp, y=yp, y_pred=model(xp, training=False), training=False)
    hidden = model.get_layer("hidden")
    calls = []
    own_call = hidden.call
    hidden.call = lambda *a, **k: calls.append(1) or own_call(*a, **k)
    res = Probe(model, xp, yp, with_loss=True)()
    assert len(calls) == 1
    hidden.call = own_call
    assert res["loss"] == pytest.approx(float(want), rel=1e-5)
    acts = hidden(xp).numpy()
    assert res["dead_units"] == [{"layer": "hidden", "units": 32,
                                  "fraction": pytest.approx(float((acts <= 0).all(0).mean()))}]
    assert [g["layer"] for g in res["grad_norms"]] == ["hidden", "digit", "even"]
    assert all(g["norm"] > 0 for g in res["grad_norms"])


class AlwaysDropout(keras.layers.Dropout):
    """Monte-Carlo dropout: random at inference too."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@pytest.mark.parametrize("dropout", [None, AlwaysDropout])
def test_train_begin_checks_run_through_the_probe_trace_not_eager_passes(tmp_path, digits,
                                                                         dropout):
    """The initial loss and the determinism check come from two calls of the probe's one
    trace (an eager pass of a recurrent network costs more than that trace): the hidden
    layer runs once at train begin, in the trace, and dropout left on at inference is
    still caught."""
    X, y = digits
    keras.utils.set_random_seed(0)
    layers = [keras.Input((64,)), keras.layers.Dense(32, activation="relu", name="hidden")]
    layers += [dropout(0.5)] if dropout else []
    model = keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    hidden = model.get_layer("hidden")
    eager = []
    own_call = hidden.call
    hidden.call = lambda *a, **k: eager.append(tf.executing_eagerly()) or own_call(*a, **k)
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=0)
    cb.set_model(model)
    cb.on_train_begin()
    hidden.call = own_call
    assert eager == [False]
    checks = cb.records["checks"][0]["value"]
    assert checks["inference_deterministic"] is (dropout is None)
    assert (checks["inference_max_diff"] == 0.0) is (dropout is None)
    assert checks["initial_loss"] is not None
    if dropout is None:
        xp, yp = cb._probe
        want = keras.losses.sparse_categorical_crossentropy(yp, model(xp, training=False))
        assert checks["initial_loss"] == pytest.approx(float(np.mean(want)), rel=1e-5)
    cb.on_train_end()

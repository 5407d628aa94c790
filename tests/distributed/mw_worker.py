"""One worker of the two-process MultiWorkerMirroredStrategy test (``test_multiworker.py``).

``python mw_worker.py LOG_DIR OUT_DIR [--fit-in-scope] [--on-read-layer]`` with
``TF_CONFIG`` set: builds the digits MLP under the strategy, fits it with
``DebuggerCallback(LOG_DIR)`` (outside the strategy's scope, as TensorFlow's
multi-worker tutorial does, or inside it) and writes
``OUT_DIR/{initial,final}_<task type>_<index>.npz`` (the weights before and after the
fit) so the test can check that the workers agree and recompute the
chief's signals.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

N_SAMPLES, EPOCHS, GLOBAL_BATCH = 480, 3, 64


def digits():
    """The first ``N_SAMPLES`` of scikit-learn's bundled digits, scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:N_SAMPLES].astype("float32") / 16.0, y[:N_SAMPLES].astype("int64")


def build(keras, *, on_read=False):
    """The digits MLP; ``on_read`` puts a layer with a ``synchronization="on_read"``
    variable first (a read of it outside a replica context is an all-reduce)."""
    keras.utils.set_random_seed(0)
    first = [RunningCentre(keras)] if on_read else []
    model = keras.Sequential([keras.Input((64,)), *first,
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def RunningCentre(keras):  # noqa: N802 - builds the layer class once Keras is imported
    class _RunningCentre(keras.layers.Layer):
        """Sums the training inputs it sees in ``on_read`` variables (each replica its
        own share; a read outside a replica context all-reduces them) and subtracts
        their mean at inference."""

        def build(self, input_shape):
            self.total = keras.Variable(keras.ops.zeros(input_shape[1:]), trainable=False,
                                        synchronization="on_read", aggregation="sum",
                                        name="total")
            self.seen = keras.Variable(0.0, trainable=False, synchronization="on_read",
                                       aggregation="sum", name="seen")

        def call(self, x, training=False):
            if training:
                self.total.assign_add(keras.ops.sum(x, axis=0))
                self.seen.assign_add(keras.ops.cast(keras.ops.shape(x)[0], "float32"))
                return x
            return x - self.total / keras.ops.maximum(self.seen, 1.0)

    return _RunningCentre(name="running_centre")


def reduce_nested(strategy, tf):
    """Keras 3.15's ``fit`` under a multi-worker strategy passes ``strategy.reduce`` an
    ``(x, y)`` tuple (``_maybe_symbolic_build``) and scalar metrics with ``axis=0``
    (``reduce_per_replica``); TensorFlow reduces one tensor at a time ("TODO: support
    value being a nest") and a scalar has no axis 0, so the TensorFlow tutorial's
    ``fit`` fails (keras-team/keras#20585). This reduces each tensor of the structure,
    over the replicas only for scalars; the collectives are still TensorFlow's own."""
    reduce = strategy.reduce

    def one(op, value, axis):
        local = (strategy.experimental_local_results(value)[0]
                 if isinstance(value, tf.distribute.DistributedValues) else value)
        return reduce(op, value, axis=None if local.shape.rank == 0 else axis)

    strategy.reduce = lambda op, value, axis=None: tf.nest.map_structure(
        lambda v: one(op, v, axis), value)


def main(argv):
    log_dir, out_dir = argv[1], argv[2]
    in_scope = "--fit-in-scope" in argv
    on_read = "--on-read-layer" in argv
    import contextlib

    import keras
    import tensorflow as tf

    from tb_nndebug import DebuggerCallback

    task = json.loads(os.environ["TF_CONFIG"])["task"]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    reduce_nested(strategy, tf)
    X, y = digits()
    with strategy.scope():
        model = build(keras, on_read=on_read)
    name = f"{task['type']}_{task['index']}"
    np.savez(os.path.join(out_dir, f"initial_{name}.npz"), *model.get_weights())
    data = tf.data.Dataset.from_tensor_slices((X, y)).batch(GLOBAL_BATCH)
    # the probe batch is the whole training set, so its signals do not depend on row order
    cb = DebuggerCallback(log_dir, train_data=(X, y), batch_size=N_SAMPLES, verbose=1,
                          projection=False, random_state=0)
    with strategy.scope() if in_scope else contextlib.nullcontext():
        model.fit(data, epochs=EPOCHS, verbose=0, callbacks=[cb])
    np.savez(os.path.join(out_dir, f"final_{name}.npz"), *model.get_weights())
    print("worker done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

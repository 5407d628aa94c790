"""Time model.fit with and without DebuggerCallback and print the overhead.

    python benchmarks/bench_callback.py [--epochs 5] [--models mlp,cnn] [--repeat 4]

On the MNIST test set (10,000 images, scaled to [0, 1]) an MLP
(784-256-128-10) and a small CNN (conv16-pool-conv32-pool-dense10) are
trained with the same seed and the same initial weights, batch size 128:

- per epoch: the median epoch time over epochs 2..N (epoch 1 carries
  TensorFlow's tracing), best of ``--repeat`` alternating runs, including the
  callback's epoch-end work (gradient norms, dead units, update ratio on the
  256-sample probe batch, one record, diagnosis).           target <= 1.05x
- once: the callback's train-begin work (dataset complexity + CSG +
  balance + PCA projection, model capacity, static checks), reported
  separately — it does not grow with the number of epochs.

Run it on a quiet machine: the ratio is meaningless while other jobs share
the cores.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np


class EpochTimer:
    """Keras callback recording fit start, each epoch's start and end.

    Put it LAST in the callback list so its epoch end comes after the
    other callbacks' epoch-end work."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.t_begin = time.perf_counter()
                self.starts, self.ends = [], []

            def on_epoch_begin(self, epoch, logs=None):
                self.starts.append(time.perf_counter())

            def on_epoch_end(self, epoch, logs=None):
                self.ends.append(time.perf_counter())

        return _Timer()


def build(kind):
    import keras

    if kind == "mlp":
        layers = [keras.Input((28, 28, 1)), keras.layers.Flatten(),
                  keras.layers.Dense(256, activation="relu"),
                  keras.layers.Dense(128, activation="relu"),
                  keras.layers.Dense(10, activation="softmax")]
    else:
        layers = [keras.Input((28, 28, 1)),
                  keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
                  keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
                  keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    model = keras.Sequential(layers, name=kind)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def timed_fit(kind, X, y, epochs, with_callback, logdir):
    import keras

    from tb_nndebug.callback import DebuggerCallback

    keras.utils.set_random_seed(0)
    model = build(kind)
    pre, timer = EpochTimer(), EpochTimer()
    callbacks = [pre]
    if with_callback:
        callbacks.append(DebuggerCallback(logdir, train_data=(X, y), verbose=0))
    callbacks.append(timer)
    t0 = time.perf_counter()
    model.fit(X, y, epochs=epochs, batch_size=128, verbose=0, shuffle=True, callbacks=callbacks)
    total = time.perf_counter() - t0
    epoch_times = [e - s for s, e in zip(timer.starts, timer.ends)]
    # time spent between the two timers' epoch ends = the debugger's epoch-end work
    hook = [b - a for a, b in zip(pre.ends, timer.ends)]
    return {"hook": statistics.median(hook[1:] if len(hook) > 1 else hook), "total": total,
            "begin": timer.starts[0] - t0,
            "epoch": statistics.median(epoch_times[1:] if len(epoch_times) > 1 else epoch_times),
            "epochs": epoch_times}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args(argv)

    from tb_nndebug.datasets import load_mnist_test

    X, y = load_mnist_test()
    X = (X.astype("float32") / 255.0)[..., np.newaxis]
    y = y.astype("int32")
    print(f"MNIST test set {X.shape}, {args.epochs} epochs, batch 128")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models.split(","):
            timed_fit(kind, X[:512], y[:512], 1, False, tmp)  # warm TF up for this model kind
            bases, cbs = [], []
            for r in range(args.repeat):  # alternate, keep the best of each
                bases.append(timed_fit(kind, X, y, args.epochs, False, tmp))
                cbs.append(timed_fit(kind, X, y, args.epochs, True, f"{tmp}/{kind}{r}"))
            hook = min(t["hook"] for t in cbs)
            base = min(bases, key=lambda t: t["epoch"])
            cb = min(cbs, key=lambda t: t["epoch"])
            ratio = cb["epoch"] / base["epoch"]
            once = cb["begin"] - base["begin"]
            ok &= ratio <= 1.05
            print(f"{kind}: per epoch {base['epoch']:.3f} s without, {cb['epoch']:.3f} s with "
                  f"the callback -> ratio {ratio:.3f} (target <= 1.05: "
                  f"{'ok' if ratio <= 1.05 else 'MISSED'})")
            print(f"{kind}: the callback's epoch-end work alone: {hook * 1000:.1f} ms = "
                  f"{hook / base['epoch']:.1%} of a {base['epoch']:.3f} s epoch (load-robust)")
            print(f"{kind}: train-begin measures once: {once:.2f} s; whole fit "
                  f"{base['total']:.2f} s -> {cb['total']:.2f} s "
                  f"(ratio {cb['total'] / base['total']:.3f} incl. the one-off measures)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

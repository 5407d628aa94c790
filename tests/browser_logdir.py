"""The logdir the browser tests and the frontend benchmark open in TensorBoard.

Written only through the project's own API: ``DebuggerCallback`` on short,
real Keras fits (scikit-learn's digits), ``tb_nndebug.robustness`` +
``summary.robustness`` on the trained model, ``summary.run_info``, and for the
hostile run ``summary.balance`` / ``summary.diagnostic_error`` with text that
looks like HTML.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: A run directory whose name is markup; the tab must show it as text.
XSS_RUN = "<img src=x onerror=alert(1)>"
#: Text that would be markup if the tab used innerHTML.
XSS_DIAGNOSTIC = "<img src=x onerror=alert(2)>"
XSS_ERROR = "<b id=injected>bold</b><script>alert(3)</script>"
XSS_CLASS = "<i id=injected2>cat</i>"
#: The failure's traceback, behind the card's Details toggle: markup, and one line far wider
#: than the card.
XSS_DETAIL = ('Traceback (most recent call last):\n  File "<b id=injected3>model.py</b>", line 1, '
              "in <script>alert(4)</script> " + "y" * 600)


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow as tf

    return tf


def digits(random_state=0):
    """Digits scaled to [0, 1], split 80/20 (train, validation)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    return train_test_split(X, y, test_size=0.2, random_state=random_state, stratify=y)


def _mlp(units, random_state):
    import keras

    keras.utils.set_random_seed(random_state)
    model = keras.Sequential([
        keras.Input((64,)),
        *[keras.layers.Dense(u, activation="relu") for u in units],
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def fit_run(logdir, name, units, *, epochs=4, robustness_n=0, architecture="mlp",
            random_state=0):
    """Train an MLP on digits with TensorBoard + DebuggerCallback in ``logdir/name``."""
    _tf()
    import keras

    import tb_nndebug
    from tb_nndebug import summary

    Xtr, Xva, ytr, yva = digits(random_state)
    run = Path(logdir) / name
    model = _mlp(units, random_state)
    model.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=epochs, batch_size=64, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(run)),
                         tb_nndebug.DebuggerCallback(str(run), train_data=(Xtr, ytr),
                                                     verbose=0, random_state=random_state)])
    tf = _tf()
    # The callback's writer is closed at train end; a second event file in the
    # same run directory adds run_info and robustness to the same debugger run.
    with tf.summary.create_file_writer(str(run / "debugger")).as_default():
        summary.run_info("run_info", {"architecture": architecture, "units": list(units),
                                      "experiment": "browser-test"}, step=0)
        if robustness_n:
            res = tb_nndebug.robustness(model, Xva[:robustness_n], yva[:robustness_n],
                                        eps_max=0.5, bisection_steps=6, attack_steps=10,
                                        max_pixels=40, random_state=random_state)
            summary.robustness("robustness", res, step=0)
    return run


def hostile_run(logdir):
    """A run named like markup, with class names and an error text that are markup."""
    tf = _tf()
    from tb_nndebug import summary

    y = np.array([XSS_CLASS] * 3 + ["dog"] * 97)
    with tf.summary.create_file_writer(str(Path(logdir) / XSS_RUN / "debugger")).as_default():
        summary.balance("balance", y, step=0)
        summary.diagnostic_error(XSS_DIAGNOSTIC, XSS_ERROR + "\n" + XSS_DETAIL, epoch=0)


def build(logdir, *, robustness_n=24):
    """The browser tests' logdir: an oversized and an undersized MLP, and the hostile run.

    On digits (≈ 700 bits needed, memorising above ≈ 84,000), Dense(2048) has
    ≈ 133,000 bits of capacity and Dense(4) ≈ 260.
    """
    logdir = Path(logdir)
    fit_run(logdir, "oversized", (2048,), epochs=6, robustness_n=robustness_n)
    fit_run(logdir, "undersized", (4,), epochs=6, robustness_n=robustness_n)
    hostile_run(logdir)
    return logdir


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    build(sys.argv[1])
    print(f"built {sys.argv[1]} in {time.perf_counter() - t:.1f}s")

"""The soak test's writer: real Keras fits with DebuggerCallback into 20 runs of one logdir,
one run refitted (the same callback, fit twice) and one resumed (a new callback,
``initial_epoch``), while the test's clients poll TensorBoard. Prints, as one JSON line per
run, the findings the callback's console ends with.

    python soak_writer.py LOGDIR [--runs 20] [--epochs 4]
"""
from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logdir")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    import keras
    import numpy as np

    from tb_nndebug.callback import DebuggerCallback

    rng = np.random.default_rng(0)
    X = rng.random((128, 8), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    for i in range(args.runs):
        name = f"run{i:02d}"
        cb = DebuggerCallback(os.path.join(args.logdir, name), train_data=(X, y), verbose=0,
                              csg=False, projection=False)
        model.fit(X, y, epochs=args.epochs, batch_size=64, verbose=0, callbacks=[cb])
        if i == 1:  # refitted: the same callback, a second fit
            model.fit(X, y, epochs=args.epochs - 1, batch_size=64, verbose=0, callbacks=[cb])
        if i == 2:  # resumed: a new callback (as a new process would make), initial_epoch
            cb = DebuggerCallback(os.path.join(args.logdir, name), train_data=(X, y),
                                  verbose=0, csg=False, projection=False)
            model.fit(X, y, initial_epoch=args.epochs, epochs=2 * args.epochs, batch_size=64,
                      verbose=0, callbacks=[cb])
        print(json.dumps({"run": f"{name}/debugger",
                          "findings": [f.to_dict() for f in cb.findings]}), flush=True)


if __name__ == "__main__":
    main()

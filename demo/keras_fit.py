"""Debug a Keras ``model.fit`` run with one extra callback.

What it shows: a small dense network learns handwritten digits from the
MNIST test set that ships with tb_nndebug (nothing is downloaded). Next to
the usual ``keras.callbacks.TensorBoard`` for the curves, a
``tb_nndebug.DebuggerCallback`` measures the training data and the network
before the first epoch (how many bits the data needs, class overlap, class
balance, the network's capacity) and watches a fixed probe batch every epoch
(gradient norms per layer, dead ReLU units, how far the weights moved). The
findings are printed as they appear and once more at the end.

Run it, then open TensorBoard:

    python demo/keras_fit.py                  # writes runs/keras_fit
    tensorboard --logdir runs                 # open the Debugger tab

``--smoke`` trains on fewer images for two epochs (for tests); the numbers
then only show that everything is wired up.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tb_nndebug as nd  # noqa: E402
from tb_nndebug.datasets import load_mnist_test  # noqa: E402


def load_data(n_samples: int, seed: int):
    """``n_samples`` MNIST digits as flat vectors in [0, 1], in a seeded order."""
    images, labels = load_mnist_test()
    order = np.random.default_rng(seed).permutation(len(images))[:n_samples]
    X = images[order].reshape(len(order), -1).astype("float32") / 255.0
    y = labels[order].astype("int64")
    return X, y


def build_model(hidden_units: int) -> keras.Model:
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(hidden_units, activation="relu", name="hidden"),
        keras.layers.Dense(10, activation="softmax", name="digit"),
    ], name=f"mlp_{hidden_units}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=os.path.join("runs", "keras_fit"),
                        help="TensorBoard run folder (default: runs/keras_fit)")
    parser.add_argument("--samples", type=int, default=3000,
                        help="how many MNIST images to use (default: 3000)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default: 10)")
    parser.add_argument("--hidden", type=int, default=64,
                        help="units of the hidden layer (default: 64)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny and fast: 600 images, 2 epochs (for tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.samples, args.epochs = 600, 2

    keras.utils.set_random_seed(args.seed)        # same weights, same shuffles, every run
    X, y = load_data(args.samples, args.seed)
    model = build_model(args.hidden)

    debugger = nd.DebuggerCallback(
        args.logdir,                              # records go to <logdir>/debugger
        train_data=(X, y),                        # measured once; a probe batch comes from it
        random_state=args.seed,
    )
    model.fit(X, y, epochs=args.epochs, batch_size=64, validation_split=0.2, verbose=2,
              callbacks=[keras.callbacks.TensorBoard(args.logdir),  # train/ and validation/
                         debugger])

    print(f"\nfindings ({len(debugger.findings)}), most severe first:")
    for finding in debugger.findings:
        print(" ", finding.line())
    print(f"\nrecords in {os.path.join(args.logdir, 'debugger')}")
    parent = os.path.dirname(os.path.normpath(args.logdir)) or "."
    print(f"open them: tensorboard --logdir {parent}  (Debugger tab)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Debug a hand-written training loop with the summary API.

What it shows: no ``model.fit`` and no callback. A ``tf.GradientTape`` loop
trains a small network on scikit-learn's 8x8 digits, and the functions in
``tb_nndebug.summary`` write the debugger's records into an ordinary
``tf.summary`` file writer, the way ``tf.summary.scalar`` writes a number:

* ``summary.dataset`` once: the data's complexity in bits, class overlap
  (CSG) and class balance;
* ``summary.model`` once: the network's capacity against what the data needs;
* ``summary.checks`` once: the set-up (optimizer, learning rate, loss, label
  and input ranges, the loss before training);
* ``summary.training`` every epoch: the loss/accuracy history so far, the
  learning rate, the gradient norm of each layer's kernel and how far the
  weights moved.

At the end the script reads the event files back with ``read_records`` and
runs ``diagnose`` on them: the same findings the Debugger tab shows.
Try ``--lr 5`` to see what a far too large learning rate looks like.

    python demo/custom_loop.py                # writes runs/custom_loop
    tensorboard --logdir runs                 # open the Debugger tab

``--smoke`` runs three epochs (for tests).
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import tb_nndebug as nd  # noqa: E402
from tb_nndebug.records.reading import read_records  # noqa: E402


def kernels(model):
    """``[(layer name, kernel variable)]`` of the layers that have a kernel, input side first."""
    return [(layer.name, layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=os.path.join("runs", "custom_loop"),
                        help="TensorBoard run folder (default: runs/custom_loop)")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default: 30)")
    parser.add_argument("--lr", type=float, default=1e-2,
                        help="Adam's learning rate (default: 0.01; try 5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--smoke", action="store_true", help="three epochs only (for tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs = 3

    keras.utils.set_random_seed(args.seed)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")                         # pixels 0..16 -> [0, 1]
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.seed)

    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", name="hidden"),
        keras.layers.Dense(10, name="logits"),               # no softmax: the loss takes logits
    ], name="digits_mlp")
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(args.lr)

    def accuracy(logits, labels):
        return float(np.mean(np.argmax(logits, axis=1) == labels))

    # the debugger's records go to their own run, next to the curves' runs
    debugger = tf.summary.create_file_writer(os.path.join(args.logdir, "debugger"))
    curves = {split: tf.summary.create_file_writer(os.path.join(args.logdir, split))
              for split in ("train", "validation")}

    with debugger.as_default():
        nd.summary.dataset("train", X_train, y_train, step=0)
        nd.summary.model("model", model, step=0,
                         complexity=nd.dataset_complexity(X_train, y_train))
        # what a static check before training would see (all fields optional)
        nd.summary.checks("checks", {
            "optimizer": "Adam", "learning_rate": args.lr,
            "loss": {"name": "sparse_categorical_crossentropy", "from_logits": True},
            "output_activation": "linear", "n_outputs": 10,
            "label_range": [int(y_train.min()), int(y_train.max())],
            "input_range": [float(X_train.min()), float(X_train.max())],
            "batch_size": 64, "epochs_planned": args.epochs,
            "initial_loss": float(loss_fn(y_train, model(X_train, training=False))),
        }, step=0)

    batches = (tf.data.Dataset.from_tensor_slices((X_train, y_train))
               .shuffle(len(X_train), seed=args.seed).batch(64))
    history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
    previous = [k.numpy().copy() for _, k in kernels(model)]
    for epoch in range(args.epochs):
        losses = []
        for xb, yb in batches:
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            losses.append(float(loss))

        # gradient of each kernel on the whole training set, after the epoch
        with tf.GradientTape() as tape:
            train_logits = model(X_train, training=False)
            train_loss = loss_fn(y_train, train_logits)
        names_kernels = kernels(model)
        kernel_grads = tape.gradient(train_loss, [k for _, k in names_kernels])
        grad_norms = [{"layer": name, "norm": float(tf.norm(g))}
                      for (name, _), g in zip(names_kernels, kernel_grads)]
        current = [k.numpy() for _, k in names_kernels]
        moved = np.sqrt(sum(np.sum((c - p) ** 2) for c, p in zip(current, previous)))
        size = np.sqrt(sum(np.sum(p ** 2) for p in previous))
        previous = [c.copy() for c in current]

        val_logits = model(X_val, training=False)
        history["loss"].append(float(np.mean(losses)))
        history["val_loss"].append(float(loss_fn(y_val, val_logits)))
        history["accuracy"].append(accuracy(train_logits, y_train))
        history["val_accuracy"].append(accuracy(val_logits, y_val))
        print(f"epoch {epoch + 1}/{args.epochs}: loss {history['loss'][-1]:.4f}, "
              f"val_loss {history['val_loss'][-1]:.4f}, "
              f"val_accuracy {history['val_accuracy'][-1]:.3f}")

        with debugger.as_default():
            nd.summary.training("training", {
                "epoch": epoch, "epochs_planned": args.epochs,
                "history": history,                 # the whole history so far, every epoch
                "learning_rate": args.lr,
                "grad_norms": grad_norms,
                "weight_update_ratio": float(moved / size) if size else None,
            }, step=epoch)
        for split, prefix in (("train", ""), ("validation", "val_")):
            with curves[split].as_default():        # the Scalars tab's curves, as Keras names them
                tf.summary.scalar("epoch_loss", history[f"{prefix}loss"][-1], step=epoch)
                tf.summary.scalar("epoch_accuracy", history[f"{prefix}accuracy"][-1], step=epoch)

    for writer in (debugger, *curves.values()):
        writer.close()

    # read the event files back and diagnose them, as the Debugger tab does
    run_dir = os.path.join(args.logdir, "debugger")
    records = read_records(run_dir)
    findings = nd.diagnose(records)
    print(f"\nrecords read back from {run_dir}: {', '.join(sorted(records))}")
    print(f"findings ({len(findings)}), most severe first:")
    for finding in findings:
        print(" ", finding.line())
        if finding.advice and finding.severity in ("error", "warning"):
            print("    ->", finding.advice)
    parent = os.path.dirname(os.path.normpath(args.logdir)) or "."
    print(f"\nopen them: tensorboard --logdir {parent}  (Debugger tab)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Debug a dataset file and a saved model from the command line, no training code.

What it shows: ``tb-nndebug analyze`` takes a data file (``.npz``, ``.csv`` or
a folder of images) and, optionally, a saved ``.keras`` model, measures them
without training and writes a TensorBoard run with the findings. This script
prepares such a pair from data bundled with tb_nndebug, into a temporary
folder:

* ``creditcard.csv``: the credit-card fraud sample (about 9 % fraud), the
  features standardised, the label in the column ``Class``;
* ``fraud.keras``: a small network trained on it for a few epochs;

and then runs, as you would in a shell,

    tb-nndebug analyze creditcard.csv --label Class --model fraud.keras \\
        --logdir runs/cli_on_file --name creditcard

Run it, then open TensorBoard:

    python demo/cli_on_file.py                # writes runs/cli_on_file/creditcard
    tensorboard --logdir runs                 # open the Debugger tab

``--smoke`` trains for one epoch and skips the robustness attack (for tests);
``--keep DIR`` writes the two files into DIR and keeps them.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out


def write_inputs(folder: Path, *, epochs: int, seed: int) -> tuple[Path, Path]:
    """The CSV file and the saved model ``analyze`` will read."""
    import keras
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from tb_nndebug.datasets import load_creditcard

    X, y, names = load_creditcard()
    # the CLI feeds the model the file's values as they are, so the file holds
    # the features scaled the way the model is trained on them
    X = StandardScaler().fit_transform(X)
    csv = folder / "creditcard.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", fmt="%.6g",
               header=",".join([*names, "Class"]), comments="")

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((X.shape[1],)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ], name="fraud_mlp")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=epochs, batch_size=128, verbose=0)
    saved = folder / "fraud.keras"
    model.save(saved)
    return csv, saved


def tb_nndebug_command() -> list[str]:
    """How to call the ``tb-nndebug`` of this Python: the installed script next to
    the interpreter, else the entry point ``tb_nndebug.cli:main`` through ``-c``."""
    script = Path(sys.executable).with_name("tb-nndebug")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from tb_nndebug.cli import main; sys.exit(main())"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=os.path.join("runs", "cli_on_file"),
                        help="TensorBoard logdir the run goes into (default: runs/cli_on_file)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs to train the model before saving it (default: 10)")
    parser.add_argument("--robustness", type=int, default=20, metavar="N",
                        help="attack N samples to measure robustness (default: 20)")
    parser.add_argument("--keep", metavar="DIR",
                        help="write creditcard.csv and fraud.keras here and keep them")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--smoke", action="store_true",
                        help="one training epoch, no robustness attack (for tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.robustness = 1, 0

    with tempfile.TemporaryDirectory(prefix="tb_nndebug_cli_") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv, saved = write_inputs(folder, epochs=args.epochs, seed=args.seed)
        command = [*tb_nndebug_command(), "analyze", str(csv), "--label", "Class",
                   "--model", str(saved), "--logdir", args.logdir, "--name", "creditcard",
                   "--robustness", str(args.robustness), "--seed", str(args.seed),
                   "--no-progress"]
        print("$", " ".join(["tb-nndebug", *command[len(tb_nndebug_command()):]]), flush=True)
        # the command prints its summary and findings itself; its exit status is ours
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())

"""Sizing: one task, three networks — too small, matched, oversized.

The task is scikit-learn's 8x8 digits with a deliberately small training set
(300 samples, the rest for validation), so its capacity requirement is low
(hundreds of bits expected, ~20,000 bits to memorise every label) and the effects of
size show within a minute. Each network is sized from the training set's
measured complexity (paper 3.1-3.2, algorithms.md §4):

- ``undersized``: a quarter of the expected bits — it cannot place all the
  thresholds and underfits (train accuracy stalls far from 1);
- ``matched``: just above the expected bits — learns and generalises;
- ``oversized``: 2.5× the bits needed to memorise — train loss goes to ~0
  while validation loss stops improving and rises (overfitting).

Each run goes to ``<logdir>/sizing/<size>`` with Keras's ``train`` and
``validation`` curves beside the ``debugger`` run; the verdict in the table
is the diagnosis's ``capacity.*`` finding read back from that run.
``python -m tb_nndebug.demo.sizing --logdir runs`` runs it alone.
"""
from __future__ import annotations

import numpy as np

from . import demo_parser, join, run_demo

GROUP = "sizing"

#: (run name, target as a multiple of a complexity figure, which figure)
SIZES = (
    ("undersized", 0.25, "expected_bits"),
    ("matched", 1.15, "expected_bits"),
    ("oversized", 2.5, "max_bits"),
)
#: --full adds a network well inside the working range (still "matched").
SIZES_FULL = SIZES[:2] + (("large", 8.0, "expected_bits"),) + SIZES[2:]

#: mode -> (training samples, epochs); batches of 16 so the oversized net
#: memorises within the quick budget and its validation loss visibly turns up.
SETTINGS = {"smoke": (200, 3), "quick": (300, 50), "full": (300, 120)}


def digits_task(n_train: int, random_state=0):
    """Digits scaled to [0, 1]: a stratified ``n_train``-sample training set and
    the rest as validation."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    Xtr, Xva, ytr, yva = train_test_split(X, y.astype("int32"), train_size=n_train,
                                          stratify=y, random_state=random_state)
    return (Xtr, ytr), (Xva, yva)


def build_network(target_bits: int, dim: int, n_classes: int, random_state=0):
    """A one-hidden-layer ReLU network whose capacity is about ``target_bits``.

    Built by the model warehouse (:func:`tb_nndebug.models.mlp`), which
    searches the hidden width with :func:`tb_nndebug.model_capacity`.
    """
    import keras

    from .. import models

    keras.utils.set_random_seed(random_state)  # also seeds fit's shuffling
    # tolerance=None: the closest width wins; a 2-unit net cannot hit 144 bits exactly
    return models.mlp((dim,), n_classes, target_bits=int(target_bits), depth=1,
                      tolerance=None, random_state=random_state, name="mlp")


def _write_run_info(run_dir: str, doc: dict) -> None:
    """run_info goes into the debugger run, written and closed before training so
    only one writer is ever open there."""
    import tensorflow as tf

    from .. import summary

    writer = tf.summary.create_file_writer(join(run_dir, "debugger"))
    try:
        with writer.as_default():
            summary.run_info("run_info", doc, step=0)
    finally:
        writer.close()


def _verdict(findings) -> str | None:
    ids = [f.id for f in findings if f.id.startswith("capacity.")]
    return ids[0].split(".", 1)[1] if ids else None


def run(logdir, *, quick=True, random_state=0, progress=True, smoke=False) -> list[dict]:
    """Train the three networks on the same task and return one row per network.

    Parameters
    ----------
    logdir : str or Path
        Runs are written under ``<logdir>/sizing/<size>``.
    quick : bool, default=True
        50 epochs (about a minute on two cores); False: 120 epochs and a
        fourth, large-but-matched network.
    random_state : int, default=0
        Seeds the split and the networks' initial weights.
    progress : bool, default=True
        A tqdm bar over the networks.
    smoke : bool, default=False
        Three epochs on 200 samples: only for tests of the plumbing.

    Returns
    -------
    list of dict
        Keys: ``size``, ``hidden_units``, ``model_bits``, ``expected_bits``,
        ``max_bits``, ``ratio``, ``verdict`` (from the diagnosis),
        ``train_acc``, ``val_acc``, ``train_loss``, ``val_loss``,
        ``best_val_epoch``, ``findings`` (ids of error/warning findings).
    """
    import keras
    from tqdm.auto import tqdm

    from ..callback import DebuggerCallback
    from ..diagnosis import diagnose
    from ..measures import dataset_complexity, model_capacity
    from ..records.reading import read_records

    mode = "smoke" if smoke else ("quick" if quick else "full")
    n_train, epochs = SETTINGS[mode]
    sizes = SIZES if mode != "full" else SIZES_FULL
    (Xtr, ytr), (Xva, yva) = digits_task(n_train, random_state)
    complexity = dataset_complexity(Xtr, ytr)
    n_classes = len(np.unique(ytr))
    group_dir = join(logdir, GROUP)
    rows = []
    for size, factor, figure in tqdm(sizes, desc="sizing", unit="net", disable=not progress,
                                     leave=False):
        target = max(1, round(factor * getattr(complexity, figure)))
        model = build_network(target, Xtr.shape[1], n_classes, random_state)
        model.compile(optimizer=keras.optimizers.Adam(3e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        bits = model_capacity(model).bits
        run_dir = join(group_dir, size)
        hidden = int(model.warehouse.widths[0])
        _write_run_info(run_dir, {
            "experiment": GROUP, "size": size, "target_bits": target,
            "target": f"{factor}x {figure}", "hidden_units": hidden,
            "description": f"sklearn digits, {n_train} training samples; same data, optimiser "
                           "and seed, only the network's size changes"})
        debugger = DebuggerCallback(str(run_dir), train_data=(Xtr, ytr),
                                    validation_data=(Xva, yva), verbose=0,
                                    random_state=random_state)
        hist = model.fit(Xtr, ytr, validation_data=(Xva, yva), epochs=epochs, batch_size=16,
                         verbose=0, callbacks=[keras.callbacks.TensorBoard(str(run_dir)),
                                               debugger]).history
        findings = diagnose(read_records(join(run_dir, "debugger")))
        val_loss = np.asarray(hist["val_loss"], dtype=float)
        rows.append({
            "size": size,
            "hidden_units": hidden,
            "model_bits": int(bits),
            "expected_bits": int(complexity.expected_bits),
            "max_bits": int(complexity.max_bits),
            "ratio": round(bits / complexity.expected_bits, 2),
            "verdict": _verdict(findings),
            "train_acc": round(float(hist["accuracy"][-1]), 3),
            "val_acc": round(float(hist["val_accuracy"][-1]), 3),
            "train_loss": round(float(hist["loss"][-1]), 4),
            "val_loss": round(float(val_loss[-1]), 4),
            "best_val_epoch": int(val_loss.argmin()),
            "findings": [f.id for f in findings if f.severity in ("error", "warning")],
        })
    return rows


def main(argv=None) -> int:
    """``python -m tb_nndebug.demo.sizing [--logdir runs] [--full] [--seed N]``."""
    run_demo(demo_parser("sizing", __doc__.splitlines()[0],
                         full_help="more epochs, a fourth size"), run, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

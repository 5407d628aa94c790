"""Imbalance: the same small network trained as-is, with SMOTE, with Tomek links
and with capacity-guided resampling (paper 3.3) on the credit-card fraud sample.

Features are standardised on the training part; a stratified test split
(and a validation split) is set aside *before* any resampling and never
touched by it. Each variant is one run under ``<logdir>/imbalance/<variant>``
(Keras's ``train``/``validation`` curves beside the debugger's records, plus
a ``resampling`` record for the resampled variants). The table reports, on
the test split, the minority (fraud) class's recall and precision, the
balanced accuracy, and the capacity requirement (``expected_bits``) of the
data the network was trained on.

Run: ``python -m tb_nndebug.demo.imbalance --logdir runs [--full] [--seed 0]``.
"""
from __future__ import annotations

import time

import numpy as np

from . import demo_parser, join, run_demo

GROUP = "imbalance"
VARIANTS = ("as_is", "smote", "tomek", "capacity_guided")

#: (epochs, capacity-guided trials) for quick and full runs.
SETTINGS = {True: (15, 10), False: (40, 10)}

FRAUD = 1


def _split(X, y, random_state):
    """Stratified train / validation / test split (60 / 15 / 25 %), standardised."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.2, stratify=y_rest, random_state=random_state)
    scaler = StandardScaler().fit(X_train)
    return ((scaler.transform(X_train), y_train), (scaler.transform(X_val), y_val),
            (scaler.transform(X_test), y_test))


def _build_model(n_features, random_state):
    import keras

    keras.utils.set_random_seed(random_state)  # same initial weights for every variant
    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _resample(variant, X, y, *, n_trials, random_state, progress):
    """Training data for ``variant`` and, for resampled ones, what to log."""
    from ..resampling import CapacityGuidedResampler, resample

    if variant == "as_is":
        return X, y, None
    if variant in ("smote", "tomek"):
        X_res, y_res = resample(X, y, variant, random_state=random_state)
        return X_res, y_res, {"method": variant}
    r = CapacityGuidedResampler(sampler="smote", n_trials=n_trials,
                                random_state=random_state, progress=progress)
    X_res, y_res = r.fit_resample(X, y)
    return X_res, y_res, {"resampler": r}


def _callbacks(run_dir, train, validation, *, random_state, progress):
    import keras

    from ..callback import DebuggerCallback

    return [keras.callbacks.TensorBoard(log_dir=str(run_dir)),
            DebuggerCallback(log_dir=str(run_dir), train_data=train,
                             validation_data=validation, verbose=1 if progress else 0,
                             random_state=random_state)]


def _write_records(run_dir, variant, X, y, X_res, y_res, resampling_args, random_state):
    """Write run_info and (for resampled variants) the resampling record.

    They go into the debugger run directory, written and closed before
    training starts so only one writer is ever open there.
    """
    import tensorflow as tf

    from .. import summary

    writer = tf.summary.create_file_writer(join(run_dir, "debugger"))
    try:
        with writer.as_default():
            summary.run_info("run_info", {
                "experiment": GROUP, "variant": variant, "random_state": random_state,
                "description": "credit-card fraud sample; same network, same seed, "
                               "different training data"}, step=0)
            if resampling_args is not None:
                summary.resampling("resampling", X, y, X_res, y_res, step=0,
                                   **resampling_args)
    finally:
        writer.close()


def _evaluate(model, X_test, y_test):
    from sklearn.metrics import balanced_accuracy_score, precision_score, recall_score

    pred = model.predict(X_test, verbose=0).argmax(axis=1)
    return {
        "minority_recall": float(recall_score(y_test, pred, pos_label=FRAUD)),
        "minority_precision": float(precision_score(y_test, pred, pos_label=FRAUD,
                                                    zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y_test, pred)),
    }


def run(logdir, *, quick=True, random_state=0, progress=True) -> list[dict]:
    """Train the four variants and return one table row per variant.

    Parameters
    ----------
    logdir : str or Path
        Runs are written under ``<logdir>/imbalance/<variant>``.
    quick : bool, default=True
        Fewer epochs (the whole group takes well under 90 s on 2 cores).
    random_state : int, default=0
        Seeds the splits, the samplers and the network's initial weights.
    progress : bool, default=True
        Print a line per variant (and a tqdm bar over capacity-guided trials).

    Returns
    -------
    list of dict
        Keys: ``variant``, ``n_train``, ``n_fraud_train``, ``expected_bits``,
        ``minority_recall``, ``minority_precision``, ``balanced_accuracy``,
        ``seconds``.
    """
    from ..datasets import load_creditcard
    from ..measures.complexity import dataset_complexity

    epochs, n_trials = SETTINGS[bool(quick)]
    X, y, _ = load_creditcard()
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = _split(X, y, random_state)
    group_dir = join(logdir, GROUP)
    rows = []
    for variant in VARIANTS:
        t0 = time.perf_counter()
        X_fit, y_fit, resampling_args = _resample(
            variant, X_train, y_train, n_trials=n_trials, random_state=random_state,
            progress=progress)
        run_dir = join(group_dir, variant)
        _write_records(run_dir, variant, X_train, y_train, X_fit, y_fit,
                       resampling_args, random_state)
        model = _build_model(X_fit.shape[1], random_state)
        # shuffle=True uses Keras's seeded generator (set in _build_model)
        model.fit(X_fit, y_fit, validation_data=(X_val, y_val), epochs=epochs,
                  batch_size=64, verbose=0,
                  callbacks=_callbacks(run_dir, (X_fit, y_fit), (X_val, y_val),
                                       random_state=random_state, progress=progress))
        row = {
            "variant": variant,
            "n_train": len(y_fit),
            "n_fraud_train": int(np.sum(y_fit == FRAUD)),
            "expected_bits": int(dataset_complexity(X_fit, y_fit).expected_bits),
            **_evaluate(model, X_test, y_test),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        if progress:
            print(f"[imbalance] {variant}: recall {row['minority_recall']:.3f}, "
                  f"balanced accuracy {row['balanced_accuracy']:.3f} "
                  f"({row['seconds']} s)", flush=True)
    return rows


def format_table(rows) -> str:
    """The rows as a Markdown table."""
    head = ("| variant | train samples | fraud in train | expected bits | "
            "fraud recall | fraud precision | balanced accuracy |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['n_train']} | {r['n_fraud_train']} | "
            f"{r['expected_bits']} | {r['minority_recall']:.3f} | "
            f"{r['minority_precision']:.3f} | {r['balanced_accuracy']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = demo_parser("imbalance", "As-is vs SMOTE vs Tomek links vs capacity-guided "
                         "resampling on the credit-card fraud sample.", full_help="more epochs")
    run_demo(parser, run, argv, table=format_table, footer=lambda args, seconds:
             f"\ntensorboard --logdir {args.logdir}   # then open the Debugger tab")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

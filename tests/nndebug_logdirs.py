"""Logdirs for the plugin tests and benchmark, written through the project's
own summary API (``tb_nndebug.summary``: ``checks``, ``training``, ``run_info``
and ``write_record`` for documents normally measured from data) and
``tf.summary.scalar`` for the Keras-style ``epoch_*`` curves.

Record documents follow ``docs/data-contract.md``; the numbers are made up
but shaped like what the measures produce (per-layer tables, a K×K CSG
matrix, a 1,000-point projection, a per-epoch history).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow as tf

    return tf


def dataset_doc(rng, n_classes=10, n_points=1000, expected_bits=256.0):
    k = n_classes
    sim = rng.random((k, k))
    sim = (sim + sim.T) / 2
    np.fill_diagonal(sim, 1.0)
    counts = {str(c): int(rng.integers(150, 200)) for c in range(k)}
    total = sum(counts.values())
    return {
        "name": "train", "n_samples": total, "dim": 64, "input_shape": [8, 8],
        "n_classes": k, "classes": [str(c) for c in range(k)],
        "complexity": {"expected_bits": expected_bits, "expected_bits_exact": expected_bits - 3.7,
                       "max_bits": 1234, "thresholds": 17, "energy": "sum"},
        "csg": {"score": float(rng.random()), "similarity": sim.round(4).tolist(),
                "overlap": (1 - sim).round(4).tolist(),
                "eigenvalues": sorted(rng.random(k).round(4).tolist()),
                "embedding": "raw", "samples_per_class": 250, "k": 3},
        "balance": {"counts": counts,
                    "proportions": {c: n / total for c, n in counts.items()},
                    "imbalance_ratio": max(counts.values()) / min(counts.values()),
                    "minority_fraction": min(counts.values()) / total, "rare_classes": [],
                    "normalized_entropy": 0.999},
        "input_stats": {"min": 0.0, "max": 1.0, "mean": 0.3, "std": 0.4},
        "projection": {"method": "pca",
                       "points": [[round(float(x), 4), round(float(y), 4), int(c)]
                                  for x, y, c in zip(rng.normal(size=n_points),
                                                     rng.normal(size=n_points),
                                                     rng.integers(0, k, n_points))]},
    }


def model_doc(bits=201472):
    return {"name": "model", "bits": bits, "n_params": 235146, "trainable_params": 235146,
            "input_shape": [64], "n_outputs": 10, "output_activation": "softmax",
            "layers": [
                {"name": "dense", "kind": "Dense", "params": 2080, "input_bits": None,
                 "capacity_bits": 2080, "output_bits": 32},
                {"name": "dense_1", "kind": "Dense", "params": 330, "input_bits": 32,
                 "capacity_bits": 32, "output_bits": 10}]}


def checks_doc(epochs=10):
    return {"optimizer": "Adam", "learning_rate": 0.001,
            "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
            "output_activation": "softmax", "n_outputs": 10, "label_range": [0, 9],
            "input_range": [0.0, 1.0], "input_mean": 0.3, "input_std": 0.4,
            "inference_deterministic": True, "inference_max_diff": 0.0,
            "stochastic_layers": [], "batch_size": 32, "epochs_planned": epochs}


def training_doc(epoch, epochs, rng, overfit=False):
    e = np.arange(epoch + 1)
    loss = (2.3 * np.exp(-e / 4) + 0.05).tolist()
    val = (2.3 * np.exp(-e / 4) + 0.1 + (0.08 * np.maximum(e - 4, 0) if overfit else 0)).tolist()
    acc = (1 - np.exp(-(e + 1) / 3)).tolist()
    vacc = (0.95 - np.exp(-(e + 1) / 3)).tolist()
    return {"epoch": epoch, "epochs_planned": epochs,
            "history": {"loss": loss, "val_loss": val, "accuracy": acc, "val_accuracy": vacc},
            "learning_rate": 0.001,
            "grad_norms": [{"layer": "dense", "norm": float(rng.random())},
                           {"layer": "dense_1", "norm": float(rng.random())}],
            "dead_units": [{"layer": "dense", "fraction": 0.02, "units": 32}],
            "weight_update_ratio": 0.003}


def robustness_doc(rng, n=100):
    status = ["fooled"] * (n - 5) + ["censored"] * 3 + ["misclassified"] * 2
    min_eps = [round(float(x), 4) for x in rng.uniform(0.01, 0.2, n - 5)] + [None] * 5
    eps = np.linspace(0, 0.5, 21)
    return {"norm": "inf", "eps_max": 0.5, "n": n, "clean_accuracy": 0.93, "input_size": 64,
            "min_eps": min_eps, "status": status, "median_eps": 0.063,
            "censored_fraction": 0.03, "misclassified_fraction": 0.02,
            "curve": {"eps": eps.round(3).tolist(),
                      "robust_accuracy": np.exp(-eps * 20).round(4).tolist()},
            "pixels": [int(x) for x in rng.integers(1, 30, n - 5)] + [None] * 5,
            "median_pixels": 12, "pixel_fraction": 0.19, "max_pixels": 64, "examples": []}


def write_debugger_run(run_dir, *, epochs=10, seed=0, overfit=False, keras_scalars=True,
                       robustness=True, model_bits=201472, expected_bits=256.0,
                       run_info=None, keras_dir=None):
    """Write ``<run_dir>`` (records) and, when ``keras_scalars``, the Keras-style
    runs ``<keras_dir>/train`` and ``<keras_dir>/validation`` with ``epoch_*``
    scalars (``keras_dir`` defaults to the parent of ``run_dir``: siblings)."""
    tf = _tf()
    from tb_nndebug import summary

    run_dir = Path(run_dir)
    rng = np.random.default_rng(seed)
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        summary.write_record("dataset", "train", dataset_doc(rng, expected_bits=expected_bits),
                             step=0)
        summary.write_record("model", "model", model_doc(model_bits), step=0)
        summary.checks("checks", checks_doc(epochs), step=0)
        if run_info is not None:
            summary.run_info("run_info", run_info, step=0)
        for epoch in range(epochs):  # record + its scalar mirrors, as the callback does
            summary.training("training", training_doc(epoch, epochs, rng, overfit), step=epoch)
        if robustness:
            summary.write_record("robustness", "robustness", robustness_doc(rng), step=epochs - 1)
    writer.close()
    if keras_scalars:
        last = training_doc(epochs - 1, epochs, rng, overfit)["history"]
        for split, prefix in (("train", ""), ("validation", "val_")):
            w = tf.summary.create_file_writer(
                str(Path(keras_dir or run_dir.parent) / split))
            with w.as_default():
                for epoch in range(epochs):
                    tf.summary.scalar("epoch_loss", last[prefix + "loss"][epoch], step=epoch)
                    tf.summary.scalar("epoch_accuracy", last[prefix + "accuracy"][epoch],
                                      step=epoch)
            w.close()


def write_raw_record(run_dir, tag, payload: bytes, *, kind="model", version=1, step=0):
    """Write one ``nndebug`` series with arbitrary plugin content and payload bytes
    (future versions, malformed JSON) — what an older or newer writer might leave."""
    tf = _tf()
    from tensorboard.compat.proto import summary_pb2

    md = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="nndebug",
            content=json.dumps({"kind": kind, "version": version}).encode()),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        tf.summary.write(tag, tf.constant([payload], dtype=tf.string), step=step, metadata=md)
    writer.close()


#: A group name that needs URL quoting and cannot go in a comma-separated list.
WEIRD_GROUP = "we ird,ü"


def event_files(run_dir):
    return sorted(p for p in Path(run_dir).iterdir() if "tfevents" in p.name)


def standard_logdir(logdir):
    """A small logdir with every situation the plugin tests need.

    - ``exp1/debugger`` (+ ``exp1/train``, ``exp1/validation``): overfitting run.
    - ``exp2/debugger``: a clean run without Keras scalars (fallback curves).
    - ``odd/debugger``: good records plus a future-version series, a record of
      a newer version inside a version-1 series, and malformed JSON.
    - ``broken/debugger``: a good run whose event file is then truncated
      (last record cut), ``broken/corrupt``: one whose bytes are zeroed in
      the middle (CRC mismatch), ``broken/garbage``: random bytes.
    - ``plain/train``: Keras-style scalars only (no debugger records).
    - ``we ird,ü/debugger``: a run name with a space, a comma and non-ASCII.
    - ``nested``: records in the Keras log_dir itself, ``nested/train`` and
      ``nested/validation`` below it.
    """
    logdir = Path(logdir)
    write_debugger_run(logdir / "exp1" / "debugger", epochs=12, seed=1, overfit=True,
                       run_info={"architecture": "mlp", "capacity_level": 0.5})
    write_debugger_run(logdir / "exp2" / "debugger", epochs=5, seed=2, keras_scalars=False,
                       robustness=False, model_bits=300)
    odd = logdir / "odd" / "debugger"
    write_debugger_run(odd, epochs=3, seed=3, keras_scalars=False, robustness=False)
    write_raw_record(odd, "future", b'{"kind": "model", "version": 99}', version=99)
    write_raw_record(odd, "newer_doc", json.dumps(
        {"kind": "run_info", "version": 7, "architecture": "x"}).encode(), kind="run_info")
    write_raw_record(odd, "malformed", b'{"kind": "run_info", "version": 1, oops',
                     kind="run_info")
    write_raw_record(odd, "not_utf8", b"\xff\xfe\x00garbage", kind="checks")
    broken = logdir / "broken" / "debugger"
    write_debugger_run(broken, epochs=4, seed=4, keras_scalars=False, robustness=False)
    for f in event_files(broken):  # cut the file inside the last training record (epoch 3)
        data = f.read_bytes()
        f.write_bytes(data[: data.rindex(b'"epoch":3')])
    corrupt = logdir / "broken" / "corrupt"
    write_debugger_run(corrupt, epochs=4, seed=5, keras_scalars=False, robustness=False)
    for f in event_files(corrupt):  # flip bytes inside a record: its CRC no longer matches
        data = bytearray(f.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 16] = bytes(16)
        f.write_bytes(bytes(data))
    garbage = logdir / "broken" / "garbage"
    garbage.mkdir(parents=True)
    (garbage / "events.out.tfevents.0.garbage").write_bytes(
        np.random.default_rng(0).bytes(4096))
    write_debugger_run(logdir / WEIRD_GROUP / "debugger", epochs=2, seed=6, keras_scalars=False,
                       robustness=False)
    write_debugger_run(logdir / "nested", epochs=3, seed=7, robustness=False,
                       keras_dir=logdir / "nested")
    tf = _tf()
    w = tf.summary.create_file_writer(str(logdir / "plain" / "train"))
    with w.as_default():
        for step in range(3):
            tf.summary.scalar("epoch_loss", 1.0 / (step + 1), step=step)
    w.close()
    return logdir


def many_runs_logdir(logdir, runs: int, epochs: int) -> None:
    """``runs`` debugger runs of ``epochs`` epochs each, for the benchmarks.

    Kept between calls: a stamp file names the size, so a second benchmark
    on the same ``logdir`` reuses it instead of writing it again.
    """
    import shutil

    from tqdm import tqdm

    logdir = Path(logdir)
    stamp = logdir / f".nndebug-bench-{runs}x{epochs}"
    if stamp.exists():
        print(f"reusing {logdir}")
        return
    if logdir.exists():
        shutil.rmtree(logdir)
    for i in tqdm(range(runs), desc="writing runs", unit="run"):
        write_debugger_run(
            logdir / f"g{i:03d}" / "debugger", epochs=epochs, seed=i, overfit=bool(i % 2),
            model_bits=[300, 2000, 20000, 201472][i % 4],
            run_info={"architecture": f"mlp{i % 3}", "capacity_level": (i % 4) / 3})
    stamp.touch()

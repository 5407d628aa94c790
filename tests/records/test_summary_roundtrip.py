"""Every record kind written by tb_nndebug.summary reads back identically
through TensorBoard's Python loader and its Rust data server."""
from __future__ import annotations

import json

import keras
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from summary_readback import image_tags, python_provider, read_records, rust_provider, scalar_tags

from tb_nndebug import metadata, summary

CHECKS = {"optimizer": "Adam", "learning_rate": 0.001,
          "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
          "output_activation": "softmax", "n_outputs": 10, "label_range": [0, 9],
          "input_range": [0.0, 1.0], "input_mean": 0.3, "input_std": 0.4,
          "inference_deterministic": True, "inference_max_diff": 0.0,
          "stochastic_layers": [], "batch_size": 32, "epochs_planned": 3}
RUN_INFO = {"architecture": "mlp", "capacity_level": 0.5, "target_bits": 1200,
            "description": "round trip <b>not html</b> ✓"}


def training_doc(epoch):
    return {"epoch": epoch, "epochs_planned": 3,
            "history": {"loss": [1.0 / (e + 1) for e in range(epoch + 1)],
                        "val_loss": [None] + [1.2 / (e + 1) for e in range(1, epoch + 1)]},
            "learning_rate": 0.001, "grad_norms": [{"layer": "dense", "norm": 0.1 * (epoch + 1)},
                                                   {"layer": "dense_1", "norm": 0.05}],
            "dead_units": [{"layer": "dense", "fraction": 0.0, "units": 16}],
            "weight_update_ratio": float("nan") if epoch == 0 else 0.01, "probe_loss": 0.5}


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")], name="small")
    return X[:400], y[:400], model


def write_all(X, y, model, *, steps):
    """Write one record of every kind; ``steps`` maps kind -> step or None."""
    assert summary.dataset("train", X, y, step=steps["dataset"])
    assert summary.model("model", model, step=steps["model"])
    assert summary.balance("labels", y, stage="before", step=steps["balance"])
    assert summary.checks("checks", CHECKS, step=steps["checks"])
    assert summary.run_info("run_info", RUN_INFO, step=steps["run_info"])
    assert summary.diagnostic_error("dead_units", ValueError("no ReLU"), epoch=1,
                                    step=steps["diagnostic_error"])
    for epoch in range(3):
        if steps["training"] is None:
            tf.summary.experimental.set_step(epoch)
        assert summary.training("training", training_doc(epoch),
                                step=None if steps["training"] is None else epoch)


def expected(X, y, model):
    """tag -> (kind, document as a reader must see it)."""
    def enc(kind, doc):
        return kind, json.loads(metadata.encode_record(kind, doc))

    return {
        "train": enc("dataset", summary.dataset_document("train", X, y, random_state=0)),
        "model": enc("model", summary.model_document("model", model)),
        "labels": enc("balance", summary.balance_document("labels", y, stage="before")),
        "checks": enc("checks", CHECKS),
        "run_info": enc("run_info", RUN_INFO),
        "diagnostic_error": enc("diagnostic_error", {
            "diagnostic": "dead_units", "error": "ValueError: no ReLU", "epoch": 1,
            "errors": [{"diagnostic": "dead_units", "error": "ValueError: no ReLU", "epoch": 1}]}),
        "training": [enc("training", training_doc(e)) for e in range(3)],
    }


@pytest.fixture(scope="module")
def logdir(tmp_path_factory, data):
    X, y, model = data
    root = tmp_path_factory.mktemp("roundtrip")
    explicit = tf.summary.create_file_writer(str(root / "explicit"))
    with explicit.as_default():
        write_all(X, y, model, steps={"dataset": 0, "model": 0, "balance": 2, "checks": 0,
                                      "run_info": 0, "diagnostic_error": 1, "training": 0})
    explicit.close()
    # The default writer: set globally, steps from tf.summary.experimental.set_step.
    default = tf.summary.create_file_writer(str(root / "default"))
    guard = tf.summary.create_file_writer(str(root / "unused"))
    with guard.as_default():  # restores "no default writer" on exit
        default.set_as_default()
        tf.summary.experimental.set_step(7)
        write_all(X, y, model, steps={k: None for k in ("dataset", "model", "balance", "checks",
                                                       "run_info", "diagnostic_error",
                                                       "training")})
    tf.summary.experimental.set_step(None)
    default.close()
    assert not bool(tf.summary.should_record_summaries())
    return root


def check_run(records, exp, *, default_steps):
    assert set(records) == set(exp)
    for tag, want in exp.items():
        kind, points = records[tag]
        if tag == "training":
            assert kind == "training"
            assert [s for s, _ in points] == [0, 1, 2]
            assert [("training", d) for _, d in points] == want
            continue
        assert kind == want[0], tag
        assert len(points) == 1, tag
        step, doc = points[0]
        assert doc == want[1], tag
        if default_steps:
            assert step == 7
    # NaN in a document is written as null.
    assert records["training"][1][0][1]["weight_update_ratio"] is None


def test_python_loader_reads_every_kind_back_identically(logdir, data):
    exp = expected(*data)
    dp = python_provider(logdir)
    got = read_records(dp)
    check_run(got["explicit"], exp, default_steps=False)
    check_run(got["default"], exp, default_steps=True)
    assert {kind for kind, _ in got["explicit"].values()} == set(metadata.KINDS) - {
        "resampling", "robustness"}


def test_python_loader_sees_scalar_mirrors_and_pictures(logdir):
    dp = python_provider(logdir)
    scalars = scalar_tags(dp, "explicit")
    for tag in ("nndebug/train/expected_bits", "nndebug/train/max_bits", "nndebug/train/csg",
                "nndebug/train/imbalance_ratio", "nndebug/model/bits",
                "nndebug/labels/imbalance_ratio", "nndebug/checks/learning_rate",
                "nndebug/training/learning_rate", "nndebug/training/grad_norm_ratio",
                "nndebug/run_info/target_bits"):
        assert tag in scalars, tag
    assert {"nndebug/train/projection", "nndebug/model/capacity",
            "nndebug/labels/balance"} <= image_tags(dp, "explicit")


@pytest.mark.tensorboard
def test_rust_data_server_reads_every_kind_back_identically(logdir, data):
    exp = expected(*data)
    with rust_provider(logdir, wait_for_runs=("explicit", "default")) as dp:
        got = read_records(dp)
        check_run(got["explicit"], exp, default_steps=False)
        check_run(got["default"], exp, default_steps=True)
        # float32 mirrors survive the Rust server (it drops float64 scalars)
        assert "nndebug/train/expected_bits" in scalar_tags(dp, "explicit")
        assert "nndebug/model/capacity" in image_tags(dp, "explicit")


def test_writers_return_false_without_a_default_writer(data):
    X, y, model = data
    assert summary.dataset("train", X, y, step=0, csg=False) is False
    assert summary.model("model", model, step=0) is False
    assert summary.balance("labels", y, step=0) is False
    assert summary.checks("checks", CHECKS, step=0) is False
    assert summary.training("training", training_doc(0)) is False
    assert summary.run_info("run_info", RUN_INFO) is False
    assert summary.diagnostic_error("x", "boom") is False


def test_writers_work_inside_a_gradient_tape_loop(tmp_path, data):
    X, y, model = data
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    opt = keras.optimizers.Adam(1e-2)
    writer = tf.summary.create_file_writer(str(tmp_path / "loop"))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    history = {"loss": []}
    with writer.as_default():
        summary.dataset("train", X, y, step=0, csg=False)
        for epoch in range(2):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(X, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            history["loss"].append(float(loss))
            assert summary.training("training", {"epoch": epoch, "history": history}) is True
    writer.close()
    got = read_records(python_provider(tmp_path), "loop")["loop"]
    assert [s for s, _ in got["training"][1]] == [0, 1]
    assert got["training"][1][-1][1]["history"]["loss"] == pytest.approx(history["loss"])

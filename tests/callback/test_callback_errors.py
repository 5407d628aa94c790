"""DebuggerCallback never stops training because a diagnostic failed; bad
input to the callback and the summary writers fails early and writes nothing."""
from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from summary_readback import image_tags, python_provider, read_records, scalar_tags

from tb_nndebug import summary
from tb_nndebug.callback import DebuggerCallback
from tb_nndebug.diagnosis import diagnose


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16.0).astype("float32"), y[:600].astype("int32")


class TrainOnly(keras.layers.Layer):
    """A layer with no inference mode: every probe the callback runs with
    training=False raises, while fit (training=True) works."""

    def call(self, x, training=None):
        if training is False:
            raise RuntimeError("this layer has no inference mode")
        return x


def train_only_model():
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              TrainOnly(), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.training
def test_a_diagnostic_that_throws_is_recorded_and_training_goes_on(tmp_path, digits, capsys):
    X, y = digits
    keras.utils.set_random_seed(0)
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=1)
    history = train_only_model().fit(X, y, epochs=3, batch_size=64, verbose=0, callbacks=[cb])
    assert len(history.history["loss"]) == 3
    failed = {(f.evidence["diagnostic"], f.step) for f in cb.findings
              if f.id == "diagnostic.failed"}
    assert ("inference_determinism", 0) in failed
    assert {("gradients", e) for e in range(3)} <= failed
    # the failures are in the event files too, next to the records that did work
    got = read_records(python_provider(tmp_path), "debugger")["debugger"]
    begin = got["diagnostic_error_train_begin"][1][0][1]
    assert [e["diagnostic"] for e in begin["errors"]] == ["initial_loss", "inference_determinism"]
    assert "this layer has no inference mode" in begin["error"]
    assert "\x1b[" not in begin["error"]
    assert [s for s, _ in got["training"][1]] == [0, 1, 2]
    assert got["checks"][1][0][1]["inference_deterministic"] is None
    out = capsys.readouterr().out
    assert "[nndebug] WARNING diagnostic.failed: Diagnostic 'gradients' failed" in out


@pytest.mark.training
def test_strict_reraises_the_failing_diagnostic(tmp_path, digits):
    X, y = digits
    cb = DebuggerCallback(tmp_path, train_data=(X, y), strict=True, verbose=0)
    with pytest.raises(RuntimeError, match="no inference mode"):
        train_only_model().fit(X, y, epochs=1, verbose=0, callbacks=[cb])


@pytest.mark.training
def test_subclassed_model_trains_with_its_capacity_reported_as_unavailable(tmp_path, digits):
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = keras.layers.Dense(8, activation="relu")
            self.d2 = keras.layers.Dense(10, activation="softmax")

        def call(self, x):
            return self.d2(self.d1(x))

    X, y = digits
    model = Sub()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=0)
    model.fit(X, y, epochs=2, verbose=0, callbacks=[cb])
    assert not [f for f in cb.findings if f.id == "diagnostic.failed"]
    (skipped,) = [f for f in cb.findings if f.id == "diagnostic.skipped"]
    assert skipped.severity == "info" and "subclassed" in skipped.title
    assert "model" not in cb.records
    assert cb.records["training"][-1]["value"]["grad_norms"]  # the probe still works


@pytest.mark.training
def test_a_subclassed_model_measures_its_functional_sub_models(tmp_path, digits):
    """A VAE-like model: no layer graph of its own, but functional sub-models that are
    measured each in its own model record."""
    class Wrapper(keras.Model):
        def __init__(self):
            super().__init__()
            inp = keras.Input((64,))
            self.body = keras.Model(inp, keras.layers.Dense(8, activation="relu")(inp),
                                    name="body")
            head_in = keras.Input((8,))
            self.head = keras.Model(head_in, keras.layers.Dense(10, activation="softmax")(
                head_in), name="head")

        def call(self, x):
            return self.head(self.body(x))

    X, y = digits
    model = Wrapper()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=0)
    model.fit(X, y, epochs=1, verbose=0, callbacks=[cb])
    tags = sorted(e["tag"] for e in cb.records["model"])
    assert tags == ["model_body", "model_head"]
    assert [e["value"]["bits"] > 0 for e in cb.records["model"]] == [True, True]
    (skipped,) = [f for f in cb.findings if f.id == "diagnostic.skipped"]
    assert "body, head" in skipped.title or "body, head" in skipped.evidence["reason"]
    assert not [f for f in cb.findings if f.severity in ("error", "warning")]


def _no_records_written(logdir):
    if not os.path.exists(logdir):
        return True
    dp = python_provider(logdir)
    runs = read_records(dp)
    return all(not tags for tags in runs.values()) and not any(
        scalar_tags(dp, r) or image_tags(dp, r) for r in runs)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"log_dir": 3}, TypeError, "log_dir must be a path"),
    ({"train_data": [1, 2, 3]}, TypeError, "train_data must be"),
    ({"train_data": (np.full((4, 2), np.nan), [0, 1, 0, 1])}, ValueError,
     "train_data x contains NaN"),
    ({"train_data": (np.ones((4, 2)), [0, 1, 0])}, ValueError, "different lengths"),
    ({"train_data": ({"a": np.ones((4, 2)), "b": np.ones((3, 2))}, [0, 1, 0, 1])}, ValueError,
     r"different lengths: \[3, 4\]"),
    ({"train_data": ([np.ones((4, 2)), [[1, 2], [3]]], [0, 1, 0, 1])}, ValueError,
     "train_data x must hold arrays with one row per sample"),
    ({"train_data": (np.ones((4, 2)), [0, 1, 0, 1], [1, 1], 5)}, ValueError,
     r"\(x,\), \(x, y\) or \(x, y, sample_weight\)"),
    ({"train_data": object()}, TypeError, "train_data must be"),
    ({"train_data": (np.ones((0, 2)), [])}, ValueError, "train_data is empty"),
    ({"validation_data": (np.ones((4, 2)), [0, np.nan, 1, 1])}, ValueError,
     "validation_data y contains NaN"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
    ({"verbose": -1}, ValueError, "verbose"),
    ({"strict": "yes"}, TypeError, "strict"),
    ({"thresholds": {"no.such": 1}}, ValueError, "unknown name 'no.such'"),
    ({"csg": "fast"}, TypeError, "csg must be"),
    ({"name": "a/b"}, ValueError, "name must be a plain directory name"),
    ({"random_state": "seed"}, TypeError, "random_state"),
])
def test_callback_rejects_bad_arguments_before_writing(tmp_path, kwargs, exc, match):
    args = {"log_dir": tmp_path / "logs"}
    args.update(kwargs)
    log_dir = args.pop("log_dir")
    with pytest.raises(exc, match=match):
        DebuggerCallback(log_dir, **args)
    assert not (tmp_path / "logs").exists()


def test_callback_rejects_a_log_dir_under_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        DebuggerCallback(f / "runs")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write to read-only directories")
def test_callback_rejects_an_unwritable_log_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            DebuggerCallback(ro / "runs")
    finally:
        ro.chmod(0o700)


def _unbuilt():
    return keras.Sequential([keras.layers.Dense(3)])


@pytest.mark.parametrize("call,exc,match", [
    (lambda X, y: summary.dataset("", X, y), ValueError, "name must be a non-empty string"),
    (lambda X, y: summary.dataset("d", np.where(X > 0.5, np.nan, X), y), ValueError,
     "X contains NaN"),
    (lambda X, y: summary.dataset("d", X, y[:-1]), ValueError, "different lengths"),
    (lambda X, y: summary.dataset("d", X[:, 0], y), ValueError, "X must have at least 2"),
    (lambda X, y: summary.dataset("d", X.astype(str), y), TypeError, "X must be numeric"),
    (lambda X, y: summary.dataset("d", X, y, step=-1), ValueError, "step must be >= 0"),
    (lambda X, y: summary.dataset("d", X, y, step="1"), TypeError, "step must be an integer"),
    (lambda X, y: summary.dataset("d", X, y, csg="yes"), TypeError, "csg must be"),
    (lambda X, y: summary.dataset("d", X, y, description=3), TypeError, "description"),
    (lambda X, y: summary.model("m", _unbuilt()), ValueError, "is not built"),
    (lambda X, y: summary.model("m", "resnet"), TypeError, "model must be a keras.Model"),
    (lambda X, y: summary.balance("b", y, stage="during"), ValueError, "stage must be"),
    (lambda X, y: summary.balance("b", []), ValueError,
     "y must hold at least one label, got an empty array"),
    (lambda X, y: summary.checks("c", [1, 2]), TypeError, "doc must be a mapping"),
    (lambda X, y: summary.training("t", {"epoch": 1, "x": object()}), TypeError,
     "doc cannot be written as JSON"),
    (lambda X, y: summary.run_info("r", "text"), TypeError, "doc must be a mapping"),
    (lambda X, y: summary.diagnostic_error("", "boom"), ValueError, "diagnostic must be"),
    (lambda X, y: summary.diagnostic_error("d", 42), TypeError, "error must be"),
])
def test_summary_writers_reject_bad_input_and_write_nothing(tmp_path, digits, call, exc, match):
    X, y = digits
    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    with writer.as_default(), pytest.raises(exc, match=match):
        call(X, y)
    writer.close()
    assert _no_records_written(tmp_path)


@pytest.mark.training
def test_tf_data_train_data_and_missing_train_data(tmp_path, digits, capsys):
    X, y = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((X, y)).batch(50)
    cb = DebuggerCallback(tmp_path, train_data=ds, name="ds", max_samples=300, verbose=0)
    model.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[cb])
    doc = cb.records["dataset"][0]["value"]
    # 300 read for the probe and CSG; the complexity and balance are those of all of ds
    assert doc["sample"] == {"n": 300, "limited_by": "max_samples", "whole_pass": True}
    assert doc["n_samples"] == len(X)
    assert cb.records["training"][0]["value"]["grad_norms"]
    none = DebuggerCallback(tmp_path, name="none", verbose=0)
    model.fit(X, y, epochs=1, verbose=0, callbacks=[none])
    assert [f.id for f in none.findings] == ["dataset.not_measured", "diagnostic.skipped"]
    assert all(f.severity == "info" for f in none.findings)
    t = none.records["training"][0]["value"]
    assert t["grad_norms"] is None and t["dead_units"] is None
    assert capsys.readouterr().out == ""


@pytest.mark.training
def test_console_findings_equal_the_findings_from_the_event_files(tmp_path, digits, capsys):
    X, y = digits
    Xraw = X * 16.0  # digits left at 0..16: not normalised
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cb = DebuggerCallback(tmp_path, train_data=(Xraw, y), validation_data=(Xraw[:100], y[:100]))
    model.fit(Xraw, y, epochs=3, verbose=0, validation_data=(Xraw[:100], y[:100]),
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path)), cb])
    from summary_readback import records_for_diagnosis

    recs = records_for_diagnosis(python_provider(tmp_path), "debugger")
    from_files = [(f.id, f.severity, f.title) for f in diagnose(recs)]
    assert from_files == [(f.id, f.severity, f.title) for f in cb.findings]
    assert cb.findings[0].id == "data.not_normalized"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[nndebug] WARNING data.not_normalized: Input is not normalised")
    # Keras's own runs sit beside the debugger run
    assert {"train", "validation", "debugger"} <= set(os.listdir(tmp_path))

"""capacity_sweep end to end: warehouse models trained on digits, one run per level."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator

from tb_nndebug import metadata, models
from tb_nndebug.sweep import SweepResult, capacity_sweep

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return X[:1400], y[:1400], X[1400:], y[1400:]


def make(base_bits):
    return lambda level: models.mlp((64,), 10, target_bits=level * base_bits, tolerance=None,
                                    random_state=0)


def trainer(X, y):
    def train(model, callbacks):
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(X, y, epochs=6, batch_size=64, verbose=0, shuffle=False,
                  validation_split=0.1, callbacks=callbacks)
    return train


def records(run_dir):
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        for ev in acc.Tensors(tag):
            try:
                doc = metadata.decode_record(tf.make_ndarray(ev.tensor_proto))
            except Exception:
                continue  # scalars and images
            out.setdefault(doc["kind"], []).append(doc)
    return out


def test_bisection_sweep_logs_one_run_per_level(digits, tmp_path):
    Xtr, ytr, Xte, yte = digits
    res = capacity_sweep(make(65 * 24), trainer(Xtr, ytr), Xte, yte, n_levels=3,
                         logdir=tmp_path / "sweep", architecture="mlp", robustness_samples=40,
                         robustness_kwargs=dict(max_pixels=20, bisection_steps=6),
                         progress=False)
    assert isinstance(res, SweepResult)
    levels = [r.level for r in res.rows]
    # the rule: 1.0, 0.5, then down if 0.5 kept accuracy, else up
    assert levels[:2] == [1.0, 0.5]
    assert levels[2] == (0.25 if res.rows[1].keeps_accuracy else 0.75)
    assert res.reference_accuracy == res.rows[0].accuracy > 0.8
    # capacity follows the level; the best is the most robust level keeping accuracy
    by_level = sorted(res.rows, key=lambda r: r.level)
    assert [r.bits for r in by_level] == sorted(r.bits for r in by_level)
    keep = [r for r in res.rows if r.keeps_accuracy]
    assert res.best_level in [r.level for r in keep]
    assert res.row(res.best_level).median_pixels == max(r.median_pixels for r in keep)
    assert "level" in res.table() and len(res.to_dicts()) == 3

    runs = sorted(os.listdir(tmp_path / "sweep"))
    assert runs == sorted(f"mlp_{lv:g}" for lv in levels)
    for row in res.rows:
        assert sorted(os.listdir(row.run_dir)) == ["debugger", "train", "validation"]
        recs = records(os.path.join(row.run_dir, "debugger"))
        info = recs["run_info"][0]
        assert info["architecture"] == "mlp" and info["capacity_level"] == row.level
        assert info["target_bits"] == pytest.approx(row.level * 65 * 24)
        assert recs["model"][0]["bits"] == row.bits  # written by the DebuggerCallback
        rob = recs["robustness"][0]
        assert rob["n"] == 40 and rob["max_pixels"] == 20
        assert rob["clean_accuracy"] == pytest.approx(row.robustness.clean_accuracy)
        assert "training" in recs  # the callback ran every epoch


def test_explicit_levels_without_logdir(digits):
    Xtr, ytr, Xte, yte = digits
    res = capacity_sweep(make(65 * 16), trainer(Xtr, ytr), Xte[:100], yte[:100],
                         levels=(1.0, 0.25), robustness_samples=20, score="eps",
                         robustness_kwargs=dict(pixels=False, bisection_steps=5),
                         progress=False)
    assert [r.level for r in res.rows] == [1.0, 0.25] and res.rule == "explicit levels"
    assert all(r.run_dir is None for r in res.rows)
    assert np.isnan(res.rows[0].median_pixels)
    assert res.best_level in (1.0, 0.25)


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(build_model=3), TypeError, "build_model"),
    (dict(train=None), TypeError, "train"),
    (dict(levels=(1.0, -0.5)), ValueError, "levels"),
    (dict(levels=()), ValueError, "levels"),
    (dict(y_test=np.zeros(3)), ValueError, "y_test"),
    (dict(X_test=np.zeros((0, 64))), ValueError, "X_test"),
    (dict(score="acc"), ValueError, "score"),
    (dict(accuracy_tolerance=-1), ValueError, "accuracy_tolerance"),
    (dict(n_levels=0), ValueError, "n_levels"),
])
def test_bad_arguments_name_themselves(kwargs, exc, msg):
    args = dict(build_model=make(1000), train=lambda m, c: None,
                X_test=np.zeros((10, 64)), y_test=np.zeros(10, int))
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        capacity_sweep(args.pop("build_model"), args.pop("train"), args.pop("X_test"),
                       args.pop("y_test"), **args)

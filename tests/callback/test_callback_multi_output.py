"""A two-output model (issue #15 defect 9): each head's labels measured, the probe run with
the model's own loss structure, and one target for two outputs said once, not failed."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from tb_nndebug.callback import DebuggerCallback

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def two_heads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype("float32")
    y1, y2 = (X[:, 0] > 0).astype("int64"), (X[:, 1] > 0.5).astype("int64")
    keras.utils.set_random_seed(0)
    inp = keras.Input((8,))
    h = keras.layers.Dense(16, activation="relu", name="hidden")(inp)
    model = keras.Model(inp, [keras.layers.Dense(2, activation="softmax", name="a")(h),
                              keras.layers.Dense(2, activation="softmax", name="b")(h)])
    model.compile("adam", ["sparse_categorical_crossentropy"] * 2,
                  metrics=[["accuracy"], ["accuracy"]])
    return model, X, y1, y2


def fit(tmp_path, two_heads, train_data):
    model, X, y1, y2 = two_heads
    cb = DebuggerCallback(tmp_path, train_data=train_data, verbose=0, csg=False,
                          projection=False)
    model.fit(X, [y1, y2], epochs=2, batch_size=32, verbose=0, callbacks=[cb])
    return cb


@pytest.mark.parametrize("form", ["list", "dict"])
def test_each_heads_labels_are_measured_and_every_layer_gets_a_gradient(tmp_path, two_heads,
                                                                        form):
    _, X, y1, y2 = two_heads
    cb = fit(tmp_path, two_heads, (X, [y1, y2] if form == "list" else {"a": y1, "b": y2}))
    tags = sorted(e["tag"] for e in cb.records["dataset"])
    assert tags == (["train", "train_y[1]"] if form == "list" else ["train", "train_b"])
    proportions = {e["tag"]: e["value"]["balance"]["proportions"] for e in cb.records["dataset"]}
    assert len(set(map(str, proportions.values()))) == 2  # two different label sets
    norms = cb.records["training"][0]["value"]["grad_norms"]
    assert {g["layer"] for g in norms} == {"hidden", "a", "b"}
    assert all(g["norm"] > 0 for g in norms)
    assert not [f for f in cb.findings if f.severity in ("warning", "error")]


def test_one_target_for_two_outputs_is_said_once_not_failed(tmp_path, two_heads):
    _, X, y1, _ = two_heads
    cb = fit(tmp_path, two_heads, (X, y1))
    assert "diagnostic.failed" not in {f.id for f in cb.findings}
    (skip,) = [f for f in cb.findings if f.id == "diagnostic.skipped"
               and "target array" in f.title]
    assert "2 outputs" in skip.title and skip.severity == "info"

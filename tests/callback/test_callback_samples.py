"""train_data in every form fit takes: read without changing what fit computes."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tb_nndebug.callback import DebuggerCallback
from tb_nndebug.callback.samples import take_samples

RNG = np.random.RandomState(0)
X = RNG.rand(120, 6).astype("float32")
Y = (X[:, 0] > 0.5).astype("int32")


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch=32):
        super().__init__()
        self.x, self.y, self.batch = x, y, batch

    def __len__(self):
        return -(-len(self.x) // self.batch)

    def __getitem__(self, i):
        s = slice(i * self.batch, (i + 1) * self.batch)
        return {"a": self.x[s, :3], "b": self.x[s, 3:]}, self.y[s]


def _generator(batch=40):
    for i in range(0, len(X), batch):
        yield X[i:i + batch], Y[i:i + batch]


@pytest.mark.parametrize("data,source,structure", [
    ((X, Y), "arrays", "array"),
    (({"a": X[:, :3], "b": X[:, 3:]}, Y), "arrays", "dict"),
    (([X[:, :3], X[:, 3:]], Y), "arrays", "list"),
    ((X, Y, np.ones(len(X))), "arrays", "array"),
    (tf.data.Dataset.from_tensor_slices(({"a": X[:, :3], "b": X[:, 3:]}, Y)).batch(16),
     "tf.data", "dict"),
    (Batches(X, Y), "PyDataset", "dict"),
    (_generator(), "generator", "array"),
], ids=["arrays", "dict", "list", "weighted", "tf.data-dict", "PyDataset", "generator"])
def test_every_input_form_fit_takes_is_read_with_its_structure(data, source, structure):
    s = take_samples(data, name="train_data", max_samples=1000)
    assert s.source == source and s.n == len(X) and s.whole
    assert {"array": np.ndarray, "dict": dict, "list": list}[structure] is type(s.x)
    leaves = list(s.x.values()) if isinstance(s.x, dict) else (
        s.x if isinstance(s.x, list) else [s.x])
    np.testing.assert_array_equal(np.hstack(leaves), X)
    np.testing.assert_array_equal(s.y, Y)


def test_strings_and_targets_of_any_shape_are_read_as_they_are():
    text = np.array([f"word{i % 7} other" for i in range(10)])
    s = take_samples((text, np.arange(10) % 2), name="train_data", max_samples=100)
    assert s.x.dtype.kind == "U"
    masks = RNG.rand(10, 4, 4, 1)
    s = take_samples((masks, masks), name="train_data", max_samples=100)
    assert s.y.shape == (10, 4, 4, 1)
    s = take_samples(X, name="train_data", max_samples=100)
    assert s.y is None and s.n == 100 and not s.whole and s.limited_by == "max_samples"


def test_the_memory_budget_bounds_what_is_read():
    big = np.zeros((1000, 32, 32, 3), dtype="float32")  # 12 KB a sample
    s = take_samples((big, np.zeros(1000)), name="train_data", max_samples=20000,
                     budget_bytes=1_000_000)
    assert s.n == 81 and s.limited_by == "memory budget"
    ds = tf.data.Dataset.from_tensor_slices((big, np.zeros(1000))).batch(50)
    s = take_samples(ds, name="train_data", max_samples=20000, budget_bytes=1_000_000)
    assert s.n == 81 and s.limited_by == "memory budget" and not s.whole


def _fit_losses(with_callback, tmp_path):
    keras.utils.set_random_seed(0)
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(120, seed=1).batch(16)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    callbacks = [DebuggerCallback(tmp_path, train_data=ds, verbose=0)] if with_callback else []
    return model.fit(ds, epochs=3, verbose=0, callbacks=callbacks).history["loss"]


@pytest.mark.training
def test_reading_a_shuffled_tf_data_leaves_fit_unchanged(tmp_path):
    """Iterating a reshuffling pipeline advances its seed generator: the callback reads a
    copy, so fit's losses are identical with and without it."""
    assert _fit_losses(True, tmp_path) == _fit_losses(False, tmp_path)

"""fit's class_weight / sample_weight: the weighted Keras loss is never compared with the
unweighted probe loss (issue #15 defect 4: a false "Loss is diverging" error)."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from tb_nndebug.callback import DebuggerCallback

pytestmark = pytest.mark.training


def rare_positives():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 8)).astype("float32")
    y = (X[:, 0] > 1.6).astype("int64")  # about 5 % positives
    return X, y


def model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
    m.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


@pytest.mark.parametrize("how", ["class_weight", "sample_weight"])
def test_a_weighted_fit_is_not_called_diverging(tmp_path, how):
    X, y = rare_positives()
    weights = {0: 1.0, 1: 60.0}
    kw = ({"class_weight": weights} if how == "class_weight"
          else {"sample_weight": np.where(y == 1, 60.0, 1.0)})
    m = model()
    cb = DebuggerCallback(tmp_path, train_data=(X, y), verbose=0, csg=False, projection=False)
    hist = m.fit(X, y, epochs=4, batch_size=64, verbose=0, callbacks=[cb], **kw)
    initial = cb.records["checks"][0]["value"]["initial_loss"]
    assert hist.history["loss"][0] > 1.2 * initial  # the weighted loss is above the plain one
    assert cb.records["checks"][0]["value"]["sample_weighted"] is True
    found = {f.id: f for f in cb.findings}
    assert "training.lr_too_high" not in found
    assert not [f for f in cb.findings if f.severity == "error"]

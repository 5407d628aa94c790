"""A seeded two-class problem and a small MLP for tests that only need a real, quick fit."""
from __future__ import annotations

import keras
import numpy as np


def two_class_data(n: int, d: int):
    """``(X, y)``: ``n`` uniform float32 rows of ``d`` features, label = first feature > 0.5."""
    X = np.random.default_rng(0).random((n, d), dtype=np.float32)
    return X, (X[:, 0] > 0.5).astype("int64")


def two_class_mlp(d: int) -> keras.Model:
    """``d`` inputs → Dense(8, relu) → softmax over 2, compiled with Adam (seeded)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

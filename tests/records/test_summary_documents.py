"""The record documents the summary writers build (before any writing)."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import tb_nndebug as nd
from tb_nndebug import summary
from tb_nndebug.datasets import load_mnist_test


@pytest.fixture(scope="module")
def mnist():
    X, y = load_mnist_test()
    return X[:1500], y[:1500]


def test_dataset_document_on_images(mnist):
    X, y = mnist[0][:500], mnist[1][:500]
    doc = summary.dataset_document("train", X, y, random_state=0)
    c = nd.dataset_complexity(X, y)
    assert doc["input_shape"] == [28, 28] and doc["dim"] == 784
    assert doc["complexity"]["expected_bits"] == c.expected_bits
    assert doc["complexity"]["max_bits"] == c.max_bits
    assert doc["classes"] == [str(i) for i in range(10)]
    assert sum(doc["balance"]["counts"].values()) == 500
    assert doc["input_stats"]["max"] == 255.0
    assert doc["csg"]["score"] == pytest.approx(
        nd.csg(X.reshape(500, -1).astype(float), y, random_state=0).score)
    assert summary.dataset_document("train", X, y, random_state=0) == doc


def test_projection_keeps_at_most_1000_points_drawn_with_random_state(mnist):
    X, y = mnist
    doc = summary.dataset_document("train", X, y, csg=False, random_state=0)
    pts = np.array(doc["projection"]["points"])
    assert pts.shape == (1000, 3) and set(pts[:, 2].astype(int)) == set(range(10))
    assert summary.dataset_document("train", X, y, csg=False, random_state=0) == doc
    other = summary.dataset_document("train", X, y, csg=False, random_state=1)
    assert other["projection"] != doc["projection"]


def test_dataset_document_maps_string_and_one_hot_labels():
    X = np.random.RandomState(0).normal(size=(60, 3))
    names = np.array(["cat", "dog", "emu"])[np.arange(60) % 3]
    doc = summary.dataset_document("s", X, names)
    assert doc["classes"] == ["cat", "dog", "emu"]
    assert doc["balance"]["counts"] == {"cat": 20, "dog": 20, "emu": 20}
    onehot = np.eye(3)[np.arange(60) % 3]
    doc2 = summary.dataset_document("s", X, onehot)
    assert doc2["balance"]["counts"] == {"0": 20, "1": 20, "2": 20}


def test_dataset_document_options():
    X = np.random.RandomState(0).normal(size=(40, 2))
    one_class = summary.dataset_document("s", X, np.zeros(40), projection=False)
    assert one_class["csg"] is None and one_class["projection"] is None
    off = summary.dataset_document("s", X, np.arange(40) % 2, csg=False)
    assert off["csg"] is None and off["csg_error"] is None
    opts = summary.dataset_document("s", X, np.arange(40) % 2, csg={"k": 1})
    assert opts["csg"]["k"] == 1


def test_model_document_and_verdict_match_the_measures():
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10)], name="m")
    c = nd.dataset_complexity(np.random.RandomState(0).rand(300, 64),
                              np.arange(300) % 10)
    doc = summary.model_document("model", model, complexity=c)
    cap = nd.model_capacity(model)
    assert doc["bits"] == cap.bits and doc["n_params"] == model.count_params()
    assert [lay["name"] for lay in doc["layers"]] == [lc.name for lc in cap.layers]
    assert doc["layers"][0]["input_bits"] is None  # unbounded: fed by the input
    assert doc["input_shape"] == [64] and doc["n_outputs"] == 10
    assert doc["output_activation"] == "linear"
    m = nd.capacity_match(cap.bits, c)
    assert doc["match"] == {"verdict": m.verdict, "ratio": pytest.approx(m.ratio),
                            "expected_bits": m.expected_bits, "max_bits": m.max_bits}
    with pytest.raises(TypeError, match="complexity must be a DatasetComplexity"):
        summary.model_document("model", model, complexity={"expected_bits": 3})


def test_dataset_document_skips_csg_with_a_reason_when_a_class_is_too_small():
    X = np.random.RandomState(0).rand(20, 3)
    doc = summary.dataset_document("tiny", X, [0] * 18 + [1] * 2)
    assert doc["csg"] is None
    assert "smallest class has 2" in doc["csg_error"]
    assert doc["complexity"]["expected_bits"] > 0   # the other measures still run

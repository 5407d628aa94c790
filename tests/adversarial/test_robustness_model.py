"""Robustness on a real trained Keras model: determinism, shapes, records, bad input."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator

from tb_nndebug import metadata, summary
from tb_nndebug.adversarial import RobustnessResult, example_grid, robustness


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    return X, y


@pytest.fixture(scope="module")
def cnn(digits):
    """A small CNN with logits, trained two epochs on sklearn's digits."""
    X, y = digits
    init = lambda s: keras.initializers.GlorotUniform(seed=s)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", kernel_initializer=init(1)),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu", kernel_initializer=init(2)),
        keras.layers.Dense(10, kernel_initializer=init(3)),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(X[:1500], y[:1500], epochs=3, batch_size=32, verbose=0, shuffle=False)
    return model


pytestmark = pytest.mark.training


def test_same_inputs_give_identical_results(cnn, digits):
    X, y = digits[0][1500:1540], digits[1][1500:1540]
    a = robustness(cnn, X, y, eps_max=0.5, max_pixels=40, random_state=0)
    b = robustness(cnn, X, y, eps_max=0.5, max_pixels=40, random_state=0)
    assert a.status == b.status and a.pixel_status == b.pixel_status
    np.testing.assert_array_equal(a.min_eps, b.min_eps)
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert [e.index for e in a.examples] == [e.index for e in b.examples]
    assert json.dumps(a.to_record()) == json.dumps(b.to_record())


def test_attacking_in_batches_gives_each_sample_the_same_result(cnn, digits):
    X, y = digits[0][1500:1540], digits[1][1500:1540]
    whole = robustness(cnn, X, y, eps_max=0.5, max_pixels=40, random_state=0)
    batched = robustness(cnn, X, y, eps_max=0.5, max_pixels=40, random_state=0, batch_size=7)
    assert batched.status == whole.status and batched.pixel_status == whole.pixel_status
    np.testing.assert_allclose(batched.min_eps, whole.min_eps, rtol=1e-6)
    np.testing.assert_array_equal(batched.pixels, whole.pixels)
    np.testing.assert_array_equal(batched.predictions, whole.predictions)
    assert [e.index for e in batched.examples] == [e.index for e in whole.examples]


def test_trained_cnn_is_fooled_with_per_sample_results(cnn, digits):
    X, y = digits[0][1500:1560], digits[1][1500:1560]
    res = robustness(cnn, X, y, eps_max=0.5, max_pixels=64)
    assert isinstance(res, RobustnessResult)
    assert res.output == "logits" and res.input_size == 64 and res.n == 60
    assert res.clean_accuracy > 0.7
    fooled = np.array([s == "fooled" for s in res.status])
    assert fooled.sum() > 0.5 * res.n
    assert np.all((res.min_eps[fooled] > 0) & (res.min_eps[fooled] <= 0.5))
    # every kept example really is adversarial, within its eps, inside the clip box
    for ex in res.examples:
        assert np.abs(ex.difference).max() <= ex.eps + 1e-6
        assert ex.adversarial.min() >= 0 and ex.adversarial.max() <= 1
        logits = cnn(ex.adversarial[None], training=False).numpy()
        assert logits.argmax() == ex.adversarial_label != ex.label
    # the curve starts at clean accuracy and never rises
    eps, ra = res.curve()
    assert ra[0] == pytest.approx(res.clean_accuracy)
    assert np.all(np.diff(ra) <= 0)
    assert 0 < res.median_pixels < 64 and res.pixel_fraction == res.median_pixels / 64


def test_flat_input_with_softmax_output(digits):
    X, y = digits
    Xf = X.reshape(len(X), -1)
    init = lambda s: keras.initializers.GlorotUniform(seed=s)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", kernel_initializer=init(4)),
        keras.layers.Dense(10, activation="softmax", kernel_initializer=init(5)),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(Xf[:1500], y[:1500], epochs=5, verbose=0, shuffle=False)
    res = robustness(model, Xf[1500:1550], y[1500:1550], norm=2, eps_max=3.0, max_pixels=64)
    assert res.output == "probabilities" and res.norm == 2
    assert res.clean_accuracy > 0.7
    assert res.censored_fraction < 0.5 and 0 < res.median_eps < 3.0
    rec = res.to_record()
    assert rec["norm"] == "2"
    assert rec["examples"][0]["original"].startswith("data:image/png;base64,")


def test_summary_writes_record_scalars_and_image(cnn, digits, tmp_path):
    X, y = digits[0][1500:1530], digits[1][1500:1530]
    res = robustness(cnn, X, y, max_pixels=30)
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert summary.robustness("robustness", res, step=3, examples=2)
    assert summary.robustness("robustness", res, step=3) is False  # no default writer
    acc = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    tensors = acc.Tensors("robustness")
    assert [t.step for t in tensors] == [3]
    doc = metadata.decode_record(tf.make_ndarray(tensors[0].tensor_proto))
    assert doc["kind"] == "robustness" and doc["n"] == 30 and len(doc["examples"]) == 2
    assert doc["median_eps"] == pytest.approx(res.median_eps)
    scalars = acc.Tags()["tensors"]
    assert "nndebug/robustness/median_eps" in scalars
    assert "nndebug/robustness/clean_accuracy" in scalars
    grid = example_grid(res, 2)
    image = tf.make_ndarray(acc.Tensors("nndebug/robustness/adversarial_examples")[0].tensor_proto)
    width, height = int(image[0]), int(image[1])  # tf.summary.image: [w, h, png...]
    assert (height, width) == grid.shape[:2]
    assert grid.shape == (2 * 64 + 4, 3 * 64 + 2 * 4, 3)  # 2 rows of 3 panels, 8x8 shown 8x


def test_summary_rejects_something_else(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(TypeError, match="result"):
            summary.robustness("r", {"median_eps": 1})


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs_name_the_argument(cnn, digits):
    X, y = digits[0][:10], digits[1][:10]
    cases = [
        (dict(model="not a model"), TypeError, "model"),
        (dict(X=X * 16), ValueError, "clip"),
        (dict(X=X[:0], y=y[:0]), ValueError, "X is empty"),
        (dict(y=y + 10), ValueError, "y has labels"),
        (dict(y=-np.ones(10)), ValueError, "y has labels"),
        (dict(y=np.array(list("abcdefghij"))), TypeError, "y must hold integer"),
        (dict(y=y[:5]), ValueError, "different lengths"),
        (dict(norm=1), ValueError, "norm"),
        (dict(eps_max=0), ValueError, "eps_max"),
        (dict(clip=(1, 0)), ValueError, "clip"),
        (dict(max_pixels=0), ValueError, "max_pixels"),
        (dict(output="logprobs"), ValueError, "output"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=2.5), TypeError, "batch_size"),
        (dict(X=np.full_like(X, np.nan)), ValueError, "NaN"),
    ]
    for kwargs, exc, msg in cases:
        args = dict(model=cnn, X=X, y=y)
        args.update(kwargs)
        with pytest.raises(exc, match=msg):
            robustness(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_model_without_gradient_is_rejected(cnn, digits):
    X, y = digits[0][:10], digits[1][:10]
    hard = lambda x: tf.one_hot(tf.argmax(cnn(x, training=False), axis=1), 10)
    with pytest.raises(ValueError, match="model has no gradient"):
        robustness(hard, X, y)
    class Round(keras.layers.Layer):
        def call(self, x):
            return tf.round(x)

    rounding = keras.Sequential([keras.Input((8, 8, 1)), Round(), keras.layers.Flatten(),
                                 keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="model has no gradient"):
        robustness(rounding, X, y)
    constant = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(10, kernel_initializer="zeros")])
    with pytest.raises(ValueError, match="gradient .* is zero"):
        robustness(constant, X, y)
    with pytest.raises(ValueError, match="model could not be called"):
        robustness(lambda x: x.numpy().sum(), X, y)

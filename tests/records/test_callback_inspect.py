"""What the static checks read off a Keras model (no training)."""
from __future__ import annotations

import keras
import pytest

from tb_nndebug.records import keras_facts as ki


def seq(*layers, inp=(8,)):
    return keras.Sequential([keras.Input(inp), *layers])


def test_output_activation_sees_through_trailing_activation_and_dropout():
    assert ki.output_activation(seq(keras.layers.Dense(3, activation="softmax"))) == "softmax"
    assert ki.output_activation(seq(keras.layers.Dense(3), keras.layers.Activation("sigmoid"),
                                    keras.layers.Dropout(0.1))) == "sigmoid"
    assert ki.output_activation(seq(keras.layers.Dense(3), keras.layers.Softmax())) == "softmax"
    assert ki.output_activation(seq(keras.layers.Dense(3))) == "linear"


@pytest.mark.parametrize("loss,want", [
    ("sparse_categorical_crossentropy", {"name": "sparse_categorical_crossentropy",
                                         "from_logits": False}),
    ("mse", {"name": "mse", "from_logits": None}),
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
     {"name": "sparse_categorical_crossentropy", "from_logits": True}),
    (keras.losses.BinaryCrossentropy(), {"name": "binary_crossentropy", "from_logits": False}),
])
def test_loss_info_reads_name_and_from_logits(loss, want):
    model = seq(keras.layers.Dense(3))
    model.compile("adam", loss)
    assert ki.loss_info(model) == want


def test_learning_rate_and_uncompiled_model():
    model = seq(keras.layers.Dense(3))
    assert ki.loss_info(model) is None and ki.learning_rate(model) is None
    model.compile(keras.optimizers.SGD(0.25), "mse")
    assert ki.learning_rate(model) == pytest.approx(0.25)


def test_layer_lists_for_the_probe_checks():
    model = seq(keras.layers.Dense(6), keras.layers.Dense(5, activation="relu"),
                keras.layers.Dropout(0.7), keras.layers.GaussianNoise(0.1),
                keras.layers.Dense(4), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                keras.layers.Dense(3, activation="softmax"))
    names = [layer.name for layer in model.layers]
    assert ki.linear_hidden_layers(model) == [names[0]]
    assert ki.dropout_rates(model) == {names[2]: 0.7}
    assert ki.stochastic_layers(model) == [names[2], names[3]]
    assert [layer.name for layer in ki.relu_layers(model)] == [names[1], names[6]]
    assert [n for n, _ in ki.kernel_variables(model)] == [names[0], names[1], names[4], names[7]]
    assert ki.n_outputs(model) == 3
    assert ki.shape_without_batch(model.input_shape) == [8]


def test_check_model_rejects_what_cannot_be_measured():
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        ki.check_model(object())
    with pytest.raises(ValueError, match="model is not built"):
        ki.check_model(keras.Sequential([keras.layers.Dense(2)]))

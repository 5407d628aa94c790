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
    assert [n for n, _ in ki.kernel_variables(model)] == [
        f"{names[i]}/kernel" for i in (0, 1, 4, 7)]
    assert ki.n_outputs(model) == 3
    assert ki.shape_without_batch(model.input_shape) == [8]


def test_check_model_rejects_what_cannot_be_measured():
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        ki.check_model(object())
    with pytest.raises(ValueError, match="model is not built"):
        ki.check_model(keras.Sequential([keras.layers.Dense(2)]))


def test_linear_hidden_is_read_off_the_graph_not_the_layer_order():
    """Only two weighted layers composing linearly are flagged: a 1x1 projection shortcut
    merged by Add, a head feeding a custom layer and an output are linear by design."""
    inp = keras.Input((8, 8, 3))
    main = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="main")(inp)
    shortcut = keras.layers.Conv2D(4, 1, name="projection")(inp)
    merged = keras.layers.Add()([main, shortcut])
    flat = keras.layers.GlobalAveragePooling2D()(merged)
    z_mean = keras.layers.Dense(2, name="z_mean")(flat)
    z = keras.layers.GaussianNoise(0.1)(z_mean)
    stacked = keras.layers.Dense(3, name="stacked")(z)  # z_mean -> noise -> Dense: linear
    bn = keras.layers.BatchNormalization()(keras.layers.Dense(3, name="before_bn")(flat))
    out = keras.layers.Dense(2, name="out")(keras.layers.Concatenate()([stacked, bn]))
    model = keras.Model(inp, out)
    assert ki.linear_hidden_layers(model) == ["z_mean"]
    assert [layer.name for layer in ki.entry_layers(model)] == ["main", "projection"]


def test_entry_layers_and_in_model_preprocessing():
    model = seq(keras.layers.Rescaling(1 / 255), keras.layers.Dense(4, activation="relu"),
                keras.layers.Dense(2))
    assert ki.preprocessing_before_weights(model) == [model.layers[0].name]
    assert [layer.name for layer in ki.entry_layers(model)] == [model.layers[1].name]
    text = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(50, 4),
                             keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2)])
    assert [type(layer).__name__ for layer in ki.entry_layers(text)] == ["Embedding"]
    assert ki.linear_hidden_layers(text) == []
    groups = ki.variable_groups(text)
    assert [(path.split("/")[-1], len(vs), weighted) for path, vs, weighted in groups] == [
        (text.layers[0].name, 1, True), (text.layers[2].name, 2, True)]

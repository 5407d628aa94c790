"""model_capacity / capacity_match: Friedland's rules on real Keras 3 graphs, worked by hand."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tb_nndebug as nd
from tb_nndebug.measures.capacity import GraphNode, capacity_from_graph, keras_graph

keras = pytest.importorskip("keras")
L = keras.layers


def dense_stack(d, widths):
    return keras.Sequential([keras.Input((d,))] + [L.Dense(w) for w in widths])


def closed_formula(d, widths):
    bits, narrowest = (d + 1) * widths[0], widths[0]
    for h in widths[1:]:
        bits += min(narrowest, (narrowest + 1) * h)
        narrowest = min(narrowest, h)
    return bits


def rows(cap):
    return [(r.name, r.params, r.input_bits, r.capacity_bits, r.output_bits) for r in cap.layers]


@pytest.mark.parametrize("d, widths, bits", [
    (2, [3, 1], 12), (2, [3, 2, 1], 14), (2, [4, 2, 1], 18), (784, [256, 128, 128, 10], 201_472),
])
def test_dense_stacks_from_the_reference_notes(d, widths, bits):
    cap = nd.model_capacity(dense_stack(d, widths))
    assert cap.bits == bits == closed_formula(d, widths)
    assert cap.layers[0].input_bits == math.inf


def test_conv_net_worked_by_hand():
    m = keras.Sequential([
        keras.Input((8, 8, 1)),
        L.Conv2D(4, 3, name="conv"),          # 40 params, 6*6*4 = 144 outputs
        L.MaxPooling2D(2, name="pool"),       # 3*3*4 = 36
        L.Flatten(name="flat"),
        L.Dense(10, name="fc"),               # 370 params, fed 36 bits
        L.Dense(3, name="out"),               # 33 params, fed 10 bits
    ])
    cap = nd.model_capacity(m)
    assert rows(cap) == [
        ("conv", 40, math.inf, 40, 144),
        ("pool", 0, 144, 0, 36),
        ("flat", 0, 36, 0, 36),
        ("fc", 370, 36, 36, 10),
        ("out", 33, 10, 10, 3),
    ]
    assert cap.bits == 86 and cap.n_params == cap.trainable_params == 443


def skip_model(with_skip):
    inp = keras.Input((4,))
    d1 = L.Dense(8, name="d1")(inp)           # 40 params
    d2 = L.Dense(2, name="d2")(d1)            # 18 params, narrows to 2 bits
    d3 = L.Dense(8, name="d3")(d2)            # 24 params, but only 2 bits reach it
    x = L.Add(name="add")([d1, d3]) if with_skip else d3
    out = L.Dense(1, name="out")(x)           # 9 params
    return keras.Model(inp, out)


def test_skip_connection_carries_the_wider_path():
    cap = nd.model_capacity(skip_model(True))
    assert rows(cap) == [
        ("d1", 40, math.inf, 40, 8),
        ("d2", 18, 8, 8, 2),
        ("d3", 24, 2, 2, 2),
        ("add", 0, 8, 0, 8),
        ("out", 9, 8, 8, 1),
    ]
    assert cap.bits == 58
    assert nd.model_capacity(skip_model(False)).bits == 52  # the bottleneck caps "out" at 2


def test_concatenation_adds_its_inputs_information():
    inp = keras.Input((4,))
    a = L.Dense(3, name="a")(inp)             # 15 params
    b = L.Dense(2, name="b")(inp)             # 10 params
    c = L.Concatenate(name="cat")([a, b])     # 3 + 2 bits
    h = L.Dense(10, name="h")(c)              # 60 params, fed 5 bits
    out = L.Dense(1, name="out")(h)           # 11 params, fed 5 bits
    cap = nd.model_capacity(keras.Model(inp, out))
    assert rows(cap) == [
        ("a", 15, math.inf, 15, 3),
        ("b", 10, math.inf, 10, 2),
        ("cat", 0, 5, 0, 5),
        ("h", 60, 5, 5, 5),
        ("out", 11, 5, 5, 1),
    ]
    assert cap.bits == 35


def test_bottleneck_that_narrows_then_widens():
    cap = nd.model_capacity(dense_stack(10, [16, 2, 16, 16, 1]))
    assert [r.capacity_bits for r in cap.layers] == [176, 16, 2, 2, 2]
    assert [r.output_bits for r in cap.layers] == [16, 2, 2, 2, 1]
    assert cap.bits == 198 == closed_formula(10, [16, 2, 16, 16, 1])


def test_nested_sequential_inside_a_functional_model_is_walked_through():
    inner = keras.Sequential([L.Dense(4, name="i1"), L.Dense(3, name="i2")], name="inner")
    inp = keras.Input((6,))
    out = L.Dense(2, name="out")(inner(inp))
    cap = nd.model_capacity(keras.Model(inp, out))
    assert rows(cap) == [
        ("inner/i1", 28, math.inf, 28, 4),
        ("inner/i2", 15, 4, 4, 3),
        ("out", 8, 3, 3, 2),
    ]
    assert cap.bits == 35


def test_shared_layer_weights_count_once_and_ops_are_nodes():
    inp = keras.Input((3,))
    shared = L.Dense(3, name="shared")        # 12 params
    x = shared(shared(inp)) + 1.0
    cap = nd.model_capacity(keras.Model(inp, x))
    assert [r.name for r in cap.layers] == ["shared", "shared:1", "add"]
    assert [r.capacity_bits for r in cap.layers] == [12, 0, 0]
    assert cap.trainable_params == 12


def test_batchnorm_counts_only_trainable_parameters():
    m = keras.Sequential([keras.Input((5,)), L.Dense(4, name="d"), L.BatchNormalization(name="bn")])
    cap = nd.model_capacity(m)
    assert [r.params for r in cap.layers] == [24, 8]
    assert cap.n_params == 24 + 16 and cap.trainable_params == 32
    assert cap.bits == 24 + 4


def test_reshaping_the_raw_input_does_not_cap_the_next_layer():
    flat = dense_stack(784, [256, 128, 128, 10])
    image = keras.Sequential([keras.Input((28, 28, 1)), L.Flatten()]
                             + [L.Dense(w) for w in (256, 128, 128, 10)])
    assert nd.model_capacity(image).bits == nd.model_capacity(flat).bits == 201_472
    pooled = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(4, 3), L.MaxPooling2D(),
                               L.Flatten(), L.Dense(10)])
    kinds = {row.kind: row for row in nd.model_capacity(pooled).layers}
    # after a neuron layer the bottleneck applies again: 26*26*4 units, pooled to 13*13*4
    assert kinds["Conv2D"].output_bits == 26 * 26 * 4
    assert kinds["MaxPooling2D"].output_bits == 13 * 13 * 4
    assert kinds["Dense"].capacity_bits == 13 * 13 * 4


def test_keras_applications_model():
    m = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35,
                                       classes=10)
    cap = nd.model_capacity(m)
    assert cap.n_params == m.count_params()
    assert cap.trainable_params == sum(int(np.prod(w.shape)) for w in m.trainable_weights)
    assert len(cap.layers) == len(m.layers) - 1  # every layer but the input
    assert cap.layers[0].input_bits == math.inf
    assert 0 < cap.bits < cap.trainable_params
    assert all(r.capacity_bits <= r.params for r in cap.layers)
    json.dumps(cap.to_dict())


def test_unbuilt_model_names_the_argument():
    with pytest.raises(ValueError, match="model"):
        nd.model_capacity(keras.Sequential([L.Dense(3)]))


def test_not_a_model_names_the_argument():
    with pytest.raises(TypeError, match="model"):
        nd.model_capacity("resnet")


def test_subclassed_model_names_the_argument():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.zeros((1, 3), dtype="float32"))
    with pytest.raises(TypeError, match="model"):
        nd.model_capacity(net)


def test_node_list_from_another_framework():
    g = [GraphNode("h", "Linear", 9, (None,), 3), GraphNode("o", "Linear", 4, ("h",), 1)]
    assert nd.model_capacity(g).bits == 12
    with pytest.raises(ValueError, match="nodes"):
        capacity_from_graph([GraphNode("o", "Linear", 4, ("missing",), 1)])


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 1000), st.lists(st.integers(1, 500), min_size=1, max_size=8))
def test_arithmetic_of_dense_stacks_equals_the_closed_formula(d, widths):
    nodes, prev, fan_in = [], None, d
    for i, w in enumerate(widths):
        nodes.append(GraphNode(f"d{i}", "Dense", (fan_in + 1) * w, (prev,), w))
        prev, fan_in = f"d{i}", w
    assert capacity_from_graph(nodes).bits == closed_formula(d, widths)


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 30), st.lists(st.integers(1, 20), min_size=1, max_size=4))
def test_keras_dense_stacks_equal_the_closed_formula(d, widths):
    assert nd.model_capacity(dense_stack(d, widths)).bits == closed_formula(d, widths)


def test_keras_graph_is_framework_neutral():
    nodes = keras_graph(skip_model(True))
    assert all(isinstance(n, GraphNode) for n in nodes)
    assert nodes[3].inbound == ("d1", "d3") and nodes[0].inbound == (None,)


# --------------------------------------------------------------------------- #
# capacity_match
# --------------------------------------------------------------------------- #
XOR = nd.dataset_complexity(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), [0, 1, 1, 0])  # 4 / 8


@pytest.mark.parametrize("bits, verdict", [(0, "too_small"), (3, "too_small"), (4, "matched"),
                                           (8, "matched"), (9, "oversized")])
def test_capacity_match_verdicts(bits, verdict):
    m = nd.capacity_match(bits, XOR)
    assert m.verdict == verdict and m.ratio == bits / 4
    assert (m.expected_bits, m.max_bits) == (4, 8)


def test_capacity_match_takes_a_model_capacity():
    cap = nd.model_capacity(dense_stack(2, [3, 1]))
    m = nd.capacity_match(cap, XOR)
    assert m.model_bits == 12 and m.verdict == "oversized"
    assert m.log2_ratio == pytest.approx(math.log2(3))


@pytest.mark.parametrize("bits, complexity, match", [
    (-1, XOR, "model_bits"), (float("nan"), XOR, "model_bits"), ("12", XOR, "model_bits"),
    (12, {"expected_bits": 4}, "complexity"),
])
def test_capacity_match_bad_input_names_the_argument(bits, complexity, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nd.capacity_match(bits, complexity)


# --------------------------------------------------------------------------- #
# layer kinds Friedland's four rules do not cover (docs/capacity-rules.md)
# --------------------------------------------------------------------------- #
def by_kind(cap):
    return {r.kind: r for r in cap.layers}


def text_model(length=200, vocab=20000, dim=128):
    inp = keras.Input((length,), dtype="int32")
    x = L.GlobalAveragePooling1D()(L.Embedding(vocab, dim)(inp))
    return keras.Model(inp, L.Dense(2, activation="softmax")(x))


def test_an_embedding_counts_the_information_of_its_ids_not_its_table():
    cap = nd.model_capacity(text_model())
    emb = by_kind(cap)["Embedding"]
    # 200 ids of a 20,000-row table: at most 200 * ceil(log2 20000) = 3,000 bits arrive
    assert emb.params == 20000 * 128 and emb.input_bits == 3000 and emb.capacity_bits == 3000
    assert emb.rule == "embedding"
    assert cap.bits == 3000 + 128      # before: 2,560,128 (the table counted as bits)
    # a table smaller than its ids' information is counted whole
    small = by_kind(nd.model_capacity(text_model(length=200, vocab=16, dim=2)))["Embedding"]
    assert small.capacity_bits == 32


def test_an_embedding_behind_in_model_vectorization_is_capped_the_same_way():
    inp = keras.Input((1,), dtype="string")
    vec = L.TextVectorization(max_tokens=1000, output_sequence_length=20)
    vec.adapt(np.array(["a b c", "d e f g"]))
    x = L.Embedding(1000, 16)(vec(inp))
    out = L.Dense(1)(L.GlobalAveragePooling1D()(x))
    emb = by_kind(nd.model_capacity(keras.Model(inp, out)))["Embedding"]
    assert emb.input_bits == 20 * 10 and emb.capacity_bits == 200


def test_a_variable_length_embedding_has_no_id_bound():
    inp = keras.Input((None,), dtype="int32")
    out = L.Dense(1)(L.GlobalAveragePooling1D()(L.Embedding(50, 4)(inp)))
    emb = by_kind(nd.model_capacity(keras.Model(inp, out)))["Embedding"]
    assert emb.input_bits == math.inf and emb.capacity_bits == 200


def test_recurrent_weights_are_counted_once_and_capped_by_the_states_before_each_step():
    m = keras.Sequential([keras.Input((20, 8)), L.LSTM(32), L.Dense(1)])
    lstm = by_kind(nd.model_capacity(m))["LSTM"]
    # kernel + bias 4*32*(8+1) = 1,152 from the raw input; recurrent kernel 32*128 = 4,096
    # parameters fed by the 19 states of 32 units before steps 2..20: 608 bits
    assert lstm.params == 5248 and lstm.capacity_bits == 1152 + 608 and lstm.rule == "recurrent"
    assert lstm.output_bits == 32
    assert nd.model_capacity(m).bits == 1760 + 32   # before: 5,280
    long = by_kind(nd.model_capacity(keras.Sequential([keras.Input((500, 8)), L.LSTM(32)])))
    assert long["LSTM"].capacity_bits == 5248      # long sequences: every weight counts


@pytest.mark.parametrize("layer, expected", [
    (L.GRU(4), 3 * 12 + 2 * 12 + 4 * 4),          # GRU bias is (2, 3u) with reset_after
    (L.SimpleRNN(4), 3 * 4 + 4 + 4 * 4),
    (L.Bidirectional(L.GRU(4)), 2 * (3 * 12 + 2 * 12 + 4 * 4)),
    (L.LSTM(4, return_sequences=True), 3 * 16 + 16 + 4 * 4),
])
def test_other_recurrent_cells(layer, expected):
    m = keras.Sequential([keras.Input((5, 3)), layer])
    row = nd.model_capacity(m).layers[0]
    assert row.capacity_bits == expected and row.rule == "recurrent"


def test_attention_is_two_stacked_layers_projections_then_output():
    inp = keras.Input((10, 32))
    att = L.MultiHeadAttention(num_heads=2, key_dim=16, name="mha")
    row = nd.model_capacity(keras.Model(inp, att(inp, inp))).layers[0]
    # query/key/value 3*(32*32+32) = 3,168 from the raw input; the output projection's
    # 2*16*32+32 = 1,056 weights see the 10 positions x 2 heads x 16 of the mix: 320 bits
    assert row.params == 3168 + 1056 and row.capacity_bits == 3168 + 320
    assert row.rule == "attention" and row.output_bits == 320


def test_normalisation_adds_one_shift_per_feature_and_keeps_raw_input_raw():
    m = keras.Sequential([keras.Input((5,)), L.BatchNormalization(name="bn"),
                          L.Dense(3, name="d")])
    bn, d = nd.model_capacity(m).layers
    assert bn.params == 10 and bn.capacity_bits == 5 and bn.output_bits == math.inf
    assert d.input_bits == math.inf and d.capacity_bits == 18
    ln = keras.Sequential([keras.Input((4, 6)), L.Dense(6), L.LayerNormalization(name="ln")])
    assert by_kind(nd.model_capacity(ln))["LayerNormalization"].capacity_bits == 6


def conv_bn_relu():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, use_bias=False), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(),
        L.Conv2D(64, 3, use_bias=False), L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(),
        L.Flatten(), L.Dropout(0.5), L.Dense(10, activation="softmax")])


def test_conv_bn_relu_cnn():
    cap = nd.model_capacity(conv_bn_relu())
    assert [r.capacity_bits for r in cap.layers if r.params] == [288, 32, 5408, 64, 1600]
    assert cap.bits == 7392                          # before: 7,488 (gamma counted too)


def transformer_block(maxlen=16, vocab=300, dim=8):
    inp = keras.Input((maxlen,), dtype="int32")
    x = L.Embedding(vocab, dim)(inp)
    a = L.MultiHeadAttention(num_heads=2, key_dim=dim)(x, x)
    x = L.LayerNormalization()(L.Add()([x, a]))
    f = L.Dense(dim)(L.Dense(16, activation="relu")(x))
    x = L.LayerNormalization()(L.Add()([x, f]))
    return keras.Model(inp, L.Dense(2)(L.GlobalAveragePooling1D()(x)))


def test_a_transformer_block_is_bounded_by_its_ids():
    cap = nd.model_capacity(transformer_block())
    ids = 16 * 9  # ceil(log2 300) = 9 bits per id
    assert by_kind(cap)["Embedding"].capacity_bits == ids
    assert all(r.input_bits <= ids for r in cap.layers)
    assert cap.bits < cap.trainable_params


def test_residual_projection_and_multi_input_models_get_sane_numbers():
    inp = keras.Input((16, 16, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
    y = L.SeparableConv2D(16, 3, padding="same")(x)
    y = L.BatchNormalization()(y)
    y = L.DepthwiseConv2D(3, padding="same")(y)
    short = L.Conv2D(16, 1)(x)                       # 1x1 projection shortcut
    z = L.Activation("relu")(L.Add()([y, short]))
    out = L.Dense(3)(L.GlobalAveragePooling2D()(z))
    cap = nd.model_capacity(keras.Model(inp, out))
    assert {r.rule for r in cap.layers if r.kind.endswith("Conv2D")} == {"shared"}
    assert 0 < cap.bits <= cap.trainable_params
    assert all(r.capacity_bits <= r.params for r in cap.layers)
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    merged = L.Concatenate()([L.Dense(2, name="da")(a), L.Dense(2, name="db")(b)])
    two = nd.model_capacity(keras.Model({"a": a, "b": b}, L.Dense(1, name="o")(merged)))
    assert [r.capacity_bits for r in two.layers if r.params] == [10, 8, 4]


class Scaled(L.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.inner = L.Dense(4)

    def call(self, x):
        return self.inner(x) * 2.0


class Inner(keras.Model):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.d = L.Dense(3)

    def call(self, x):
        return self.d(x)


def test_no_layer_kind_raises():
    seq = keras.Input((6, 4))
    img = keras.Input((8, 8, 2))
    tokens = keras.Input((6,), dtype="int32")
    outs = [
        L.TimeDistributed(L.Dense(3))(seq), L.Conv1D(3, 2)(seq), L.Conv1DTranspose(2, 2)(seq),
        L.GRU(2, return_sequences=True)(seq), L.Attention()([seq, seq]),
        L.AdditiveAttention()([seq, seq]), L.GroupNormalization(groups=2)(seq),
        L.UnitNormalization()(seq), L.Lambda(lambda t: t * 2)(seq), Scaled()(seq),
        Inner()(seq), L.Bidirectional(L.LSTM(2, return_sequences=True))(seq),
        L.Conv2DTranspose(2, 3)(img), L.SeparableConv2D(2, 3)(img),
        L.ConvLSTM1D(2, 2, return_sequences=True)(keras.ops.expand_dims(seq, -1)),
        L.Rescaling(1 / 255)(img), L.Embedding(10, 3)(tokens),
    ]
    flat = [L.Flatten()(o) for o in outs]
    m = keras.Model([seq, img, tokens], L.Dense(1)(L.Concatenate()(flat)))
    cap = nd.model_capacity(m)
    assert all(r.capacity_bits <= r.params for r in cap.layers)
    assert cap.trainable_params == sum(int(np.prod(w.shape)) for w in m.trainable_weights)
    json.dumps(cap.to_dict())

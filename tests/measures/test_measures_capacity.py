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

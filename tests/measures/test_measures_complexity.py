"""dataset_complexity: Friedland's heuristic pinned to the paper's Table 1 and his own tables."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tb_nndebug as nd
from tb_nndebug.datasets import load_friedland

# Table 1 of the paper, "Expected Complexity" column, for Friedland's own files
PAPER_TABLE1_EXPECTED = {"gauss": 2, "circle": 10, "spiral": 12, "xor": 10}


@pytest.mark.parametrize("name, expected", sorted(PAPER_TABLE1_EXPECTED.items()))
def test_friedland_files_reproduce_table1_expected_complexity(name, expected):
    X, y = load_friedland(name)
    assert nd.dataset_complexity(X, y).expected_bits == expected


@pytest.mark.parametrize("name, thresholds",
                         [("gauss", 1), ("circle", 30), ("spiral", 39), ("xor", 26)])
def test_friedland_files_threshold_counts(name, thresholds):
    X, y = load_friedland(name)
    c = nd.dataset_complexity(X, y)
    assert c.thresholds == thresholds
    assert c.max_bits == thresholds * 3 + thresholds
    assert c.expected_bits_exact == pytest.approx(math.log2(thresholds + 1) * 2)
    assert (c.dim, c.n_samples, c.n_classes) == (2, 100, 2)


@pytest.mark.parametrize("name, expected",
                         [("gauss", 12), ("circle", 2), ("spiral", 14), ("xor", 12)])
def test_l1_energy_differs_from_the_papers_column_on_signed_data(name, expected):
    X, y = load_friedland(name)
    assert nd.dataset_complexity(X, y, energy="l1").expected_bits == expected


@pytest.mark.parametrize("name, thresholds, expected, max_bits",
                         [("and", 1, 2, 4), ("xor_table", 2, 4, 8)])
def test_boolean_tables(name, thresholds, expected, max_bits):
    X, y = load_friedland(name)
    c = nd.dataset_complexity(X, y)
    assert (c.thresholds, c.expected_bits, c.max_bits) == (thresholds, expected, max_bits)


def test_ties_keep_input_order_stable_sort():
    # all energies tie: the label sequence as given decides (stable sort)
    X = np.zeros((4, 2))
    assert nd.dataset_complexity(X, [0, 0, 1, 1]).thresholds == 1
    assert nd.dataset_complexity(X, [0, 1, 0, 1]).thresholds == 3


def test_images_are_flattened_and_string_labels_mapped():
    X = np.arange(4 * 3 * 3, dtype=float).reshape(4, 3, 3)
    c = nd.dataset_complexity(X, ["cat", "dog", "cat", "dog"])
    assert c.dim == 9 and c.thresholds == 3 and c.expected_bits == 2 * 9


def test_one_hot_labels_equal_integer_labels():
    X, y = load_friedland("spiral")
    onehot = np.eye(2)[(y > 0).astype(int)]
    assert nd.dataset_complexity(X, onehot) == nd.dataset_complexity(X, y)


@pytest.mark.parametrize("X, y, match", [
    (np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], "X"),
    (np.array([[np.inf, 1.0], [0.0, 1.0]]), [0, 1], "X"),
    (np.empty((0, 2)), [], "X"),
    (np.array([1.0, 2.0]), [0, 1], "X"),
    (np.array(3.0), [0], "X"),
    (np.array([["a", "b"], ["c", "d"]]), [0, 1], "X"),
    (np.ones((3, 2)), [0, 1], "y"),
    (np.ones((2, 2)), [0.0, np.nan], "y"),
])
def test_bad_input_names_the_argument(X, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nd.dataset_complexity(X, y)


def test_bad_energy_names_the_argument():
    with pytest.raises(ValueError, match="energy"):
        nd.dataset_complexity(np.ones((2, 2)), [0, 1], energy="l2")


def test_single_class_needs_no_bits():
    c = nd.dataset_complexity(np.random.RandomState(0).rand(10, 3), [1] * 10)
    assert (c.thresholds, c.expected_bits, c.max_bits) == (0, 0, 0)


finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@st.composite
def labelled(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 5))
    X = draw(arrays(np.float64, (n, d), elements=finite))
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, 3)))
    return X, y


@settings(max_examples=60, deadline=None)
@given(labelled())
def test_bounds_hold(data):
    X, y = data
    c = nd.dataset_complexity(X, y)
    assert 0 <= c.thresholds <= len(y) - 1
    assert c.thresholds >= len(np.unique(y)) - 1
    assert c.expected_bits_exact <= c.expected_bits <= c.max_bits or c.thresholds == 0
    assert c.expected_bits % c.dim == 0


@settings(max_examples=60, deadline=None)
@given(labelled(), st.randoms(use_true_random=False))
def test_invariant_under_row_permutation_when_energies_distinct(data, rnd):
    X, y = data
    # keep one row per distinct energy so no tie can reorder labels
    e = X.sum(axis=1)
    _, first = np.unique(e, return_index=True)
    X, y = X[first], y[first]
    perm = list(range(len(y)))
    rnd.shuffle(perm)
    assert nd.dataset_complexity(X[perm], y[perm]) == nd.dataset_complexity(X, y)


@settings(max_examples=40, deadline=None)
@given(labelled())
def test_relabelling_classes_changes_nothing(data):
    X, y = data
    names = np.array(["zebra", "ant", "moth", "bee"])
    a = nd.dataset_complexity(X, y)
    b = nd.dataset_complexity(X, names[y])
    assert (a.thresholds, a.expected_bits, a.max_bits) == \
        (b.thresholds, b.expected_bits, b.max_bits)


@settings(max_examples=40, deadline=None)
@given(labelled())
def test_l1_equals_sum_on_nonnegative_data(data):
    X, y = data
    X = np.abs(X)
    l1 = nd.dataset_complexity(X, y, energy="l1")
    assert l1.thresholds == nd.dataset_complexity(X, y).thresholds


def test_integer_images_count_exactly_like_their_float_copy():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (300, 6, 6)).astype(np.uint8)
    y = rng.randint(0, 3, 300)
    for energy in ("sum", "l1"):
        assert nd.dataset_complexity(X, y, energy=energy) == nd.dataset_complexity(
            X.astype(np.float64), y, energy=energy)
    signed = X.astype(np.int8)  # wraps to negatives: l1 must not overflow int8
    assert nd.dataset_complexity(signed, y, energy="l1") == nd.dataset_complexity(
        signed.astype(np.float64), y, energy="l1")


def test_finite_values_whose_sum_overflows_are_accepted():
    X = np.array([[1e308, 1e308], [1.0, 2.0], [-1e308, -1e308]])
    assert nd.dataset_complexity(X, [0, 1, 0]).thresholds == 2

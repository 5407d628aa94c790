"""class_balance: counts, ratios, rare classes, entropy."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tb_nndebug as nd


def test_fraud_like_split():
    b = nd.class_balance([0] * 980 + [1] * 20)
    assert b.counts == {0: 980, 1: 20}
    assert b.imbalance_ratio == 49.0
    assert b.minority_fraction == 0.02
    assert b.rare_classes == (1,)
    assert 0 < b.normalized_entropy < 0.2


def test_balanced_string_labels():
    b = nd.class_balance(["b", "a", "c"] * 5)
    assert list(b.counts) == ["a", "b", "c"]
    assert b.imbalance_ratio == 1.0 and b.normalized_entropy == pytest.approx(1.0)
    assert b.rare_classes == ()


def test_single_class_is_balanced_by_convention():
    b = nd.class_balance([7, 7, 7])
    assert b.n_classes == 1 and b.normalized_entropy == 1.0 and b.imbalance_ratio == 1.0


@pytest.mark.parametrize("y, match", [([], "y"), ([0.0, np.nan], "y"), (np.zeros((2, 2, 2)), "y")])
def test_bad_labels_name_the_argument(y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nd.class_balance(y)


def test_bad_rare_fraction_names_the_argument():
    with pytest.raises(ValueError, match="rare_fraction"):
        nd.class_balance([0, 1], rare_fraction=1.5)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=200))
def test_counts_and_proportions_sum_up(y):
    b = nd.class_balance(y)
    assert sum(b.counts.values()) == len(y) == b.n_samples
    assert math.isclose(sum(b.proportions.values()), 1.0)
    assert b.imbalance_ratio >= 1.0
    assert 0.0 <= b.normalized_entropy <= 1.0 + 1e-12
    assert b.minority_fraction == min(b.proportions.values())
    assert set(b.rare_classes) == {c for c, p in b.proportions.items() if p < 0.05}

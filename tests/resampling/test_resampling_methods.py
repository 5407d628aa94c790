"""resample(): each method does what it promises, on real credit-card and MNIST data."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from tb_nndebug.datasets import load_creditcard, load_mnist_test
from tb_nndebug.resampling import resample, synthetic_mask


@pytest.fixture(scope="module")
def creditcard():
    X, y, _ = load_creditcard()
    return X, y


@pytest.fixture(scope="module")
def mnist_imbalanced():
    """Digits 4, 7, 9 (often confused) with 400/300/40 samples, as (n, 28, 28, 1) uint8."""
    X, y = load_mnist_test()
    idx = np.concatenate([np.flatnonzero(y == 4)[:400], np.flatnonzero(y == 7)[:300],
                          np.flatnonzero(y == 9)[:40]])
    return X[idx][..., None], y[idx].astype(np.int64)


def _kept_indices(X_before, X_after):
    """Indices of X_before kept, in order, by an order-preserving under-sampler."""
    before = X_before.reshape(len(X_before), -1)
    after = X_after.reshape(len(X_after), -1)
    kept, j = [], 0
    for i in range(len(before)):
        if j < len(after) and np.array_equal(before[i], after[j]):
            kept.append(i)
            j += 1
    assert j == len(after), "output is not an ordered subset of the input"
    return np.array(kept)


def _tomek_links(X, y):
    """Indices of samples in a Tomek link: mutual nearest neighbours of different classes."""
    Xf = X.reshape(len(X), -1).astype(float)
    idx = NearestNeighbors(n_neighbors=2).fit(Xf).kneighbors(Xf, return_distance=False)
    rows = np.arange(len(Xf))
    nn = np.where(idx[:, 0] == rows, idx[:, 1], idx[:, 0])
    return rows[(y != y[nn]) & (nn[nn] == rows)]


def test_creditcard_sample_is_the_imbalanced_one(creditcard):
    _, y = creditcard
    assert np.bincount(y).tolist() == [4920, 492]


def test_smote_equalises_counts_and_keeps_originals_first(creditcard):
    X, y = creditcard
    X_res, y_res = resample(X, y, "smote", random_state=0)
    assert np.bincount(y_res).tolist() == [4920, 4920]
    np.testing.assert_array_equal(X_res[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    # every synthetic sample is a fraud sample lying inside the fraud data's bounding box
    assert (y_res[len(y):] == 1).all()
    fraud = X[y == 1]
    new = X_res[len(X):]
    assert (new >= fraud.min(axis=0) - 1e-9).all() and (new <= fraud.max(axis=0) + 1e-9).all()


def test_tomek_removes_only_majority_members_of_tomek_links(creditcard):
    X, y = creditcard
    X_res, y_res = resample(X, y, "tomek")
    kept = _kept_indices(X, X_res)
    removed = np.setdiff1d(np.arange(len(X)), kept)
    assert len(removed) > 0
    assert (y[removed] == 0).all(), "a minority (fraud) sample was removed"
    assert np.bincount(y_res)[1] == 492
    links = _tomek_links(X, y)
    expected = links[y[links] == 0]
    np.testing.assert_array_equal(np.sort(removed), np.sort(expected))


def test_smote_tomek_is_smote_then_both_ends_of_every_link_removed(creditcard):
    X, y = creditcard
    X_sm, y_sm = resample(X, y, "smote", random_state=3)
    X_st, y_st = resample(X, y, "smote_tomek", random_state=3)
    links = _tomek_links(X_sm, y_sm)
    assert len(links) > 0
    kept = _kept_indices(X_sm, X_st)
    np.testing.assert_array_equal(np.setdiff1d(np.arange(len(X_sm)), kept), np.sort(links))
    counts = np.bincount(y_st)
    # in two classes every link has one end in each class, so counts stay equal
    assert counts[0] == counts[1] == 4920 - len(links) // 2


def test_same_random_state_gives_same_output_and_another_differs(creditcard):
    X, y = creditcard
    a = resample(X, y, "smote", random_state=7)
    b = resample(X, y, "smote", random_state=7)
    c = resample(X, y, "smote", random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_images_keep_their_shape_and_dtype(mnist_imbalanced):
    X, y = mnist_imbalanced
    X_res, y_res = resample(X, y, "smote", random_state=0)
    assert X_res.shape == (1200, 28, 28, 1) and X_res.dtype == np.uint8
    assert np.bincount(y_res)[[4, 7, 9]].tolist() == [400, 400, 400]
    np.testing.assert_array_equal(X_res[: len(X)], X)
    X_t, _y_t = resample(X, y, "tomek")
    assert X_t.shape[1:] == (28, 28, 1)
    kept = _kept_indices(X, X_t)
    removed = np.setdiff1d(np.arange(len(X)), kept)
    assert len(removed) > 0
    # multi-class Tomek ("not minority"): the minority class 9 never loses samples
    assert (y[removed] != 9).all()
    links = _tomek_links(X, y)
    np.testing.assert_array_equal(np.sort(removed), np.sort(links[y[links] != 9]))


def test_string_labels_come_back_as_strings(mnist_imbalanced):
    X, y = mnist_imbalanced
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])[y]
    X_res, y_res = resample(X, names, "smote_tomek", random_state=0)
    assert y_res.dtype.kind == "U"
    assert set(np.unique(y_res)) == {"four", "seven", "nine"}
    assert len(X_res) == len(y_res)


def test_one_hot_labels_come_back_one_hot():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.eye(2, dtype=np.float32)[np.r_[np.zeros(50, int), np.ones(10, int)]]
    _X_res, y_res = resample(X, y, "smote", random_state=0)
    assert y_res.shape == (100, 2) and y_res.dtype == np.float32
    assert y_res.sum(axis=0).tolist() == [50.0, 50.0]


def test_synthetic_mask_marks_rows_not_in_the_input(creditcard):
    X, y = creditcard
    X_res, _ = resample(X, y, "smote", random_state=0)
    mask = synthetic_mask(X, X_res)
    assert not mask[: len(X)].any()
    # SMOTE between duplicated fraud rows can reproduce an original row exactly
    assert 0.9 * (len(X_res) - len(X)) < mask.sum() <= len(X_res) - len(X)


# ---------------------------------------------------------------- bad input


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="y must contain at least 2 classes"):
        resample(np.zeros((10, 2)), np.zeros(10), "smote")


def test_class_smaller_than_k_neighbors_names_k_neighbors_and_a_fix():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(23, 3))
    y = np.r_[np.zeros(20, int), np.ones(3, int)]
    with pytest.raises(ValueError, match=r"k_neighbors=5 .* class 1 has 3: pass k_neighbors=2"):
        resample(X, y, "smote")
    with pytest.raises(ValueError, match="k_neighbors"):
        resample(X, y, "smote_tomek")
    _X_res, y_res = resample(X, y, "smote", k_neighbors=2, random_state=0)
    assert np.bincount(y_res).tolist() == [20, 20]
    # Tomek links need no neighbours count: fine with tiny classes
    resample(X, y, "tomek")


def test_nan_in_X_names_X():
    X = np.ones((20, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        resample(X, np.r_[np.zeros(14), np.ones(6)])


def test_nan_in_y_names_y():
    y = np.r_[np.zeros(14), np.ones(6)]
    y[2] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        resample(np.ones((20, 2)), y)


def test_mismatched_lengths_name_both():
    with pytest.raises(ValueError, match="X and y have different lengths: 20 != 19"):
        resample(np.ones((20, 2)), np.r_[np.zeros(14), np.ones(5)])


def test_unknown_method_and_option_are_named():
    X, y = np.random.RandomState(0).normal(size=(20, 2)), np.r_[np.zeros(14), np.ones(6)]
    with pytest.raises(ValueError, match="method must be one of"):
        resample(X, y, "adasyn")
    with pytest.raises(TypeError, match="unknown option for method 'smote'"):
        resample(X, y, "smote", k_neigbours=3)
    with pytest.raises(ValueError, match="y must hold class labels"):
        resample(X, np.linspace(0, 1, 20))
    with pytest.raises(TypeError, match="random_state"):
        resample(X, y, random_state="seven")

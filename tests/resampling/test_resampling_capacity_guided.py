"""CapacityGuidedResampler: the paper's 3.3.3 search, as an imbalanced-learn sampler."""
from __future__ import annotations

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.preprocessing import StandardScaler

from tb_nndebug import dataset_complexity
from tb_nndebug.datasets import load_creditcard, load_mnist_test
from tb_nndebug.resampling import CapacityGuidedResampler, ResamplingTrial


@pytest.fixture(scope="module")
def creditcard():
    X, y, _ = load_creditcard()
    return X, y


@pytest.fixture(scope="module")
def fitted(creditcard):
    X, y = creditcard
    r = CapacityGuidedResampler(n_trials=6, random_state=0)
    X_res, y_res = r.fit_resample(X, y)
    return r, X_res, y_res


def test_chosen_trial_is_the_minimum_of_the_recorded_trials(fitted):
    r, _, _ = fitted
    assert len(r.trials_) == 6
    assert all(isinstance(t, ResamplingTrial) for t in r.trials_)
    best = min(t.expected_bits for t in r.trials_)
    assert r.best_expected_bits_ == best == r.trials_[r.chosen_].expected_bits
    tied = [t.expected_bits_exact for t in r.trials_ if t.expected_bits == best]
    assert r.trials_[r.chosen_].expected_bits_exact == min(tied)
    assert r.best_trial_ is r.trials_[r.chosen_]
    # the trials really differ: shuffling changes what SMOTE makes
    assert len({t.thresholds for t in r.trials_}) > 1


def test_returned_data_is_the_chosen_trial_and_measures_as_recorded(fitted, creditcard):
    r, X_res, y_res = fitted
    c = dataset_complexity(X_res, y_res)
    chosen = r.trials_[r.chosen_]
    assert c.expected_bits == chosen.expected_bits
    assert c.thresholds == chosen.thresholds
    assert chosen.counts == {0: 4920, 1: 4920}
    assert np.bincount(y_res).tolist() == [4920, 4920]
    assert r.synthetic_mask_.sum() == 4428
    assert (y_res[r.synthetic_mask_] == 1).all()
    assert r.input_counts_ == {0: 4920, 1: 492}
    assert r.input_expected_bits_ == dataset_complexity(*creditcard).expected_bits


def test_seeds_and_timings_are_recorded(fitted):
    r, _, _ = fitted
    seeds = [t.seed for t in r.trials_]
    assert len(set(seeds)) == len(seeds)
    assert set(r.timings_) == {"shuffle", "resample", "measure"}
    assert all(v >= 0 for v in r.timings_.values())
    assert r.method_ == "capacity_guided(smote)"


def test_same_random_state_same_result(creditcard):
    X, y = creditcard
    a = CapacityGuidedResampler(n_trials=3, random_state=11)
    b = CapacityGuidedResampler(n_trials=3, random_state=11)
    Xa, ya = a.fit_resample(X, y)
    Xb, yb = b.fit_resample(X, y)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(ya, yb)
    assert a.trials_ == b.trials_
    c = CapacityGuidedResampler(n_trials=3, random_state=12).fit(X, y)
    assert [t.seed for t in c.trials_] != [t.seed for t in a.trials_]


@pytest.mark.parametrize("sampler", ["tomek", "smote_tomek", SMOTE(k_neighbors=3)])
def test_other_samplers_are_searched_too(creditcard, sampler):
    X, y = creditcard
    r = CapacityGuidedResampler(sampler=sampler, n_trials=2, random_state=0)
    X_res, y_res = r.fit_resample(X, y)
    assert r.trials_[r.chosen_].expected_bits == min(t.expected_bits for t in r.trials_)
    counts = np.bincount(y_res)
    if sampler == "tomek":
        assert counts[1] == 492 and counts[0] < 4920 and not r.synthetic_mask_.any()
    else:
        assert counts[0] == counts[1]
    # the search with a string sampler is reproducible, inner SMOTE included
    again = clone(r).fit_resample(X, y)
    np.testing.assert_array_equal(again[0], X_res)


def test_works_inside_an_imblearn_pipeline(creditcard):
    X, y = creditcard
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("resample", CapacityGuidedResampler(n_trials=2, random_state=0)),
        ("clf", DummyClassifier(strategy="prior")),
    ])
    pipe.fit(X, y)
    # the classifier was fitted on the balanced data the resampler chose
    np.testing.assert_allclose(pipe.named_steps["clf"].class_prior_, [0.5, 0.5])
    assert len(pipe.named_steps["resample"].trials_) == 2
    # resampling happens only in fit: predict sees all samples
    assert pipe.predict(X).shape == (len(X),)
    pipe.set_params(resample__n_trials=3, resample__sampler="smote_tomek").fit(X, y)
    assert len(pipe.named_steps["resample"].trials_) == 3


def test_get_set_params_and_clone_follow_sklearn():
    r = CapacityGuidedResampler(sampler=SMOTE(k_neighbors=2), n_trials=4, random_state=5)
    params = r.get_params()
    assert params["n_trials"] == 4 and params["random_state"] == 5
    assert params["sampler__k_neighbors"] == 2
    r.set_params(n_trials=7, sampler__k_neighbors=3)
    assert r.n_trials == 7 and r.sampler.k_neighbors == 3
    c = clone(r)
    assert c.get_params()["sampler__k_neighbors"] == 3
    assert c.sampler is not r.sampler
    assert not hasattr(c, "trials_")


def test_init_only_stores_parameters():
    r = CapacityGuidedResampler(sampler="nonsense", n_trials=-1)
    assert r.sampler == "nonsense" and r.n_trials == -1
    with pytest.raises(ValueError, match="n_trials must be >= 1"):
        r.fit_resample(np.ones((10, 2)), np.r_[np.zeros(8), np.ones(2)])


def test_images_keep_their_shape():
    X, y = load_mnist_test()
    idx = np.concatenate([np.flatnonzero(y == 3)[:200], np.flatnonzero(y == 5)[:30]])
    X, y = X[idx], y[idx]
    r = CapacityGuidedResampler(n_trials=2, random_state=0)
    X_res, y_res = r.fit_resample(X, y)
    assert X_res.shape == (400, 28, 28) and X_res.dtype == np.uint8
    assert np.bincount(y_res)[[3, 5]].tolist() == [200, 200]


def test_bad_input_is_named():
    X = np.random.RandomState(0).normal(size=(23, 3))
    y = np.r_[np.zeros(20, int), np.ones(3, int)]
    with pytest.raises(ValueError, match="k_neighbors=5"):
        CapacityGuidedResampler(n_trials=2).fit_resample(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        CapacityGuidedResampler(n_trials=2).fit_resample(X, np.zeros(23))
    with pytest.raises(ValueError, match="different lengths"):
        CapacityGuidedResampler(n_trials=2).fit_resample(X, y[:-1])
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        CapacityGuidedResampler(n_trials=2).fit_resample(Xn, y)
    with pytest.raises(ValueError, match="method must be one of"):
        CapacityGuidedResampler(sampler="adasyn").fit_resample(X, y)
    with pytest.raises(TypeError, match="sampler must be one of"):
        CapacityGuidedResampler(sampler=42).fit_resample(X, y)
    with pytest.raises(TypeError, match="n_trials must be an integer"):
        CapacityGuidedResampler(n_trials=2.5).fit_resample(X, y)
    with pytest.raises(ValueError, match="energy must be"):
        CapacityGuidedResampler(energy="l2").fit_resample(X, y)

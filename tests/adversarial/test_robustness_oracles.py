"""Robustness measures against closed-form answers for linear classifiers.

For logits z = W x + b and two classes, the margin towards the other class
changes linearly: the minimal L∞ perturbation is |margin| / ||w_a - w_b||_1
(L2: ||·||_2) as long as the clip box does not bind, and setting input value i
to the bound that helps the attack changes the margin by exactly its gain
|v_i| * |bound_i - x_i|, so the fewest values to change is the smallest k whose
top-k gains cover the margin.
"""
import keras
import numpy as np
import pytest

from tb_nndebug.adversarial import robustness

EPS_MAX = 0.25  # inputs live in [0.3, 0.7]: a perturbation ≤ 0.25 never meets [0, 1]


def linear_model(W, b, input_shape, softmax=False):
    layers = [keras.Input(input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten())
    dense = keras.layers.Dense(W.shape[1])
    layers.append(dense)
    if softmax:
        layers.append(keras.layers.Softmax())
    model = keras.Sequential(layers)
    dense.set_weights([W, b])
    return model


def binary_problem(seed, n=60, input_shape=(20,)):
    rng = np.random.RandomState(seed)
    d = int(np.prod(input_shape))
    W = rng.normal(size=(d, 2)).astype(np.float32)
    b = rng.normal(scale=0.1, size=2).astype(np.float32)
    X = rng.uniform(0.3, 0.7, size=(n,) + tuple(input_shape)).astype(np.float32)
    z = X.reshape(n, d).astype(np.float64) @ W + b
    y = z.argmax(1)
    return W, b, X, y, z


def oracle_eps(W, X, y, z, order):
    n = len(y)
    v = (W[:, 1 - y] - W[:, y]).T.astype(np.float64)  # gradient of the margin, (n, d)
    margin = np.abs(z[np.arange(n), y] - z[np.arange(n), 1 - y])
    return margin / np.linalg.norm(v, ord=order, axis=1)


def oracle_pixels(W, X, y, z, clip=(0.0, 1.0)):
    n = len(y)
    x = X.reshape(n, -1).astype(np.float64)
    v = (W[:, 1 - y] - W[:, y]).T.astype(np.float64)
    target = np.where(v > 0, clip[1], clip[0])
    gains = np.sort(np.abs(v) * np.abs(target - x), axis=1)[:, ::-1]
    margin = np.abs(z[np.arange(n), y] - z[np.arange(n), 1 - y])
    cover = np.cumsum(gains, axis=1) - margin[:, None]
    k = np.argmax(cover > 0, axis=1) + 1
    k = np.where(cover[:, -1] > 0, k, np.inf)
    # distance of the decisive partial sum from the margin: skip float ties
    slack = np.abs(cover).min(axis=1)
    return k, slack


@pytest.mark.parametrize("order,norm", [(1, np.inf), (2, 2)])
@pytest.mark.parametrize("input_shape", [(20,), (4, 5, 1)])
def test_min_eps_matches_linear_oracle_within_bisection_tolerance(order, norm, input_shape):
    W, b, X, y, z = binary_problem(1, input_shape=input_shape)
    eps_max = EPS_MAX if norm == np.inf else 1.0
    if norm == 2:  # keep the L2 ball inside the box too: no single value moves > 0.3
        X = np.full_like(X, 0.5) + (X - 0.5) * 0.1
        z = X.reshape(len(y), -1).astype(np.float64) @ W + b
        y = z.argmax(1)
    res = robustness(linear_model(W, b, input_shape), X, y, norm=norm, eps_max=eps_max,
                     pixels=False)
    star = oracle_eps(W, X, y, z, order)
    tol = res.eps_tolerance
    assert res.clean_accuracy == 1.0
    inside = star < eps_max - tol
    outside = star > eps_max + 1e-6
    assert inside.sum() >= 10, "the problem must exercise the bisection"
    fooled = np.array([s == "fooled" for s in res.status])
    assert fooled[inside].all()
    # an adversarial is never smaller than the true minimum, and the bisection
    # lands within its resolution of it
    assert np.all(res.min_eps[inside] >= star[inside] * (1 - 1e-5))
    assert np.all(res.min_eps[inside] <= star[inside] + tol + 1e-5)
    if norm == 2:  # single-step L2 directions need L2 to stay in the box: check it did
        assert np.all(np.abs(X - 0.5) < 0.03)
    assert all(s == "censored" for s in np.array(res.status)[outside])
    assert np.all(np.isinf(res.min_eps[outside]))


def test_pixel_count_matches_top_k_gain_oracle_exactly():
    W, b, X, y, z = binary_problem(2, n=80, input_shape=(30,))
    X = np.random.RandomState(3).uniform(0.0, 1.0, size=X.shape).astype(np.float32)
    z = X.astype(np.float64) @ W + b
    y = z.argmax(1)
    res = robustness(linear_model(W, b, (30,)), X, y, eps_max=EPS_MAX, max_pixels=30)
    k, slack = oracle_pixels(W, X, y, z)
    clear = slack > 1e-3
    assert clear.sum() >= 70
    assert np.all(res.pixels[clear] == k[clear])
    assert len(set(k[clear & np.isfinite(k)])) >= 3, "the oracle must vary across samples"


def test_pixel_count_censored_beyond_max_pixels():
    W, b, X, y, z = binary_problem(4, n=40, input_shape=(30,))
    k, _ = oracle_pixels(W, X, y, z)
    cap = 2
    res = robustness(linear_model(W, b, (30,)), X, y, eps_max=EPS_MAX, max_pixels=cap)
    over = k > cap
    assert over.any() and (~over).any()
    assert np.all(np.isinf(res.pixels[over]))
    assert all(s == "censored" for s in np.array(res.pixel_status)[over])
    assert np.all(res.pixels[~over] == k[~over])


def test_softmax_output_gives_the_same_answers_as_logits():
    W, b, X, y, z = binary_problem(5, n=60, input_shape=(20,))
    logits = robustness(linear_model(W, b, (20,)), X, y, eps_max=EPS_MAX)
    probs = robustness(linear_model(W, b, (20,), softmax=True), X, y, eps_max=EPS_MAX)
    assert logits.output == "logits" and probs.output == "probabilities"
    assert logits.status == probs.status
    both = np.isfinite(logits.min_eps)
    assert np.allclose(logits.min_eps[both], probs.min_eps[both], atol=logits.eps_tolerance)
    k, slack = oracle_pixels(W, X, y, z)
    clear = slack > 1e-3
    assert np.all(probs.pixels[clear] == k[clear])


def test_misclassified_samples_are_reported_apart_not_as_zero():
    W, b, X, y, z = binary_problem(6, n=30, input_shape=(20,))
    y_wrong = y.copy()
    y_wrong[:5] = 1 - y_wrong[:5]
    res = robustness(linear_model(W, b, (20,)), X, y_wrong, eps_max=EPS_MAX)
    assert res.status[:5] == ("misclassified",) * 5
    assert np.all(np.isnan(res.min_eps[:5])) and np.all(np.isnan(res.pixels[:5]))
    assert res.clean_accuracy == pytest.approx(25 / 30)
    assert res.misclassified_fraction == pytest.approx(5 / 30)
    # misclassified samples are never robust, even at eps = 0
    assert res.robust_accuracy(0.0) == pytest.approx(25 / 30)
    rec = res.to_record()
    assert rec["min_eps"][:5] == [None] * 5 and rec["status"][:5] == ["misclassified"] * 5


def test_multiclass_min_eps_is_a_valid_upper_bound_of_the_union_of_halfspaces():
    rng = np.random.RandomState(7)
    d, K, n = 16, 5, 40
    W = rng.normal(size=(d, K)).astype(np.float32)
    b = np.zeros(K, np.float32)
    X = rng.uniform(0.3, 0.7, size=(n, d)).astype(np.float32)
    z = X.astype(np.float64) @ W
    y = z.argmax(1)
    res = robustness(linear_model(W, b, (d,)), X, y, eps_max=EPS_MAX, pixels=False)
    star = np.full(n, np.inf)
    for j in range(K):
        v = (W[:, j][None, :] - W[:, y].T).astype(np.float64)
        m = z[np.arange(n), y] - z[:, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            star = np.where(j != y, np.minimum(star, m / np.abs(v).sum(1)), star)
    fooled = np.isfinite(res.min_eps)
    assert fooled.sum() >= 20
    assert np.all(res.min_eps[fooled] >= star[fooled] * (1 - 1e-5))
    # the max-margin attack may aim at a worse class than the best pair, but
    # not by much on these problems
    assert np.median(res.min_eps[fooled] / star[fooled]) < 1.1

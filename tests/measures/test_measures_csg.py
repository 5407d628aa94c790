"""csg: equal to spectral-metric 0.6.1 (the test oracle) when every point is sampled."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits, make_blobs, make_circles, make_moons

import tb_nndebug as nd
from tb_nndebug.measures.csg import nearest_neighbours, spectral_from_overlap

spectral_metric = pytest.importorskip("spectral_metric")
from spectral_metric.estimator import CumulativeGradientEstimator  # noqa: E402
from spectral_metric.lib import find_samples  # noqa: E402

TWELVE_X = np.array([[0, 0], [.3, .1], [.1, .45], [.5, .35], [1, .2], [1.3, .05], [.72, .6],
                     [1.1, .55], [3, 3], [3.2, 3.5], [2.8, 3.3], [3.6, 3.1]])
TWELVE_Y = np.repeat([0, 1, 2], 4)


def reference(X, y, k, M=10**9, seed=None):
    est = CumulativeGradientEstimator(M_sample=M, k_nearest=k)
    if seed is None:
        est.fit(X, y)
    else:  # same draws as csg(random_state=seed)
        est.n_class = int(np.max(y)) + 1
        samples, est.class_indices = find_samples(X, y, est.n_class, M=M, seed=seed)
        est.compute(X, y, samples)
    return est


def toy_sets():
    digits = load_digits()
    return {
        "moons": make_moons(300, noise=0.3, random_state=0),
        "circles": make_circles(300, noise=0.1, factor=0.5, random_state=1),
        "blobs": make_blobs(300, centers=4, cluster_std=2.5, random_state=2),
        "digits": (digits.data, digits.target),
    }


SETS = toy_sets()


def test_reference_example_S_matrix():
    S = np.array([[.8, .15, .05], [.1, .7, .2], [.05, .25, .7]])
    W, evals, score = spectral_from_overlap(S)
    np.testing.assert_allclose(evals, [0, 0.82087122, 1.27912878], atol=1e-8)
    assert score == pytest.approx(0.54724748, abs=1e-8)


def test_reference_example_twelve_points_k1():
    r = nd.csg(TWELVE_X, TWELVE_Y, k=1, samples_per_class=None)
    assert r.score == pytest.approx(0.199367089, abs=1e-9)
    assert r.classes == (0, 1, 2) and r.sample_counts == (4, 4, 4) and r.embedding == "raw"


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("name", sorted(SETS))
def test_full_sample_equals_spectral_metric(name, k):
    X, y = SETS[name]
    X = np.asarray(X, dtype=np.float64)
    ref = reference(X, y, k)
    ours = nd.csg(X, y, k=k, samples_per_class=None)
    assert abs(ours.score - float(np.ravel(ref.csg)[0])) < 1e-9
    np.testing.assert_allclose(ours.overlap, ref.S, atol=1e-9)
    np.testing.assert_allclose(ours.similarity, ref.W, atol=1e-9)
    np.testing.assert_allclose(ours.eigenvalues, ref.evals, atol=1e-9)


def test_same_seed_same_samples_as_reference_when_sampling():
    X, y = SETS["digits"]
    X = X.astype(np.float64)
    for seed in (0, 1):
        ref = reference(X, y, 3, M=50, seed=seed)
        ours = nd.csg(X, y, samples_per_class=50, k=3, random_state=seed)
        assert abs(ours.score - float(np.ravel(ref.csg)[0])) < 1e-9


def test_sampling_is_statistically_close_to_the_reference():
    X, y = SETS["blobs"]
    ours = [nd.csg(X, y, samples_per_class=30, random_state=s).score for s in range(12)]
    theirs = [float(np.ravel(reference(X, y, 3, M=30, seed=100 + s).csg)[0]) for s in range(12)]
    full = nd.csg(X, y, samples_per_class=None).score
    spread = np.std(theirs + ours)
    assert abs(np.mean(ours) - np.mean(theirs)) < 2 * spread / np.sqrt(6)
    assert abs(np.mean(ours) - full) < 3 * spread


def test_duplicate_points_break_ties_like_the_reference():
    rng = np.random.RandomState(3)
    X = np.round(rng.rand(60, 2) * 4)  # a 5x5 grid: many duplicates and equal distances
    y = rng.randint(0, 3, 60)
    for k in (1, 3):
        ref = reference(X, y, k)
        ours = nd.csg(X, y, k=k, samples_per_class=None).score
        assert abs(ours - float(np.ravel(ref.csg)[0])) < 1e-9


def test_knn_screening_matches_full_sort_on_distinct_distances():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((500, 30)) * rng.uniform(0.1, 100, 30)
    rows = np.arange(0, 500, 7)
    idx, _ = nearest_neighbours(X, rows, 5)
    d = ((X[rows, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(idx, np.argsort(d, axis=1, kind="stable")[:, :6])


def test_far_from_the_origin_float32_screening_stays_exact():
    X, y = make_blobs(200, centers=3, cluster_std=3.0, random_state=4)
    X = X * 1e-3 + 1e6  # float32 cannot even hold these coordinates apart
    ref = reference(X, y, 3)
    assert abs(nd.csg(X, y, samples_per_class=None).score - float(np.ravel(ref.csg)[0])) < 1e-9


def test_other_metric_matches_reference():
    X, y = SETS["moons"]
    est = CumulativeGradientEstimator(M_sample=10**9, k_nearest=3, distance="manhattan").fit(X, y)
    ours = nd.csg(X, y, samples_per_class=None, metric="manhattan")
    assert abs(ours.score - float(np.ravel(est.csg)[0])) < 1e-9


def test_string_labels_give_the_same_score():
    X, y = SETS["blobs"]
    names = np.array(["d", "c", "b", "a"])[y]  # reversed order: rows of S permute
    a = nd.csg(X, y, samples_per_class=None)
    b = nd.csg(X, names, samples_per_class=None)
    assert b.classes == ("a", "b", "c", "d")
    assert b.score == pytest.approx(a.score, abs=1e-12)


def test_separable_blobs_score_zero_and_overlapping_score_more():
    X, y = make_blobs(400, centers=[[0, 0], [50, 50], [-50, 50]], random_state=0)
    assert nd.csg(X, y, random_state=0).score == pytest.approx(0.0, abs=1e-12)
    X2, y2 = make_blobs(400, centers=[[0, 0], [1, 1], [-1, 1]], random_state=0)
    assert nd.csg(X2, y2, random_state=0).score > 0.3


def test_embeddings_are_reported_and_seeded():
    X, y = SETS["digits"]
    pca = nd.csg(X, y, embedding="pca", samples_per_class=40, random_state=0)
    assert pca.embedding == "pca-50" and pca.dim == 50
    assert nd.csg(X, y, embedding="pca", samples_per_class=40, random_state=0).score == pca.score
    Z = np.asarray(X)[:, :10]
    pre = nd.csg(X, y, embedding=Z, samples_per_class=40, random_state=0)
    call = nd.csg(X, y, embedding=lambda A: A[:, :10], samples_per_class=40, random_state=0)
    assert pre.embedding == "precomputed" and call.embedding.startswith("callable")
    assert pre.score == call.score


def test_tsne_embedding_is_two_dimensional_and_seeded():
    from threadpoolctl import threadpool_limits

    X, y = make_blobs(90, centers=3, n_features=5, random_state=0)
    with threadpool_limits(1):  # OpenMP spin-waits make t-SNE crawl on a busy 2-core box
        a = nd.csg(X, y, embedding="tsne", samples_per_class=10, random_state=0)
        b = nd.csg(X, y, embedding="tsne", samples_per_class=10, random_state=0)
    assert a.embedding == "tsne-2" and a.dim == 2 and 0 <= a.score <= 2
    assert b.score == a.score


def test_to_dict_is_json_ready():
    import json

    r = nd.csg(TWELVE_X, TWELVE_Y, k=1, samples_per_class=None)
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["score"] == pytest.approx(r.score) and len(doc["overlap"]) == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(X=np.array([[np.nan, 0.0]] * 8), y=[0, 1] * 4), "X"),
    (dict(X=np.array([[np.inf, 0.0]] * 8), y=[0, 1] * 4), "X"),
    (dict(X=np.empty((0, 2)), y=[]), "X"),
    (dict(X=np.arange(8.0), y=[0, 1] * 4), "X"),
    (dict(X=np.array(1.0), y=[0]), "X"),
    (dict(X=np.array([["a", "b"]] * 8), y=[0, 1] * 4), "X"),
    (dict(X=np.ones((8, 2)), y=[0, 1] * 3), "y"),
    (dict(X=np.ones((8, 2)), y=[0] * 8), "y"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=4), "k"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=0), "k"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1.5), "k"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, samples_per_class=0), "samples_per_class"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, samples_per_class=1.5), "samples_per_class"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, metric="nonsense"), "metric"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, embedding="umap"), "embedding"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, embedding=np.ones((5, 2))), "embedding"),
    (dict(X=TWELVE_X, y=TWELVE_Y, k=1, random_state="seed"), "random_state"),
])
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nd.csg(**kwargs)


@st.composite
def clouds(draw):
    K = draw(st.integers(2, 5))
    per = draw(st.integers(4, 12))
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.floats(0.01, 100))
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((K * per, d)) * scale + rng.randint(0, 3, (K * per, 1))
    y = np.repeat(np.arange(K), per)
    return X, y, K, seed


@settings(max_examples=40, deadline=None)
@given(clouds(), st.integers(1, 3))
def test_score_in_range_and_rows_of_S_are_distributions(data, k):
    X, y, K, seed = data
    r = nd.csg(X, y, k=k, samples_per_class=6, random_state=seed)
    assert -1e-9 <= r.score <= K - 1 + 1e-9
    np.testing.assert_allclose(r.overlap.sum(axis=1), 1.0)
    assert np.all(np.diff(r.eigenvalues) >= -1e-12)
    np.testing.assert_allclose(r.similarity, r.similarity.T, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(clouds(), st.integers(1, 3), st.booleans())
def test_full_sample_matches_reference_on_random_clouds(data, k, on_grid):
    X, y, K, seed = data
    if on_grid:  # integer coordinates: duplicates and equal distances everywhere
        X = np.round(X / max(np.abs(X).max(), 1e-12) * 3)
    ours = nd.csg(X, y, k=k, samples_per_class=None)
    assert abs(ours.score - float(np.ravel(reference(X, y, k).csg)[0])) < 1e-9


@settings(max_examples=25, deadline=None)
@given(clouds(), st.floats(0.1, 1000), st.floats(-50, 50))
def test_full_sample_score_is_invariant_to_translation(data, scale, shift):
    # a shift moves every Parzen window alike; neighbours stay neighbours
    X, y, K, seed = data
    a = nd.csg(X, y, samples_per_class=None, k=1).score
    b = nd.csg(X + shift, y, samples_per_class=None, k=1).score
    assert b == pytest.approx(a, abs=1e-6)


# --------------------------------------------------------------------------- #
# where the raw-space estimate means nothing (issue #13, defect 6)
# --------------------------------------------------------------------------- #
def smooth_images(n=240, side=64, seed=0):
    """Natural-looking 64x64x3 uint8 images of 3 classes: coarse patterns, upsampled."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    coarse = rng.rand(n, 8, 8, 3) * 0.7
    coarse[np.arange(n), y, :, :] += 0.3
    img = np.repeat(np.repeat(coarse, side // 8, axis=1), side // 8, axis=2)
    img = img * 220 + rng.randint(1, 30, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), y


def test_raw_high_dimensional_images_are_undefined_and_count_the_dropped_points():
    X, y = smooth_images()
    with pytest.warns(RuntimeWarning, match="undefined") as caught:
        r = nd.csg(X, y, embedding=None, random_state=0)
    # every message is ours: numpy's overflow warnings stay inside the measure
    assert all("CSG is undefined" in str(w.message) for w in caught)
    assert np.isnan(r.score) and r.dim == 64 * 64 * 3
    assert r.dropped_points + r.undefined_volumes == sum(r.sample_counts)
    doc = r.to_dict()
    assert doc["score"] is None and doc["dropped_points"] == r.dropped_points
    assert doc["n_sampled"] == 240 and "undefined" in doc["note"]


def test_auto_embedding_measures_high_dimensional_images_in_a_seeded_pca_space(recwarn):
    X, y = smooth_images()
    a = nd.csg(X, y, random_state=0)          # embedding="auto" is the default
    assert a.embedding == "pca-50" and a.dim == 50 and np.isfinite(a.score)
    assert a.dropped_points == 0 and 0 <= a.score <= 2
    assert nd.csg(X, y, random_state=0).score == a.score
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_auto_keeps_raw_features_up_to_1024_dimensions():
    X, y = SETS["digits"]
    assert nd.csg(X, y, random_state=0).embedding == "raw"
    assert nd.csg(X, y, random_state=0).score == nd.csg(X, y, embedding=None,
                                                        random_state=0).score


def test_token_ids_fall_back_to_pca_when_the_raw_estimate_is_undefined(recwarn):
    rng = np.random.RandomState(0)
    ids = rng.randint(0, 20000, (500, 200))
    y = (ids[:, 0] > 10000).astype(int)
    with pytest.warns(RuntimeWarning):
        undefined = nd.csg(ids, y, embedding=None, random_state=0)
    assert undefined.dropped_points > 250        # the 319 of 500, here
    auto = nd.csg(ids, y, random_state=0)
    assert auto.embedding == "pca-50" and "undefined" in auto.note and np.isfinite(auto.score)


def test_dataset_document_csg_skip_and_undefined_are_in_the_record(recwarn):
    from tb_nndebug import summary

    rng = np.random.RandomState(0)
    ids = rng.randint(0, 20000, (300, 50))
    y = np.arange(300) % 2
    reason = "inputs are token ids feeding an Embedding: distances between ids mean nothing"
    doc = summary.dataset_document("train", ids, y, csg_skip=reason, projection=False)
    assert doc["csg"] is None and doc["csg_error"] == f"skipped: {reason}"
    with pytest.raises(TypeError, match="csg_skip"):
        summary.dataset_document("train", ids, y, csg_skip="")
    X, yi = smooth_images()
    raw = summary.dataset_document("train", X, yi, csg={"embedding": None}, projection=False)
    assert raw["csg"]["score"] is None and raw["csg_error"].startswith("undefined:")
    assert raw["csg"]["dropped_points"] + raw["csg"]["undefined_volumes"] == 240
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_dataset_document_measures_uint8_images_without_a_float64_copy():
    import tracemalloc

    from tb_nndebug import summary

    X, y = smooth_images(n=300, side=96)           # 8 MB of uint8; float64 would be 66 MB
    summary.dataset_document("warm", X[:30], y[:30])
    tracemalloc.start()
    try:
        doc = summary.dataset_document("train", X, y, random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.size * 8                       # less than ONE float64 copy of X
    # (before: 4 float64 copies and more; the measures now read X in its dtype)
    assert doc["csg"]["embedding"] == "pca-50" and doc["csg_error"] is None
    Xf = X.reshape(len(X), -1).astype(np.float64)
    stats = doc["input_stats"]
    assert stats["min"] == Xf.min() and stats["max"] == Xf.max()
    assert stats["mean"] == pytest.approx(Xf.mean()) and stats["std"] == pytest.approx(Xf.std())
    assert doc["complexity"]["expected_bits"] == nd.dataset_complexity(Xf, y).expected_bits
    assert len(doc["projection"]["points"]) == 300


@pytest.mark.parametrize("workers", [1, 2])
def test_knn_blocks_give_the_reference_neighbours_whatever_the_split_and_thread_count(
        monkeypatch, workers):
    import importlib

    # the package exports the function `csg`, which shadows the module's name
    csg_module = importlib.import_module("tb_nndebug.measures.csg")

    rng = np.random.RandomState(7)
    X = rng.randint(0, 5, (1201, 4)).astype(np.float64)  # ties and duplicates everywhere
    X[:400] = rng.randn(400, 4)
    rows = rng.permutation(1201)[:1000]
    whole, _ = nearest_neighbours(X, rows, 3)
    # blocks of 7 rows (a ragged last one), spread over `workers` threads
    monkeypatch.setattr(csg_module, "_FUSED_ELEMENTS", 1)
    monkeypatch.setattr(csg_module, "_MIN_BLOCK_ROWS", 7)
    monkeypatch.setattr(csg_module, "_MAX_KNN_WORKERS", workers)
    assert csg_module._knn_plan(len(rows), len(X))[0] == 7
    split, _ = nearest_neighbours(X, rows, 3)
    np.testing.assert_array_equal(split, whole)
    D = ((X[rows, None, :] - X[None, :, :]) ** 2).sum(-1)
    ref = np.stack([np.sqrt(d).argsort()[:4] for d in D])
    np.testing.assert_array_equal(np.sort(split[:, 1:], axis=1), np.sort(ref[:, 1:], axis=1))
    np.testing.assert_array_equal(split[:, 0], ref[:, 0])

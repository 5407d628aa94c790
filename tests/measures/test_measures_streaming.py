"""The dataset measures over streams of (x, y) batches and memory-mapped arrays."""
import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tb_nndebug as nd
from tb_nndebug.measures import array_batches, reservoir_rows, scan_dataset
from tb_nndebug.measures.csg import nearest_neighbours

DIGITS = load_digits()
X_D, Y_D = DIGITS.data.astype(np.float32), DIGITS.target


def batches(X, y, sizes):
    """(x, y) batches of uneven sizes, cycling through ``sizes``."""
    s, i = 0, 0
    while s < len(X):
        b = sizes[i % len(sizes)]
        yield X[s:s + b], y[s:s + b]
        s, i = s + b, i + 1


def same_complexity(a, b):
    assert (a.expected_bits, a.thresholds, a.max_bits, a.n_samples, a.n_classes, a.dim) == \
        (b.expected_bits, b.thresholds, b.max_bits, b.n_samples, b.n_classes, b.dim)
    assert a.expected_bits_exact == b.expected_bits_exact


# ------------------------------------------------------------------ complexity
@pytest.mark.parametrize("energy", ["sum", "l1"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64, np.uint8, np.int16])
def test_stream_complexity_equals_the_array_function(dtype, energy):
    rng = np.random.RandomState(0)
    X = (rng.randn(700, 5, 3) * 40).astype(dtype)
    y = rng.randint(0, 4, 700)
    got = nd.dataset_complexity(batches(X, y, [1, 64, 13, 200]), energy=energy)
    same_complexity(got, nd.dataset_complexity(X, y, energy=energy))


def test_stream_complexity_with_one_hot_and_string_labels():
    y1 = np.eye(10)[Y_D]
    got = nd.dataset_complexity(batches(X_D, y1, [100]))
    same_complexity(got, nd.dataset_complexity(X_D, Y_D))
    ys = np.array(["c%d" % v for v in Y_D])
    same_complexity(nd.dataset_complexity(batches(X_D, ys, [333])),
                    nd.dataset_complexity(X_D, ys))


def test_overflowing_rows_order_the_same_in_a_stream_and_an_array():
    X = np.array([[3e38, 3e38], [1, 2], [-3e38, -3e38], [5, 5], [2e38, 2e38]], np.float32)
    y = [0, 1, 0, 1, 1]
    whole = nd.dataset_complexity(X, y)
    # -6e38 (0) < 3 (1) < 10 (1) < 4e38 (1) < 6e38 (0); both big sums overflow float32,
    # so ties at +inf would put 6e38 (row 0) first and count 3
    assert whole.thresholds == 2
    same_complexity(nd.dataset_complexity(batches(X, np.array(y), [2])), whole)


def test_tf_data_dataset_and_keras_pydataset_are_streams():
    import keras
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((X_D, Y_D)).batch(128)
    same_complexity(nd.dataset_complexity(ds), nd.dataset_complexity(X_D, Y_D))

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 15

        def __getitem__(self, i):
            return X_D[i * 120:(i + 1) * 120], Y_D[i * 120:(i + 1) * 120]

    same_complexity(nd.dataset_complexity(Batches()), nd.dataset_complexity(X_D, Y_D))
    weighted = tf.data.Dataset.from_tensor_slices((X_D, Y_D, np.ones(len(Y_D)))).batch(500)
    same_complexity(nd.dataset_complexity(weighted), nd.dataset_complexity(X_D, Y_D))


def test_memory_mapped_array_is_read_in_chunks_not_copied(tmp_path):
    rng = np.random.RandomState(0)
    path = tmp_path / "x.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(40_000, 256))
    for s in range(0, 40_000, 10_000):
        X[s:s + 10_000] = rng.randn(10_000, 256)
    X.flush()
    y = rng.randint(0, 3, 40_000)
    Xm = np.load(path, mmap_mode="r")                    # 41 MB on disk
    expected = nd.dataset_complexity(np.array(Xm), y, energy="l1")
    tracemalloc.start()
    try:
        got = nd.dataset_complexity(Xm, y, energy="l1")  # np.abs(X) would copy 41 MB
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    same_complexity(got, expected)
    assert peak < Xm.nbytes / 2


def test_stream_memory_does_not_grow_with_the_rows_per_sample():
    def peak_of(n, d):
        rng = np.random.RandomState(0)

        def gen():
            for _ in range(n // 1000):
                yield rng.rand(1000, d).astype(np.float32), rng.randint(0, 5, 1000)

        tracemalloc.start()
        try:
            nd.dataset_complexity(gen())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    few, many = peak_of(10_000, 400), peak_of(40_000, 400)
    # 30,000 more rows of 1,600 bytes: what grows is their energies and labels (< 100 B each)
    assert many - few < 30_000 * 100
    assert many < 40_000 * 400 * 4 / 8


# ------------------------------------------------------------------ csg
def test_stream_samples_the_rows_reservoir_rows_names_whatever_the_batching():
    y = np.random.RandomState(1).randint(0, 5, 3000)
    X = np.arange(3000, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    expected = reservoir_rows(y, 40, random_state=7)
    assert len(expected) == 200 and (np.bincount(y[expected]) == 40).all()
    for sizes in ([1], [7, 300], [3000]):
        sc = scan_dataset(batches(X, y, sizes), samples_per_class=40, random_state=7,
                          complexity=False)
        np.testing.assert_array_equal(sc.rows, expected)
        np.testing.assert_array_equal(sc.X_sample[:, 0], expected.astype(np.float32))
        np.testing.assert_array_equal(sc.y_sample, y[expected])
    other = reservoir_rows(y, 40, random_state=8)
    assert len(np.intersect1d(other, expected)) < 100   # another seed, another sample


def test_reservoir_is_uniform_within_each_class():
    y = np.repeat([0, 1], [1000, 200])
    hits = np.zeros(1200)
    for seed in range(200):
        hits[reservoir_rows(y, 50, random_state=seed)] += 1
    # each row of class 0 is in the sample with probability 50/1000, of class 1 50/200
    assert abs(hits[:1000].mean() - 10) < 0.5 and abs(hits[1000:].mean() - 50) < 1e-9
    first, last = hits[:500].mean(), hits[500:1000].mean()
    assert abs(first - last) < 1.0     # no bias to early or late rows


@pytest.mark.parametrize("embedding", [None, "pca"])
def test_stream_csg_equals_in_memory_csg_on_the_rows_it_sampled(embedding):
    got = nd.csg(batches(X_D, Y_D, [100, 37]), samples_per_class=60, random_state=3,
                 embedding=embedding)
    rows = reservoir_rows(Y_D, 60, random_state=3)
    ref = nd.csg(X_D[rows], Y_D[rows], samples_per_class=None, random_state=3,
                 embedding=embedding)
    assert got.score == ref.score
    np.testing.assert_array_equal(got.overlap, ref.overlap)
    assert got.sample_counts == (60,) * 10 and got.n_streamed == len(Y_D)
    assert got.samples_per_class == 60 and got.embedding == ref.embedding


def test_stream_csg_from_a_memory_mapped_file_equals_the_array_sample(tmp_path):
    path = tmp_path / "digits.npy"
    np.save(path, X_D)
    Xm = np.load(path, mmap_mode="r")
    got = nd.csg(array_batches(Xm, Y_D, batch_size=256), samples_per_class=None, k=3,
                 random_state=0)
    # every row, in the order the stream's sample holds them (class by class): the digits'
    # integer pixels tie distances, and a tie goes by position, as in the reference's sort
    rows = reservoir_rows(Y_D, None, random_state=0)
    assert len(rows) == len(Y_D)
    ref = nd.csg(X_D[rows], Y_D[rows], samples_per_class=None, k=3, random_state=0)
    assert got.score == pytest.approx(ref.score, abs=1e-12)


def test_scan_gives_complexity_and_csg_sample_in_one_pass():
    passes = []

    def gen():
        passes.append(1)
        yield from batches(X_D, Y_D, [500])

    sc = scan_dataset(gen(), samples_per_class=30, random_state=0)
    assert len(passes) == 1
    same_complexity(sc.complexity, nd.dataset_complexity(X_D, Y_D))
    assert sc.n_samples == len(Y_D) and sc.dim == 64 and sc.classes == tuple(range(10))
    assert sc.class_counts == tuple(np.bincount(Y_D)) and len(sc.y_sample) == 300


def test_progress_bar_only_when_asked(capsys):
    nd.dataset_complexity(batches(X_D, Y_D, [200]))
    assert capsys.readouterr().err == ""
    nd.dataset_complexity(batches(X_D, Y_D, [200]), progress=True)
    assert "batch" in capsys.readouterr().err


# ------------------------------------------------------------------ bad input
def gen_of(*items):
    return iter(list(items))


X2, Y2 = np.zeros((4, 3)), np.array([0, 1, 0, 1])


@pytest.mark.parametrize("data, match", [
    (gen_of(X2), r"must yield \(x, y\).*batch 0 is a ndarray"),
    (gen_of((X2, Y2, Y2, Y2)), "batch 0 is a tuple of length 4"),
    (gen_of((np.zeros(3), 1)), "batch 0 has x of shape.*batch the data"),
    (gen_of((X2, Y2), (np.zeros((2, 5)), Y2[:2])), "batch 1 has 5 features.*had 3"),
    (gen_of((X2, Y2[:3])), "batch 0 has 4 samples in x but 3 labels"),
    (gen_of((X2, np.array([0, np.nan, 1, 1]))), "y of batch 0 contains NaN"),
    (gen_of((np.array([[np.inf, 0, 0]]), [1])), "contains NaN or infinite"),
    (gen_of((np.array([["a", "b"]]), [1])), "x of batch 0 must be numeric"),
    (gen_of(), "yielded no samples"),
    (42, "y is required when X is an array; omit y only when X is a stream"),
])
def test_bad_streams_name_the_argument_and_the_batch(data, match):
    with pytest.raises((TypeError, ValueError), match=match):
        nd.dataset_complexity(data)


def test_bad_stream_arguments_name_the_argument():
    with pytest.raises(TypeError, match="y is required when X is an array"):
        nd.dataset_complexity(X2)
    with pytest.raises(TypeError, match="y is required when X is an array"):
        nd.csg(X2)
    with pytest.raises(TypeError, match="y must be omitted"):
        nd.dataset_complexity(gen_of((X2, Y2)), Y2)
    with pytest.raises(ValueError, match="samples_per_class must be an int or None for a st"):
        nd.csg(batches(X_D, Y_D, [100]), samples_per_class=0.5)
    with pytest.raises(TypeError, match="embedding must be None.*precomputed array"):
        nd.csg(batches(X_D, Y_D, [100]), embedding=X_D[:, :5])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        array_batches(X_D, Y_D, batch_size=0)
    with pytest.raises(ValueError, match="X and y have different lengths"):
        array_batches(X_D, Y_D[:5])


# ------------------------------------------------------------------ the k-NN screening
@pytest.mark.parametrize("n", [997, 1003, 2048])
def test_pooled_screening_finds_the_reference_neighbours_with_ties_and_a_ragged_tail(n):
    rng = np.random.RandomState(n)
    X = rng.randint(0, 6, (n, 3)).astype(np.float64)  # many exact ties and duplicates
    X[: n // 3] = rng.randn(n // 3, 3)
    rows = np.arange(n)
    idx, _ = nearest_neighbours(X, rows, 3)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    ref = np.stack([np.sqrt(D[i]).argsort()[:4] for i in rows])
    # the neighbour sets, and the dropped point, equal the reference's full sort
    np.testing.assert_array_equal(np.sort(idx[:, 1:], axis=1), np.sort(ref[:, 1:], axis=1))
    np.testing.assert_array_equal(idx[:, 0], ref[:, 0])


def test_pca_embedding_is_fitted_like_auto_on_the_sampled_rows():
    rng = np.random.RandomState(0)
    X = rng.rand(300, 32 * 32 * 2).astype(np.float32)  # > 1,024 dims: auto embeds too
    y = np.arange(300) % 3
    X[y == 1, :100] += 0.5
    a = nd.csg(X, y, embedding="auto", samples_per_class=40, random_state=0)
    p = nd.csg(X, y, embedding="pca", samples_per_class=40, random_state=0)
    assert a.embedding == p.embedding == "pca-50" and a.score == p.score


# ------------------------------------------------------------------ the fast stable sort
@pytest.mark.parametrize("make", [
    lambda r: r.integers(-5, 5, 5000).astype(np.float32).astype(np.float64),  # many ties
    lambda r: r.integers(-5, 5, 5000),                                        # int32 keys
    lambda r: r.integers(-2**40, 2**40, 5000),                                # int64 keys
    lambda r: r.random(5000),                                                 # float64
    lambda r: r.integers(-3, 3, 5000) + 1e-9 * r.integers(0, 2, 5000),        # ties, float64
    lambda r: np.array([0.0, -0.0, 0.0, -0.0, np.inf, -np.inf, np.inf, 1.0, -1.0]),
])
def test_stable_order_equals_a_stable_argsort(make):
    from tb_nndebug.measures.complexity import stable_order

    e = make(np.random.default_rng(0))
    np.testing.assert_array_equal(stable_order(e), np.argsort(e, kind="stable"))


def test_integer_labels_fast_path_gives_the_same_classes_as_np_unique():
    from tb_nndebug.measures.streaming import encode_labels

    for y in (np.array([5, -3, 5, 7, -3], np.int8), np.array([True, False, True]),
              np.array([10**12, 3, 10**12])):
        classes, codes = encode_labels([y])
        ref_c, ref_codes = np.unique(y, return_inverse=True)
        np.testing.assert_array_equal(classes, ref_c)
        np.testing.assert_array_equal(codes, ref_codes)
        assert classes.dtype == ref_c.dtype


def test_covariance_pca_equals_scikit_learns_exact_pca():
    from sklearn.decomposition import PCA

    from tb_nndebug.measures.csg import _covariance_pca

    X = X_D.astype(np.float64)
    ref = PCA(20, svd_solver="full").fit(X)
    mean, comp, _ = _covariance_pca(X_D.copy(), 20)
    np.testing.assert_allclose(mean, ref.mean_, atol=1e-5)
    # the same subspace and the same signs (svd_flip's rule)
    np.testing.assert_allclose(comp[:10], ref.components_[:10], atol=2e-3)


def test_covariance_pca_gives_the_same_digits_on_one_core_as_on_many(monkeypatch):
    import importlib

    module = importlib.import_module("tb_nndebug.measures.csg")  # the package names csg()
    runs = []
    for cores in (1, 2, 3):
        monkeypatch.setattr(module, "cpus", lambda cores=cores: cores)
        runs.append(module._covariance_pca(X_D.copy(), 20, project=True))
    for mean, comp, Z in runs[1:]:
        np.testing.assert_array_equal(mean, runs[0][0])
        np.testing.assert_array_equal(comp, runs[0][1])
        np.testing.assert_array_equal(Z, runs[0][2])


def test_take_rows_of_a_memory_mapped_file_equals_fancy_indexing(tmp_path):
    from tb_nndebug.measures._chunks import take_rows

    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(500, 4, 3))
    X[:] = np.arange(X.size, dtype=np.float32).reshape(X.shape)
    X.flush()
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    idx = np.array([0, 1, 2, 7, 100, 101, 499])
    np.testing.assert_array_equal(take_rows(mm, idx), mm[idx])
    np.testing.assert_array_equal(take_rows(mm[10:], idx[:-1]), mm[10:][idx[:-1]])  # a view
    np.testing.assert_array_equal(take_rows(np.asarray(mm), idx), mm[idx])
    assert take_rows(mm, np.array([], dtype=int)).shape == (0, 4, 3)


def test_complexity_of_a_slice_of_a_memory_mapped_file_reads_the_slices_rows(tmp_path):
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                  shape=(3000, 5))
    X[:] = np.random.default_rng(0).random((3000, 5), dtype=np.float32)
    X.flush()
    y = (np.asarray(X)[:, 0] > 0.5).astype(int) ^ (np.arange(3000) % 3 == 0)
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    part = mm[1000:]
    assert nd.dataset_complexity(part, y[1000:]) == \
        nd.dataset_complexity(np.array(part), y[1000:])

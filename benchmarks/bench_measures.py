"""Time the measures against their baselines in one run and print the ratios.

    python benchmarks/bench_measures.py [--repeat 3] [--skip-keras]

1. dataset_complexity on 60,000 x 784 float32 vs one ``np.abs(X).sum(axis=1)``
   pass over the same array (the physical floor).            target <= 3x
2. csg vs spectral-metric 0.6.1 on the MNIST test set (10,000 x 784), raw
   pixels and PCA-50, M = 250, k = 3, the same samples (the reference is fed
   the draws ``csg(random_state=seed)`` makes), and the floor of exact
   brute-force k-NN: one float32 distance matrix (K*M x N) + one
   ``np.argpartition``.           targets: <= 2x floor, >= 3x faster (raw), >= 8x (PCA-50)
2b. csg at its floor: 5,000 MNIST test images in PCA-50, every point sampled
   (samples_per_class=None), k = 3, against spectral-metric 0.6.1 on the same
   embedding (same score)                                         target >= 8x
   and csg(X, y, embedding="pca") end to end (the embedding fitted on what csg
   samples) against csg on the precomputed PCA-50 embedding.      target <= 2x
3. model_capacity(keras.applications.ResNet50(weights=None)).   target < 1 s
4. summary.dataset_document on 1,000 images of 180x180x3 uint8 (97 MB), in a fresh
   process: time and peak memory (RSS) over the images themselves.
   target: within the documented bound (256 MB of float32 samples + 16 MB chunks
   + the 50-dimensional PCA space), i.e. < 0.5 GB over X; before issue #13 it took
   ~3.8 GB over X (1.9 -> 5.7 GB peak RSS).

Times are the best of ``--repeat`` runs (the reference: one run per seed).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def verdict(ok):
    return "ok" if ok else "MISSED"


def bench_complexity(repeat):
    import tb_nndebug as nd

    rng = np.random.default_rng(0)
    X = rng.random((60_000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60_000)
    t_floor, _ = best_of(lambda: np.abs(X).sum(axis=1), repeat)
    t_ours, c = best_of(lambda: nd.dataset_complexity(X, y), repeat)
    ratio = t_ours / t_floor
    print("1. dataset_complexity, 60,000 x 784 float32")
    print(f"   np.abs(X).sum(axis=1) floor  {t_floor * 1e3:8.1f} ms")
    print(f"   dataset_complexity          {t_ours * 1e3:8.1f} ms   ratio {ratio:.2f}x "
          f"(target <= 3x: {verdict(ratio <= 3)})   expected_bits={c.expected_bits}")
    return {"complexity_ratio": ratio}


def reference_csg(X, y, M, k, seed):
    from spectral_metric.estimator import CumulativeGradientEstimator
    from spectral_metric.lib import find_samples

    est = CumulativeGradientEstimator(M_sample=M, k_nearest=k)
    est.n_class = int(y.max()) + 1
    samples, est.class_indices = find_samples(X, y, est.n_class, M=M, seed=seed)
    t = time.perf_counter()
    est.compute(X, y, samples)
    return time.perf_counter() - t, float(np.ravel(est.csg)[0])


def floor_knn(X32, rows, k):
    sq = np.einsum("ij,ij->i", X32, X32)
    D = X32[rows] @ X32.T
    D *= -2
    D += sq[rows, None]
    D += sq[None, :]
    return np.argpartition(D, k, axis=1)[:, : k + 1]


def sklearn_knn(X, rows, k):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X).kneighbors(X[rows])


def bench_csg(repeat, seed=0, M=250, k=3):
    from sklearn.decomposition import PCA

    import tb_nndebug as nd
    from tb_nndebug.datasets import load_mnist_test

    X, y = load_mnist_test()
    X = X.reshape(len(X), -1).astype(np.float64)  # raw pixels, 0..255
    y = y.astype(np.int64)
    t = time.perf_counter()
    Z = PCA(n_components=50, random_state=0).fit_transform(X)
    t_pca = time.perf_counter() - t
    # the rows csg samples with this seed (and find_samples(seed=seed) too)
    rng = np.random.RandomState(seed)
    rows = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:M] for c in range(10)])
    out = {}
    print(f"2. csg vs spectral-metric 0.6.1, MNIST test 10,000, M={M}, k={k}, seed={seed}")
    for label, data in (("raw", X), ("pca50", Z)):
        X32 = data.astype(np.float32)
        t_floor, _ = best_of(lambda X32=X32: floor_knn(X32, rows, k), repeat)
        t_ours, res = best_of(
            lambda data=data: nd.csg(data, y, samples_per_class=M, k=k, random_state=seed),
            repeat)
        t_ref, ref_score = reference_csg(data, y, M, k, seed)
        t_sk, _ = best_of(lambda data=data: sklearn_knn(data, rows, k), repeat)
        speedup, vs_floor = t_ref / t_ours, t_ours / t_floor
        target = 3 if label == "raw" else 8
        same = abs(res.score - ref_score) < 1e-9
        print(f"   [{label}] floor (f32 distances + argpartition) {t_floor:7.3f} s")
        print(f"   [{label}] csg                                  {t_ours:7.3f} s   "
              f"{vs_floor:.2f}x floor (target <= 2x: {verdict(vs_floor <= 2)})")
        print(f"   [{label}] spectral-metric                      {t_ref:7.3f} s   "
              f"csg is {speedup:.1f}x faster (target >= {target}x: {verdict(speedup >= target)})")
        print(f"   [{label}] (k-NN alone with sklearn NearestNeighbors(brute), "
              f"the alternative to csg's own search: {t_sk:.3f} s)")
        print(f"   [{label}] score: csg {res.score:.9f}  reference {ref_score:.9f}  "
              f"same: {same}")
        out[label] = {"floor": t_floor, "ours": t_ours, "ref": t_ref, "same": same}
    t_end, res = best_of(lambda: nd.csg(X, y, embedding="pca", random_state=seed), 1)
    print(f"   (PCA-50 fit alone {t_pca:.2f} s; csg(X, y, embedding='pca') end to end "
          f"{t_end:.2f} s, score {res.score:.4f})")
    return out


def bench_csg_floor(repeat, n=5000, seed=0, k=3):
    from sklearn.decomposition import PCA

    import tb_nndebug as nd
    from tb_nndebug.datasets import load_mnist_test

    X, y = load_mnist_test()
    X = X[:n].reshape(n, -1).astype(np.float64)
    y = y[:n].astype(np.int64)
    Z = PCA(n_components=50, random_state=0).fit_transform(X)
    nd.csg(Z[:200], y[:200], k=k, random_state=seed)  # first-call costs
    t_ours, res = best_of(
        lambda: nd.csg(Z, y, samples_per_class=None, k=k, random_state=seed), repeat)
    refs = [reference_csg(Z, y, 10**9, k, seed) for _ in range(repeat)]
    t_ref, ref_score = min(refs)
    speedup = t_ref / t_ours
    same = abs(res.score - ref_score) < 1e-9
    t_end, end = best_of(
        lambda: nd.csg(X, y, samples_per_class=None, k=k, embedding="pca", random_state=seed),
        repeat)
    vs_pre = t_end / t_ours
    print(f"2b. csg at its floor: {n:,} MNIST test images, PCA-50, every point sampled, k={k}")
    print(f"   csg(Z)                     {t_ours:7.3f} s")
    print(f"   spectral-metric            {t_ref:7.3f} s   csg is {speedup:.1f}x faster "
          f"(target >= 8x: {verdict(speedup >= 8)})")
    print(f"   score: csg {res.score:.12f}  reference {ref_score:.12f}  same: {same}")
    print(f"   csg(X, embedding='pca')    {t_end:7.3f} s   {vs_pre:.2f}x csg on the precomputed "
          f"embedding (target <= 2x: {verdict(vs_pre <= 2)}); score {end.score:.4f} in "
          f"{end.embedding}")
    return {"floor_speedup": speedup, "floor_same": same, "pca_vs_pre": vs_pre}


def bench_capacity(repeat):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import tb_nndebug as nd

    t = time.perf_counter()
    model = keras.applications.ResNet50(weights=None)
    t_build = time.perf_counter() - t
    t_cap, cap = best_of(lambda: nd.model_capacity(model), repeat)
    print("3. model_capacity(keras.applications.ResNet50(weights=None))")
    print(f"   build {t_build:.2f} s (not timed); model_capacity {t_cap * 1e3:.1f} ms "
          f"(target < 1 s: {verdict(t_cap < 1)});  {cap.bits:,} bits, "
          f"{cap.trainable_params:,} trainable params, {len(cap.layers)} layers")
    return {"capacity_s": t_cap}


def _images(n=1000, side=180, seed=0):
    """Smooth synthetic uint8 images of two classes (a coarse random pattern, upsampled,
    plus noise), so that neighbours are not pure noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    coarse = rng.random((n, 12, 12, 3)).astype(np.float32)
    coarse[:, :6] += 0.5 * y[:, None, None, None]
    up = side // 12
    X = np.empty((n, side, side, 3), dtype=np.uint8)
    for i in range(0, n, 100):  # upsample in blocks: the generator's own memory stays small
        block = np.repeat(np.repeat(coarse[i:i + 100], up, axis=1), up, axis=2)
        block = block / 1.5 * 230 + rng.integers(0, 25, block.shape)
        X[i:i + 100] = np.clip(block, 0, 255).astype(np.uint8)
    return X, y


def _memory_child(n, side):
    """Run in a fresh process: print baseline and peak RSS (MB) around dataset_document."""
    import resource
    import tracemalloc

    from tb_nndebug import summary

    X, y = _images(n, side)
    summary.dataset_document("warm", X[:40], y[:40])  # imports and first-call allocations
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # numpy reports its buffers to tracemalloc: the measures' own peak
    t = time.perf_counter()
    doc = summary.dataset_document("train", X, y, random_state=0)
    elapsed = time.perf_counter() - t
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    csg = doc["csg"] or {}
    print(f"{base:.0f} {peak:.0f} {elapsed:.2f} {X.nbytes / 2**20:.0f} {traced:.0f} "
          f"{csg.get('score')} {csg.get('embedding')} {csg.get('dropped_points')}")


def bench_dataset_memory(n=1000, side=180, budget_mb=512):
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, %r); import bench_measures as b; "
            "b._memory_child(%d, %d)" % (os.path.dirname(os.path.abspath(__file__)), n, side))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    base, peak, elapsed, x_mb, traced = (float(v) for v in out[:5])
    score, emb, dropped = out[5:8]
    print(f"4. summary.dataset_document, {n:,} images {side}x{side}x3 uint8 ({x_mb:.0f} MB)")
    print(f"   time {elapsed:.2f} s;  peak of the measures' own allocations (tracemalloc) "
          f"{traced:.0f} MB (target < {budget_mb} MB: {verdict(traced < budget_mb)})")
    print(f"   peak RSS of the process {base:.0f} MB -> {peak:.0f} MB (before issue #13: "
          "4,450 MB traced, +4.2 GB RSS, 66 s on this machine)")
    print(f"   csg {score} in {emb} (dropped points: {dropped})")
    return {"dataset_s": elapsed, "dataset_peak_mb": traced}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-keras", action="store_true")
    p.add_argument("--only-memory", action="store_true",
                   help="run only section 4 (dataset_document's memory on 180x180x3 images)")
    p.add_argument("--only-csg-floor", action="store_true",
                   help="run only section 2b (csg with every point sampled, 5,000 x PCA-50)")
    a = p.parse_args(argv)
    if a.only_memory:
        bench_dataset_memory()
        return
    if a.only_csg_floor:
        bench_csg_floor(a.repeat)
        return
    bench_complexity(a.repeat)
    bench_csg(a.repeat)
    bench_csg_floor(a.repeat)
    if not a.skip_keras:
        bench_capacity(a.repeat)
    bench_dataset_memory()


if __name__ == "__main__":
    main()

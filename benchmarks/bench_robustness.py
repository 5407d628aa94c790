"""Benchmark: batched ε bisection vs the same bisection one sample at a time.

N = 100 MNIST test samples, attacked on a small CNN trained here for two
epochs on 8,000 other MNIST test images. Prints:

* the batched bisection (all samples at once: 1 + 10 PGD calls of 20 steps);
* the same bisection run per sample, timed on a subset and extrapolated to N
  (said so in the output);
* their ratio (target >= 10x), and the whole measure ``tb_nndebug.robustness``
  with the pixel count (target <= 30 s).

Run: ``.venv/bin/python benchmarks/bench_robustness.py [--subset 10]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="samples attacked (default 100)")
    ap.add_argument("--subset", type=int, default=10,
                    help="samples timed one at a time, extrapolated to --n (default 10)")
    args = ap.parse_args(argv)

    import importlib

    import keras
    import tensorflow as tf

    rb = importlib.import_module("tb_nndebug.adversarial")  # the module, not nd.robustness
    from tb_nndebug.datasets import load_mnist_test

    X, y = load_mnist_test()
    X = (X[..., None] / 255.0).astype(np.float32)
    Xa, ya = X[: args.n], y[: args.n].astype(np.int64)
    Xt, yt = X[2000:10000], y[2000:10000]

    init = lambda s: keras.initializers.HeNormal(seed=s)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", kernel_initializer=init(1)),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu", kernel_initializer=init(2)),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu", kernel_initializer=init(3)),
        keras.layers.Dense(10, kernel_initializer=init(4)),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(Xt, yt, epochs=2, batch_size=64, verbose=0, shuffle=False)
    print(f"trained small CNN ({model.count_params():,} params) 2 epochs on 8,000 MNIST "
          f"images in {time.perf_counter() - t0:.1f} s")

    opts = dict(norm=np.inf, eps_max=0.5, bisection_steps=10, attack_steps=20, clip=(0.0, 1.0))
    clf = rb._Classifier(model, "logits", 10)
    correct = clf.predict(tf.constant(Xa)) == ya
    print(f"clean accuracy on the {args.n} attacked samples: {correct.mean():.2f}")

    # warm up both shapes (tf.function traces), outside the timings
    rb._bisect_min_eps(clf, Xa, ya, correct, **dict(opts, bisection_steps=0, attack_steps=1))
    rb._bisect_min_eps(clf, Xa[:1], ya[:1], correct[:1],
                       **dict(opts, bisection_steps=0, attack_steps=1))

    t0 = time.perf_counter()
    eps_b, _, _ = rb._bisect_min_eps(clf, Xa, ya, correct, **opts)
    t_batched = time.perf_counter() - t0

    k = min(args.subset, args.n)
    t0 = time.perf_counter()
    eps_s = np.array([rb._bisect_min_eps(clf, Xa[i:i + 1], ya[i:i + 1], correct[i:i + 1],
                                         **opts)[0][0] for i in range(k)])
    t_subset = time.perf_counter() - t0
    t_per_sample = t_subset / k * args.n

    same = np.isclose(np.nan_to_num(eps_b[:k], posinf=9), np.nan_to_num(eps_s, posinf=9),
                      atol=opts["eps_max"] / 2 ** opts["bisection_steps"])
    t0 = time.perf_counter()
    res = rb.robustness(model, Xa, ya, **{k_: v for k_, v in opts.items()}, pixels=True,
                        max_pixels=150)
    t_total = time.perf_counter() - t0

    print(f"batched bisection, {args.n} samples:            {t_batched:8.2f} s")
    print(f"per-sample bisection, {k} samples timed:        {t_subset:8.2f} s "
          f"-> extrapolated to {args.n}: {t_per_sample:8.2f} s")
    print(f"speed-up batched vs per-sample:                {t_per_sample / t_batched:8.1f}x "
          f"(target >= 10x)")
    print(f"same min_eps batched vs per-sample (within the bisection resolution): "
          f"{same.sum()}/{k}")
    print(f"whole measure tb_nndebug.robustness (eps + pixels, N={args.n}): {t_total:8.2f} s "
          f"(target <= 30 s)")
    print(f"  median eps {res.median_eps:.4f}, censored {res.censored_fraction:.2f}, "
          f"median pixels {res.median_pixels:g} ({res.pixel_fraction:.3%} of 784), "
          f"clean accuracy {res.clean_accuracy:.2f}")
    print("  RA at eps 0.05/0.1/0.2/0.3: "
          + " / ".join(f"{res.robust_accuracy(e):.2f}" for e in (0.05, 0.1, 0.2, 0.3)))


if __name__ == "__main__":
    main()

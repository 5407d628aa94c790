"""Capacity-guided resampling (10 trials) vs. one plain SMOTE call, credit-card sample.

The paper's method (3.3.3) repeats shuffle → SMOTE → measure; it should cost
about ``n_trials`` SMOTE calls, not more. Prints both times, their ratio,
the ratio per trial, and where the time goes (shuffling, SMOTE, measuring
the capacity requirement, the rest: seeds, cloning, validation, the
synthetic-sample mask).

Run: ``.venv/bin/python benchmarks/bench_resampling.py [--repeats 5] [--trials 10]``.
"""
from __future__ import annotations

import argparse
import statistics
import time

from imblearn.over_sampling import SMOTE

from tb_nndebug.datasets import load_creditcard
from tb_nndebug.resampling import CapacityGuidedResampler


def _best_of(fn, repeats):
    """(best time, median time, fn's result of the best run); one warm-up call first."""
    fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        runs.append((time.perf_counter() - t0, out))
    best = min(runs, key=lambda r: r[0])
    return best[0], statistics.median(r[0] for r in runs), best[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args(argv)

    X, y, _ = load_creditcard()
    print(f"credit-card sample: {X.shape[0]} samples x {X.shape[1]} features, "
          f"{int(y.sum())} fraud; best of {args.repeats} runs")

    smote_best, smote_med, _ = _best_of(
        lambda: SMOTE(random_state=0).fit_resample(X, y), args.repeats)
    def capacity_guided():
        r = CapacityGuidedResampler(n_trials=args.trials, random_state=0)
        r.fit_resample(X, y)
        return r.timings_

    cg_best, cg_med, t = _best_of(capacity_guided, args.repeats)
    last_total = sum(t.values())

    ratio = cg_best / smote_best
    print(f"plain SMOTE (imblearn, one call):          {smote_best * 1e3:8.1f} ms "
          f"(median {smote_med * 1e3:.1f})")
    print(f"CapacityGuidedResampler({args.trials} trials):       {cg_best * 1e3:8.1f} ms "
          f"(median {cg_med * 1e3:.1f})")
    print(f"ratio: {ratio:.2f}x  =  {ratio / args.trials:.2f}x per trial "
          f"(1.0 would be exactly n_trials x SMOTE)")
    print("where the time goes (best run, summed over trials):")
    for key in ("shuffle", "resample", "measure"):
        print(f"  {key:9s} {t[key] * 1e3:8.1f} ms  ({t[key] / last_total * 100:5.1f} % of trials)")
    print(f"  per-trial SMOTE inside the search: {t['resample'] / args.trials * 1e3:.1f} ms "
          f"vs plain {smote_best * 1e3:.1f} ms")
    print(f"  outside the trials (validation, seeds, input measure, mask): "
          f"{max(cg_best - last_total, 0.0) * 1e3:.1f} ms (best run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the Debugger plugin's routes inside a real TensorBoard.

Writes a logdir of ``--runs`` groups (200 by default), each with a debugger
run of ``--epochs`` (50) epochs of records (dataset with a 1,000-point
projection and a 10x10 CSG matrix, model, checks, one training record per
epoch with its history and scalar mirrors, robustness, run_info) and Keras's
``train``/``validation`` ``epoch_*`` scalar runs beside it; starts
``tensorboard`` with its default (Rust) data server; waits until everything
is loaded; then times, over repeated requests:

- the baseline: TensorBoard's own ``/data/plugin/scalars/tags`` on the same
  logdir (what the Scalars tab asks first);
- ``/runs``, ``/compare`` and ``/report`` (one run repeated, and rotating
  over all runs, which misses the small report cache);

and prints p50/p95 and each route's p50 ratio to the baseline (target:
``/compare`` p50 <= 3x). The first ``/runs`` after load (cold: reads and
diagnoses every run) is timed once. Then a short load test: 8 concurrent
clients on 127.0.0.1 sending a mix of the routes; it reports errors
(must be 0) and latency p50/p95/p99.

Run: ``.venv/bin/python benchmarks/bench_plugin.py`` (``--quick`` for a
small logdir; ``--logdir DIR`` keeps and reuses the generated logdir).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tb_process and the logdir writers live there
sys.path.insert(0, str(ROOT))

import nndebug_logdirs  # noqa: E402 - from tests/, put on sys.path above
from tb_process import TensorBoardProcess  # noqa: E402 - from tests/, put on sys.path above

ROUTE = "/data/plugin/nndebug"
BASELINE = "/data/plugin/scalars/tags"


def percentile(xs, q):
    """The q-quantile (0..1) of ``xs``, linearly interpolated; NaN when empty."""
    return float(np.quantile(xs, q)) if len(xs) else float("nan")


def time_route(tb: TensorBoardProcess, paths, repeats: int):
    """Seconds per request over ``repeats`` requests cycling through ``paths``."""
    times = []
    for i in range(repeats):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        status, _, body = tb.get(path, timeout=120)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"GET {path} -> {status}: {body[:300]!r}")
    return times


def wait_for_load(tb: TensorBoardProcess, runs: int, epochs: int, timeout: float) -> float:
    """Wait until every run's scalars are listed, then until a ``/runs`` answer
    shows every debugger run at its last epoch. Returns ``(seconds, complete)``
    of the first (cold) ``/runs``, which reads and diagnoses every run."""
    t0 = time.monotonic()
    want = 3 * runs
    while True:
        tags = json.loads(tb.get(BASELINE, timeout=120)[2])
        done = sum(1 for run, t in tags.items()
                   if "epoch_loss" in t or any(k.startswith("nndebug/") for k in t))
        if done >= want:
            break
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"only {done}/{want} runs loaded after {timeout}s")
        time.sleep(1)
    cold = None
    while True:
        start = time.perf_counter()
        status, _, body = tb.get(ROUTE + "/runs", timeout=300)
        took = time.perf_counter() - start
        listed = json.loads(body)["runs"] if status == 200 else []
        complete = len(listed) == runs and all(r["last_step"] == epochs - 1 for r in listed)
        if cold is None:  # the first answer is the cold one; say if it came mid-load
            cold = (took, complete)
        if complete:
            return cold
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"/runs incomplete after {timeout}s")
        time.sleep(1)


def load_test(tb: TensorBoardProcess, paths, clients: int, per_client: int):
    def client(seed: int):
        lat, errors = [], []
        for i in range(per_client):
            path = paths[(seed * 7919 + i) % len(paths)]
            t0 = time.perf_counter()
            try:
                status, _, _ = tb.get(path, timeout=60)
                if status != 200:
                    errors.append(f"{path} -> {status}")
            except OSError as exc:
                errors.append(f"{path} -> {exc}")
            lat.append(time.perf_counter() - t0)
        return lat, errors

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    wall = time.perf_counter() - t0
    lat = [x for r in results for x in r[0]]
    errors = [e for r in results for e in r[1]]
    return lat, errors, wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=40, help="requests per timed route")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=200)
    ap.add_argument("--logdir", type=Path, default=None, help="keep/reuse this logdir")
    ap.add_argument("--quick", action="store_true", help="20 runs x 10 epochs, fewer requests")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.epochs, args.repeats, args.per_client = 20, 10, 15, 30

    tmp = None
    if args.logdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_plugin_")
        logdir = Path(tmp.name)
    else:
        logdir = args.logdir
    try:
        t0 = time.perf_counter()
        nndebug_logdirs.many_runs_logdir(logdir, args.runs, args.epochs)
        print(f"logdir: {args.runs} runs x {args.epochs} epochs in {logdir} "
              f"({time.perf_counter() - t0:.1f}s to write)")
        with TensorBoardProcess(logdir, reload_interval=5) as tb:
            t0 = time.perf_counter()
            cold, complete = wait_for_load(tb, args.runs, args.epochs, timeout=900)
            print(f"loaded in {time.perf_counter() - t0:.1f}s; cold /runs "
                  f"(reads + diagnoses {args.runs} runs): {cold * 1000:.0f} ms"
                  + ("" if complete else " (answered while TensorBoard was still loading)"))
            runs = [r["run"] for r in tb.get_json(ROUTE + "/runs")["runs"]]
            one = ROUTE + "/report?run=" + urllib.parse.quote(runs[0])
            rotating = [ROUTE + "/report?run=" + urllib.parse.quote(r) for r in runs]
            subset = ROUTE + "/compare?runs=" + urllib.parse.quote(",".join(runs[:10]))
            cases = [
                ("baseline scalars/tags", [BASELINE]),
                ("/runs", [ROUTE + "/runs"]),
                ("/compare (all runs)", [ROUTE + "/compare"]),
                ("/compare (10 runs)", [subset]),
                ("/report (same run)", [one]),
                ("/report (rotating)", rotating),
            ]
            for _, paths in cases:  # warm-up: one pass each
                time_route(tb, paths, 2)
            results = {name: time_route(tb, paths, args.repeats) for name, paths in cases}
            base = statistics.median(results["baseline scalars/tags"])
            print(f"\n{'route':28s} {'p50 ms':>9s} {'p95 ms':>9s} {'p50 / baseline':>15s}")
            for name, times in results.items():
                p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
                print(f"{name:28s} {p50 * 1000:9.1f} {p95 * 1000:9.1f} {p50 / base:15.2f}")
            ratio = percentile(results["/compare (all runs)"], 0.5) / base
            verdict = "OK" if ratio <= 3 else "ABOVE TARGET"
            print(f"\n/compare p50 / scalars/tags p50 = {ratio:.2f} (target <= 3): {verdict}")

            mix = [ROUTE + "/runs", ROUTE + "/compare", subset] + rotating[:20]
            lat, errors, wall = load_test(tb, mix, args.clients, args.per_client)
            n = len(lat)
            print(f"\nload test: {args.clients} clients x {args.per_client} requests "
                  f"({n} total) in {wall:.1f}s = {n / wall:.0f} req/s; errors: {len(errors)}; "
                  f"latency p50 {percentile(lat, .5) * 1000:.1f} ms, "
                  f"p95 {percentile(lat, .95) * 1000:.1f} ms, "
                  f"p99 {percentile(lat, .99) * 1000:.1f} ms")
            if errors:
                print("first errors:", errors[:5])
                return 1
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())

"""Event-file and ``/report`` size of a long run, against Keras's own TensorBoard scalars.

    python benchmarks/bench_history.py [--epochs 10000]

``keras.callbacks.TensorBoard`` and ``DebuggerCallback`` on the same log_dir,
driven through Keras's ``CallbackList`` by a small compiled MLP and a
seeded loss/accuracy curve for each epoch (the callbacks do all their work —
the debugger's probe, records and console diagnosis every epoch; only
Keras's own training steps are skipped, which would make 10,000 epochs take
half an hour here and change no byte the callbacks write).
Printed: the debugger's event bytes per epoch and in all, against Keras's
scalar event files (the baseline), the ratio, the largest training record,
and the size and time of the tab's ``/report`` for the run (served by the
real plugin over TensorBoard's Python data provider, every stored step read).
Before issue #15 every record repeated the whole history: 1,361 epochs gave
61.7 MB of debugger events (0.74 MB of Keras scalars) and a 4.8 MB /report.
Targets: events grow linearly (bytes/epoch flat between the half and the end),
/report < 1 MB at 10,000 epochs.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def event_bytes(d: Path) -> int:
    return sum(f.stat().st_size for f in d.rglob("*tfevents*"))


class Sizes:
    """Debugger event bytes after half the epochs and at the end (linear growth check)."""

    def __init__(self, run_dir: Path, half: int):
        import keras

        class _Probe(keras.callbacks.Callback):
            def on_epoch_end(inner, epoch, logs=None):
                if epoch + 1 == half:
                    self.at_half = event_bytes(run_dir)

        self.at_half = None
        self.callback = _Probe()


def report(logdir: Path, run: str):
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as wtest
    from werkzeug import wrappers

    from tb_nndebug.plugin import DebuggerPlugin

    mux = plugin_event_multiplexer.EventMultiplexer(
        tensor_size_guidance={"nndebug": 0})  # keep every step: the worst case for /report
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(logdir))
    ctx = base_plugin.TBContext(logdir=str(logdir), data_provider=provider, sampling_hints={})
    app = application.TensorBoardWSGI([DebuggerPlugin(ctx)], data_provider=provider)
    client = wtest.Client(app, wrappers.Response)
    t = time.perf_counter()
    resp = client.get(f"/data/plugin/nndebug/report?run={run}")
    elapsed = time.perf_counter() - t
    body = resp.get_data()
    return resp.status_code, len(body), elapsed, json.loads(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10_000)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from tb_nndebug.callback import DebuggerCallback
    from tb_nndebug.records.reading import read_records

    rng = np.random.default_rng(0)
    X = rng.random((64, 8), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        run_dir = logdir / "debugger"
        sizes = Sizes(run_dir, args.epochs // 2)
        cb = DebuggerCallback(logdir, train_data=(X, y), verbose=0, csg=False,
                              projection=False)
        callbacks = keras.callbacks.CallbackList(
            [keras.callbacks.TensorBoard(str(logdir)), cb, sizes.callback], model=model,
            epochs=args.epochs, steps=1, verbose=0)
        t = time.perf_counter()
        callbacks.on_train_begin()
        for epoch in range(args.epochs):
            loss = 0.7 * np.exp(-epoch / 2000) + 0.02 * rng.random()
            callbacks.on_epoch_end(epoch, {
                "loss": loss, "accuracy": 1 - loss / 1.4, "val_loss": loss + 0.05,
                "val_accuracy": 1 - (loss + 0.05) / 1.4})
        callbacks.on_train_end()
        fit_s = time.perf_counter() - t
        ours = event_bytes(run_dir)
        keras_scalars = event_bytes(logdir / "train") + event_bytes(logdir / "validation")
        last = read_records(run_dir)["training"][0]["value"]
        code, size, elapsed, body = report(logdir, "debugger")
        n = args.epochs
        half = n // 2
        per_end = (ours - sizes.at_half) / (n - half)
        per_half = sizes.at_half / half
        print(f"{n:,} epochs, callbacks {fit_s:.0f} s")
        print(f"  debugger events   {ours / 1e6:8.2f} MB  ({ours / n:,.0f} B/epoch; first half "
              f"{per_half:,.0f} B/epoch, second half {per_end:,.0f} B/epoch: "
              f"{'linear' if per_end < 1.5 * per_half else 'GROWING'})")
        print(f"  Keras scalars     {keras_scalars / 1e6:8.2f} MB  (baseline)   ratio "
              f"{ours / keras_scalars:.1f}x")
        print(f"  latest training record {len(json.dumps(last)):,} B, history "
              f"{len(last['history_epochs'])} of {last['history_length']:,} epochs")
        print(f"  /report           {code}  {size / 1e6:8.3f} MB in {elapsed * 1e3:.0f} ms "
              f"(target < 1 MB: {'ok' if size < 1e6 else 'MISSED'}); "
              f"{len(body['findings'])} findings")


if __name__ == "__main__":
    main()

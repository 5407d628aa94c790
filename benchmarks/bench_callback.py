"""The DebuggerCallback's share of fit time, and the memory its measures take.

    python benchmarks/bench_callback.py [--cases cifar_residual_tfdata,text_strings,text_lstm]
                                        [--epochs 10] [--repeat 2]

For each precision-corpus model (``tb_nndebug.demo.precision``; by default the
image pipeline — tf.data, augmentation, Rescaling, residual projection —, the
text model on strings and the LSTM on token ids) the same seeded program is
fitted for ``--epochs`` epochs without and with the callback. Printed:

- ``fit``: wall time of the fit without the callback (best of ``--repeat``);
- ``with``: wall time of the fit with it (best of ``--repeat``);
- ``callback``: the callback's own time, train begin (dataset measures, model
  capacity, static checks) and every epoch end (probe pass, record, reading
  the run back, diagnosis) together, timed around its hooks (best of
  ``--repeat``);
- ``share`` = callback / fit — the goal is <= 5 %;
- ``begin s`` and ``epoch %``: the callback's train begin (a fixed cost: the
  dataset measures and the probe's one trace), and its epoch ends against the
  fit's time per epoch — what it adds to each epoch of a longer fit;
- ``peak MB``: the largest memory the callback's train begin allocated (numpy
  and Python, by ``tracemalloc``), against the sample budget of
  ``tb_nndebug.callback.samples.SAMPLE_BUDGET_BYTES`` (256 MB) plus the
  measures' working memory. Measured in one more fit of its own: tracing every
  allocation made the train begin 1.4-3x slower (the probe's trace is Python
  code), so the timed fits run without it.

Run it on a quiet machine: shares are meaningless while other jobs share the cores.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_CASES = ("cifar_residual_tfdata", "text_strings", "text_lstm")


def timed_callback(cb_class, *, trace_memory=False):
    """A DebuggerCallback subclass that times its own hooks, or (``trace_memory``) takes
    its train-begin peak."""

    class Timed(cb_class):
        def on_train_begin(self, logs=None):
            self.begin_seconds, self.epoch_seconds, self.peak_bytes = 0.0, 0.0, None
            if trace_memory:
                tracemalloc.start()
            t = time.perf_counter()
            super().on_train_begin(logs)
            self.begin_seconds = time.perf_counter() - t
            if trace_memory:
                self.peak_bytes = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            super().on_epoch_end(epoch, logs)
            self.epoch_seconds += time.perf_counter() - t

        @property
        def seconds(self):
            return self.begin_seconds + self.epoch_seconds

    return Timed


def run(case, *, epochs, with_callback, logdir, trace_memory=False):
    """``(fit seconds, callback or None)`` for one fit of ``case``."""
    import keras

    from tb_nndebug.callback import DebuggerCallback

    keras.mixed_precision.set_global_policy(case.policy)
    try:
        keras.utils.set_random_seed(0)
        setup = case.build(0, bugged=False, quick=False)
        cb = None
        callbacks = []
        if with_callback:
            train = setup.train_data if setup.train_data is not None else (
                setup.x if setup.y is None else (setup.x, setup.y))
            val = setup.validation_data if setup.validation_data is not None \
                else setup.validation
            cb = timed_callback(DebuggerCallback, trace_memory=trace_memory)(
                logdir, train_data=train, validation_data=val, verbose=0)
            callbacks.append(cb)
        kwargs = dict(setup.fit_kwargs, epochs=epochs)
        if setup.validation is not None:
            kwargs["validation_data"] = setup.validation
        t = time.perf_counter()
        setup.model.fit(setup.x, setup.y, verbose=0, callbacks=callbacks, **kwargs)
        return time.perf_counter() - t, cb
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None) -> int:
    from tb_nndebug.demo import precision

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES),
                        help=f"corpus cases (default: {','.join(DEFAULT_CASES)})")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    names = [n for n in args.cases.split(",") if n]
    unknown = [n for n in names if n not in precision.CASE_BY_NAME]
    if unknown:
        parser.error(f"--cases: unknown {unknown}; known: {sorted(precision.CASE_BY_NAME)}")
    print(f"{'case':<26} {'fit s':>7} {'with s':>7} {'callback s':>10} {'share':>7} "
          f"{'begin s':>8} {'epoch %':>8} {'peak MB':>8}")
    worst = 0.0
    for name in names:
        case = precision.CASE_BY_NAME[name]
        with tempfile.TemporaryDirectory() as tmp:
            plain = min(run(case, epochs=args.epochs, with_callback=False, logdir=tmp)[0]
                        for _ in range(args.repeat))
            timed = [run(case, epochs=args.epochs, with_callback=True,
                         logdir=os.path.join(tmp, f"r{i}")) for i in range(args.repeat)]
            _, mem = run(case, epochs=args.epochs, with_callback=True,
                         logdir=os.path.join(tmp, "memory"), trace_memory=True)
        best = min((cb for _, cb in timed), key=lambda cb: cb.seconds)
        own = best.seconds
        per_epoch = best.epoch_seconds / plain  # = per epoch, against the fit per epoch
        wall = min(t for t, _ in timed)
        peak = mem.peak_bytes / 2**20
        share = own / plain
        worst = max(worst, share)
        print(f"{name:<26} {plain:>7.2f} {wall:>7.2f} {own:>10.2f} {share:>6.1%} "
              f"{best.begin_seconds:>8.2f} {per_epoch:>7.1%} {peak:>8.1f}", flush=True)
    print(f"largest share: {worst:.1%} (goal <= 5 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

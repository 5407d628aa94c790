"""Robustness vs. capacity (paper 3.4): an AlexNet-like and a ResNet-like CNN
built at shrinking capacity, trained, and attacked.

The reference capacity (level 1.0) is the training set's capacity
requirement (``dataset_complexity(...).expected_bits``: the paper builds its
networks "about the same complexity as the dataset"); each level is built by
the model warehouse at ``level × reference`` bits and the levels follow the
sweep's binary search (1.0, 0.5, then 0.25 or 0.75, …; see
:mod:`tb_nndebug.sweep`). Every level is one run under
``<logdir>/sweep/<arch>_<level>`` with Keras's TensorBoard curves, the
DebuggerCallback's records and the sweep's ``run_info`` + ``robustness``
records. The table gives, per architecture and level: capacity, test
accuracy, median minimal L∞ ε and median pixels needed to flip the
prediction.

Data: the quick mode uses the bundled MNIST test set (6,000 images to train,
2,000 held out) so it runs in a few minutes on two CPU cores; the full mode
uses the bundled 5,000-image CIFAR-10 subset (the paper's dataset: 4,000 to
train, 1,000 to test) with more levels and epochs. ``--dataset`` overrides.

Run: ``python -m tb_nndebug.demo.robustness_sweep --logdir runs [--full] [--seed 0]``.
"""
from __future__ import annotations

import time

import numpy as np

from .._validation import check_option
from . import demo_parser, join

GROUP = "sweep"
ARCHITECTURES = ("alexnet_like", "resnet_like")

#: Per mode: dataset, training samples, epochs, levels run, samples attacked,
#: robustness options.
SETTINGS = {
    "smoke": dict(dataset="mnist", n_train=500, epochs=1, n_levels=2, attacked=10,
                  robustness=dict(eps_max=0.5, bisection_steps=4, attack_steps=10,
                                  max_pixels=10)),
    "quick": dict(dataset="mnist", n_train=6000, epochs=2, n_levels=3, attacked=50,
                  robustness=dict(eps_max=0.5, bisection_steps=8, max_pixels=80)),
    "full": dict(dataset="cifar10", n_train=None, epochs=6, n_levels=4, attacked=100,
                 robustness=dict(eps_max=0.25, bisection_steps=10, max_pixels=150)),
}


def _data(name, n_train, random_state):
    """``(X_train, y_train), (X_test, y_test)`` scaled to [0, 1], images NHWC."""
    from ..datasets import load_cifar10_5k, load_mnist_test

    if name == "cifar10":
        (Xtr, ytr), (Xte, yte) = load_cifar10_5k()
    else:
        X, y = load_mnist_test()
        X = X[..., None]
        perm = np.random.RandomState(random_state).permutation(len(X))
        tr, te = perm[:8000], perm[8000:]
        (Xtr, ytr), (Xte, yte) = (X[tr], y[tr]), (X[te], y[te])
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    scale = lambda a: (a / 255.0).astype(np.float32)
    return (scale(Xtr), ytr.astype(np.int64)), (scale(Xte), yte.astype(np.int64))


def run(logdir, *, quick=True, random_state=0, progress=True, smoke=False,
        dataset=None, architectures=ARCHITECTURES) -> list[dict]:
    """Sweep both architectures and return one row per (architecture, level).

    Parameters
    ----------
    logdir : str or Path
        Runs are written under ``<logdir>/sweep/<arch>_<level>``.
    quick : bool, default=True
        MNIST, 3 levels, 2 epochs, 50 attacked samples (a few minutes on
        2 cores); False: CIFAR-10 5k, 4 levels, 6 epochs, 100 samples.
    random_state : int, default=0
        Seeds the split, the weights, the training order and the attacked samples.
    progress : bool, default=True
        A line per level and tqdm bars.
    smoke : bool, default=False
        The smallest version (for tests).
    dataset : {"mnist", "cifar10"}, optional
        Override the mode's dataset.
    architectures : sequence of str
        Which of :data:`ARCHITECTURES` to sweep.

    Returns
    -------
    list of dict
        Keys: ``architecture``, ``level``, ``target_bits``, ``bits``,
        ``n_params``, ``accuracy``, ``keeps_accuracy``, ``median_eps``,
        ``median_pixels``, ``pixel_fraction``, ``censored_fraction``,
        ``best``, ``dataset``, ``seconds`` (plus ``run_dir``).
    """
    import keras

    from .. import models
    from ..callback import DebuggerCallback
    from ..measures.complexity import dataset_complexity
    from ..sweep import capacity_sweep

    cfg = SETTINGS["smoke" if smoke else ("quick" if quick else "full")]
    architectures = tuple(architectures)
    if not architectures or any(a not in ARCHITECTURES for a in architectures):
        raise ValueError(f"architectures must name some of {ARCHITECTURES}, got {architectures!r}")
    name = dataset or cfg["dataset"]
    check_option(name, name="dataset", options=("mnist", "cifar10"))
    (Xtr, ytr), (Xte, yte) = _data(name, cfg["n_train"], random_state)
    base_bits = int(dataset_complexity(Xtr.reshape(len(Xtr), -1), ytr).expected_bits)
    shape = Xtr.shape[1:]
    if progress:
        print(f"[sweep] {name}: {len(Xtr)} training images, reference capacity = the data's "
              f"expected_bits = {base_bits:,} bits", flush=True)

    def train(model, callbacks):
        keras.utils.set_random_seed(random_state)  # same batches for every level
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(Xtr, ytr, epochs=cfg["epochs"], batch_size=64, validation_split=0.1,
                  verbose=0, callbacks=callbacks)

    def callbacks(run_dir):
        return [keras.callbacks.TensorBoard(log_dir=run_dir),
                DebuggerCallback(run_dir, train_data=(Xtr, ytr), csg=False, verbose=0,
                                 random_state=random_state)]

    rows = []
    for arch in architectures:
        build = models.FAMILIES[arch]
        t0 = time.perf_counter()
        res = capacity_sweep(
            lambda level, build=build: build(shape, 10, target_bits=level * base_bits,
                                             random_state=random_state),
            train, Xte, yte, n_levels=cfg["n_levels"], logdir=join(logdir, GROUP),
            architecture=arch, callbacks=callbacks, robustness_samples=cfg["attacked"],
            robustness_kwargs=cfg["robustness"], random_state=random_state,
            progress=progress)
        seconds = round(time.perf_counter() - t0, 1)
        for r in res.to_dicts():
            rows.append(dict(r, dataset=name, seconds=seconds))
        if progress:
            print(f"[sweep] {arch} ({seconds} s)\n{res.table()}", flush=True)
    return rows


def format_table(rows) -> str:
    """The rows as a Markdown table, per architecture from the largest capacity down."""
    head = ("| architecture | level | bits | params | test accuracy | keeps accuracy | "
            "median ε (L∞) | median pixels | censored |")
    lines = [head, "|---|---:|---:|---:|---:|:---:|---:|---:|---:|"]
    fmt = lambda v, d: "-" if v is None else f"{v:.{d}f}"
    for r in sorted(rows, key=lambda r: (r["architecture"], -r["level"])):
        best = " (best)" if r.get("best") else ""
        lines.append(
            f"| {r['architecture']} | {r['level']:g}{best} | {r['bits']:,} | {r['n_params']:,} | "
            f"{r['accuracy']:.3f} | {'yes' if r['keeps_accuracy'] else 'no'} | "
            f"{fmt(r['median_eps'], 4)} | {fmt(r['median_pixels'], 1)} | "
            f"{r['censored_fraction']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = demo_parser(
        "robustness_sweep",
        "Robustness vs. capacity: AlexNet-like and ResNet-like CNNs built at "
        "shrinking capacity, trained and attacked (paper 3.4).",
        full_help="CIFAR-10 5k, more levels, epochs and attacked samples")
    parser.add_argument("--dataset", choices=("mnist", "cifar10"), default=None,
                        help="override the mode's dataset")
    parser.add_argument("--architectures", nargs="+", choices=ARCHITECTURES,
                        default=list(ARCHITECTURES), help="which architectures to sweep")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(args.logdir, quick=not args.full, random_state=args.seed,
               dataset=args.dataset, architectures=args.architectures)
    print(format_table(rows))
    print(f"\n{time.perf_counter() - start:.0f} s.  tensorboard --logdir {args.logdir}   "
          "# then open the Debugger tab")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

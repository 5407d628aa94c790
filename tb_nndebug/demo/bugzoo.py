"""The bug zoo: one small real Keras training run per classic bug, plus a clean one.

Each bug is a recipe — data, model, compile and fit settings — that plants
one mistake people make; the DebuggerCallback must name it as the most
severe finding, and the clean run must get no error or warning. The same
recipes drive ``tests/test_bugzoo.py``.

Run ``python -m tb_nndebug.demo.bugzoo --logdir runs`` and open
``tensorboard --logdir runs`` → Debugger: one run per bug under
``runs/bugzoo/<bug>``.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import demo_parser

GROUP = "bugzoo"


@dataclass(frozen=True)
class Recipe:
    """How to reproduce one bug.

    Attributes
    ----------
    name : str
        Run name (``bugzoo/<name>``).
    expected : str or None
        Finding id that must come out on top (None for the clean run).
    description : str
    build : callable
        ``build(random_state) -> (model, (X_train, y_train), (X_val, y_val), fit_kwargs)``.
    """

    name: str
    expected: str | None
    description: str
    build: Callable


# ---------------------------------------------------------------- data

def digits_split(random_state=0, *, n_train=None, scale=True):
    """scikit-learn's 8x8 digits, stratified train/validation split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X.astype("float32") / (16.0 if scale else 1.0)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.33, stratify=y,
                                          random_state=random_state)
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    return (Xtr, ytr.astype("int32")), (Xva, yva.astype("int32"))


def mnist_subset(random_state=0, *, n_train=2000, n_val=1000, scale=True):
    """A seeded subset of the bundled MNIST test set, flattened to 784."""
    from ..datasets import load_mnist_test

    X, y = load_mnist_test()
    rng = np.random.RandomState(random_state)
    idx = rng.permutation(len(X))[: n_train + n_val]
    X = X[idx].reshape(len(idx), -1).astype("float32")
    if scale:
        X /= 255.0
    y = y[idx].astype("int32")
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def imbalanced_digits(random_state=0, *, n_major=950, n_minor=50):
    """Digits as "is it a zero?": 95 % no, 5 % yes."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.astype("float32") / 16.0
    rng = np.random.RandomState(random_state)
    pos, neg = np.flatnonzero(y == 0), np.flatnonzero(y != 0)
    pos, neg = rng.permutation(pos), rng.permutation(neg)
    tr = np.concatenate([neg[:n_major], pos[:n_minor]])
    va = np.concatenate([neg[n_major:n_major + 400], pos[n_minor:n_minor + 21]])
    tr, va = rng.permutation(tr), rng.permutation(va)
    lab = (y == 0).astype("int32")
    return (X[tr], lab[tr]), (X[va], lab[va])


# ---------------------------------------------------------------- models

def _mlp(n_in, widths, n_out, *, activation="relu", out_activation="softmax", name="mlp"):
    import keras

    layers = [keras.Input(shape=(n_in,))]
    layers += [keras.layers.Dense(w, activation=activation) for w in widths]
    layers.append(keras.layers.Dense(n_out, activation=out_activation))
    return keras.Sequential(layers, name=name)


def _compile(model, optimizer, loss="sparse_categorical_crossentropy"):
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def _always_dropout_layer():
    import keras

    class AlwaysDropout(keras.layers.Dropout):
        """The bug: dropout that ignores ``training`` and stays on at inference."""

        def call(self, inputs, training=None):
            return super().call(inputs, training=True)

    return AlwaysDropout


def _adam(lr=3e-3):
    import keras

    return keras.optimizers.Adam(learning_rate=lr)


def build_clean(rs):
    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32], 10), _adam())
    return model, tr, va, {"epochs": 10, "batch_size": 32}


def build_lr_too_high(rs):
    import keras

    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32], 10), keras.optimizers.SGD(learning_rate=40.0))
    return model, tr, va, {"epochs": 6, "batch_size": 32}


def build_lr_too_low(rs):
    import keras

    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32], 10), keras.optimizers.SGD(learning_rate=1e-5))
    return model, tr, va, {"epochs": 6, "batch_size": 32}


def build_dropout_at_inference(rs):
    import keras

    tr, va = digits_split(rs)
    AlwaysDropout = _always_dropout_layer()
    model = keras.Sequential([
        keras.Input(shape=(64,)), keras.layers.Dense(64, activation="relu"),
        AlwaysDropout(0.5), keras.layers.Dense(10, activation="softmax")], name="mlp_dropout")
    return _compile(model, _adam()), tr, va, {"epochs": 6, "batch_size": 32}


def build_softmax_from_logits(rs):
    import keras

    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32], 10), _adam(),
                     keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, tr, va, {"epochs": 6, "batch_size": 32}


def build_linear_no_logits(rs):
    import keras

    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32], 10, out_activation=None), _adam(),
                     keras.losses.SparseCategoricalCrossentropy(from_logits=False))
    return model, tr, va, {"epochs": 6, "batch_size": 32}


def build_unnormalised(rs):
    tr, va = mnist_subset(rs, scale=False)
    model = _compile(_mlp(784, [64], 10), _adam(1e-3))
    return model, tr, va, {"epochs": 6, "batch_size": 64}


def build_vanishing(rs):
    import keras

    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [32] * 10, 10, activation="sigmoid", name="deep_sigmoid"),
                     keras.optimizers.SGD(learning_rate=0.05))
    return model, tr, va, {"epochs": 6, "batch_size": 32}


def build_oversized(rs):
    tr, va = digits_split(rs, n_train=300)
    model = _compile(_mlp(64, [1024, 1024], 10, name="mlp_huge"), _adam(1e-3))
    return model, tr, va, {"epochs": 15, "batch_size": 32}


def build_undersized(rs):
    tr, va = digits_split(rs)
    model = _compile(_mlp(64, [1], 10, activation="tanh", name="mlp_tiny"), _adam())
    return model, tr, va, {"epochs": 8, "batch_size": 32}


def build_imbalanced(rs):
    tr, va = imbalanced_digits(rs)
    model = _compile(_mlp(64, [16], 2), _adam())
    return model, tr, va, {"epochs": 8, "batch_size": 32}


RECIPES = (
    Recipe("clean", None, "digits, 32-unit MLP, Adam 3e-3: nothing wrong", build_clean),
    Recipe("lr_too_high", "training.lr_too_high", "SGD with learning rate 40", build_lr_too_high),
    Recipe("lr_too_low", "training.lr_too_low", "SGD with learning rate 1e-5", build_lr_too_low),
    Recipe("dropout_at_inference", "training.dropout_at_inference",
           "a Dropout layer that ignores training=False", build_dropout_at_inference),
    Recipe("softmax_from_logits", "training.logits_mismatch",
           "softmax output with from_logits=True", build_softmax_from_logits),
    Recipe("linear_no_logits", "training.logits_mismatch",
           "linear output with from_logits=False", build_linear_no_logits),
    Recipe("unnormalised_input", "data.not_normalized", "MNIST pixels left at 0-255",
           build_unnormalised),
    Recipe("vanishing_gradients", "training.vanishing_gradients",
           "ten stacked sigmoid layers", build_vanishing),
    Recipe("oversized", "capacity.oversized",
           "two 1024-unit layers on 300 digits", build_oversized),
    Recipe("undersized", "capacity.too_small", "a one-unit bottleneck on digits",
           build_undersized),
    Recipe("imbalanced", "balance.imbalanced", "digits as 'is it a zero?', 95/5",
           build_imbalanced),
)
RECIPE_BY_NAME = {r.name: r for r in RECIPES}


def train_recipe(recipe: Recipe, run_dir: str, *, random_state=0, verbose=0, epochs_scale=1):
    """Train one recipe with keras.callbacks.TensorBoard and DebuggerCallback.

    ``epochs_scale`` multiplies the recipe's epochs (the full demo trains
    twice as long, so slow symptoms such as overfitting show more clearly).

    Returns
    -------
    (DebuggerCallback, keras.callbacks.History)
    """
    import keras

    from ..callback import DebuggerCallback

    keras.utils.set_random_seed(random_state)
    model, tr, va, fit_kwargs = recipe.build(random_state)
    fit_kwargs = dict(fit_kwargs, epochs=fit_kwargs["epochs"] * int(epochs_scale))
    cb = DebuggerCallback(run_dir, train_data=tr, validation_data=va, verbose=verbose,
                          random_state=random_state)
    history = model.fit(*tr, validation_data=va, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(run_dir), cb], **fit_kwargs)
    return cb, history


def row_for(recipe: Recipe, findings) -> dict:
    """The detection-table row of one run."""
    serious = [f for f in findings if f.severity in ("error", "warning")]
    top = serious[0] if serious else None
    if recipe.expected is None:
        detected = not serious
    else:
        detected = top is not None and top.id == recipe.expected
    return {"bug": recipe.name, "expected": recipe.expected or "(no error/warning)",
            "top": top.id if top else None, "severity": top.severity if top else None,
            "detected": detected,
            "serious": [f"{f.severity}:{f.id}" for f in serious]}


def run(logdir, *, quick=True, random_state=0, progress=True, bugs=None) -> list[dict]:
    """Train every recipe under ``<logdir>/bugzoo/<bug>`` and return the table.

    Parameters
    ----------
    logdir : str
    quick : bool, default=True
        ``False`` trains each recipe twice as many epochs.
    random_state : int, default=0
    progress : bool, default=True
        Show a progress bar (tqdm).
    bugs : sequence of str, optional
        Only these recipes (names from :data:`RECIPES`).

    Returns
    -------
    list of dict
        One row per run: bug, expected, top, severity, detected, serious.
    """
    from tqdm.auto import tqdm

    recipes = RECIPES if bugs is None else [RECIPE_BY_NAME[b] for b in bugs]
    rows = []
    for recipe in tqdm(recipes, desc="bug zoo", disable=not progress):
        cb, _ = train_recipe(recipe, os.path.join(os.fspath(logdir), GROUP, recipe.name),
                             random_state=random_state, epochs_scale=1 if quick else 2)
        rows.append(row_for(recipe, cb.findings))
    return rows


def format_table(rows) -> str:
    lines = [f"{'bug':22s} {'expected':32s} {'most severe':40s} ok"]
    for r in rows:
        top = f"{r['severity']}:{r['top']}" if r["top"] else "-"
        lines.append(f"{r['bug']:22s} {r['expected']:32s} {top:40s} "
                     f"{'yes' if r['detected'] else 'NO'}")
    return "\n".join(lines)


def main(argv=None):
    parser = demo_parser("bugzoo", __doc__.splitlines()[0], full_help="train twice as long")
    args = parser.parse_args(argv)
    rows = run(args.logdir, quick=not args.full, random_state=args.seed)
    print(format_table(rows))
    return 0 if all(r["detected"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

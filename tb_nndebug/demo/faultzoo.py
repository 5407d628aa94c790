"""The fault zoo: real kinds of deep-learning faults, each as a buggy program and its fix.

Each case is one small Keras 3 program written twice on the same data and
seed: the buggy twin, with the fault as people make it (often several faults
at once, as they occur), and the fixed twin, with the fix as it would be
published for such a fault. The faults are drawn from the taxonomy of real
faults in deep-learning systems (Humbatova et al., "Taxonomy of Real Faults
in Deep Learning Systems", ICSE 2020) and the mutation operators built from
it (DeepCrime, Humbatova et al., ISSTA 2021). Each case names the finding ids
any of which names the planted cause (``causes``), and is scored as a user
would judge it:

- **detected**: the buggy run has an error or a warning;
- **diagnosed**: one of those names the planted cause (its id is in ``causes``);
- **fixed twin quiet**: the fixed run has no error and no warning.

Run ``python -m tb_nndebug.demo.faultzoo --logdir runs`` (``--case NAME`` for
one case, ``--full`` to train longer) and open ``tensorboard --logdir runs``
→ Debugger: the runs are ``runs/faultzoo/<case>/{buggy,fixed}``.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import demo_parser
from .bugzoo import digits_split, imbalanced_digits, mnist_subset

GROUP = "faultzoo"

#: Humbatova et al.'s top-level categories (GPU usage and API faults are out of scope).
MODEL, TENSORS, TRAINING = "Model", "Tensors & inputs", "Training"

__all__ = ["CASES", "CASE_BY_NAME", "Case", "Program", "format_table", "main", "price_regression",
           "run", "run_case", "score_case", "signed_regression"]


@dataclass(frozen=True)
class Program:
    """One twin, ready to train: ``model.fit(*train, validation_data=val, **fit)``."""

    model: object
    train: tuple
    val: tuple
    fit: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One real fault: a buggy program and its fixed twin.

    Attributes
    ----------
    name : str
        Run name (``faultzoo/<name>/{buggy,fixed}``).
    category : str
        Where the fault sits in Humbatova et al.'s taxonomy ("Model / ...",
        "Tensors & inputs / ...", "Training / ...").
    causes : tuple of str
        Finding ids any of which names the planted cause.
    fault : str
        What is wrong in the buggy twin.
    fix : str
        What the fixed twin changes.
    build : callable
        ``build(random_state, *, bugged, quick) -> Program``.
    """

    name: str
    category: str
    causes: tuple
    fault: str
    fix: str
    build: Callable


_CASES: list[Case] = []


def _case(name, category, causes, fault, fix):
    def register(build):
        _CASES.append(Case(name, category, tuple(causes), fault, fix, build))
        return build
    return register


# ---------------------------------------------------------------- data

def _split(X, y, n_train, n_val):
    return (X[:n_train], y[:n_train]), (X[n_train:n_train + n_val], y[n_train:n_train + n_val])


def signed_regression(random_state=0, *, n_train=1000, n_val=400, n_features=8, noise=0.1):
    """A seeded non-linear regression whose targets are mostly negative.

    ``y = 1.5 sin(2 x0) + x1 x2 - 0.5 x3² + 0.5 x4 - 0.5 + noise`` on standard
    normal features (the other features are distractors): targets span about
    -6 .. 4 with mean -1 and standard deviation 1.5.
    """
    rng = np.random.RandomState(random_state)
    n = n_train + n_val
    X = rng.normal(size=(n, n_features)).astype("float32")
    y = (1.5 * np.sin(2.0 * X[:, 0]) + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] ** 2
         + 0.5 * X[:, 4] - 0.5 + noise * rng.normal(size=n))
    return _split(X, y.astype("float32"), n_train, n_val)


def price_regression(random_state=0, *, n_train=1000, n_val=400, n_features=6):
    """Seeded house-price-like targets in the thousands (mean ≈ 3000, std ≈ 1000).

    The features are already standardised (size, rooms, age, ...); only the
    targets are on a large scale.
    """
    rng = np.random.RandomState(random_state)
    n = n_train + n_val
    X = rng.normal(size=(n, n_features)).astype("float32")
    y = (3000.0 + 800.0 * X[:, 0] + 400.0 * X[:, 1] - 300.0 * X[:, 2]
         + 250.0 * X[:, 0] * X[:, 1] + 300.0 * np.sin(2.0 * X[:, 3])
         + 100.0 * rng.normal(size=n))
    return _split(X, y.astype("float32"), n_train, n_val)


def creditcard_split(random_state=0, *, n_normal=1500, n_fraud=492, scale=True, val=0.3):
    """The bundled credit-card sample, majority class under-sampled, stratified split.

    ``scale`` standardises the features with the training split's mean and
    standard deviation (``Time`` and ``Amount`` are in the 10⁴-10⁵ and 10²-10³).
    """
    from sklearn.model_selection import train_test_split

    from ..datasets import load_creditcard

    X, y, _ = load_creditcard()
    rng = np.random.RandomState(random_state)
    normal = rng.permutation(np.flatnonzero(y == 0))[:n_normal]
    fraud = rng.permutation(np.flatnonzero(y == 1))[:n_fraud]
    idx = rng.permutation(np.concatenate([normal, fraud]))
    X, y = X[idx].astype("float32"), y[idx].astype("int32")
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=val, stratify=y,
                                          random_state=random_state)
    if scale:
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-6
        Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
    return (Xtr, ytr), (Xva, yva)


def _one_hot(split, n=10):
    (X, y) = split
    return X, np.eye(n, dtype="float32")[y]


def _binary_digits(rs):
    """Digits as "is it 5 or more?" (balanced 0/1 labels)."""
    (Xtr, ytr), (Xva, yva) = digits_split(rs)
    return (Xtr, (ytr >= 5).astype("int32")), (Xva, (yva >= 5).astype("int32"))


def _epochs(quick, n, full=2):
    return n if quick else n * full


# ---------------------------------------------------------------- building blocks

def _mlp(n_in, widths, n_out, *, activation="relu", out_activation=None, name="mlp",
         dropout=None, **dense_kwargs):
    import keras

    layers = [keras.Input(shape=(n_in,))]
    for w in widths:
        layers.append(keras.layers.Dense(w, activation=activation, **dense_kwargs))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_out, activation=out_activation, **dense_kwargs))
    return keras.Sequential(layers, name=name)


def _adam(lr=3e-3):
    import keras

    return keras.optimizers.Adam(learning_rate=lr)


def _sgd(lr, momentum=0.0):
    import keras

    return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)


def _program(model, optimizer, loss, tr, va, *, metrics=("accuracy",), **fit):
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return Program(model, tr, va, fit)


# ================================================================ Model: output layer

@_case("relu_output_negative_targets", f"{MODEL} / activation (output)",
       ["model.output_activation"],
       "regression with a relu output unit; most targets are negative",
       "linear output unit")
def _relu_output_negative_targets(rs, *, bugged, quick):
    tr, va = signed_regression(rs)
    model = _mlp(8, [64, 64], 1, out_activation="relu" if bugged else None)
    return _program(model, _adam(5e-3), "mse", tr, va, metrics=["mae"],
                    epochs=_epochs(quick, 15), batch_size=32)


@_case("sigmoid_output_unbounded_targets", f"{MODEL} / activation (output)",
       ["model.output_activation"],
       "regression targets in -6..4 behind a sigmoid output (range 0..1)",
       "linear output unit")
def _sigmoid_output_unbounded(rs, *, bugged, quick):
    tr, va = signed_regression(rs)
    model = _mlp(8, [64, 64], 1, out_activation="sigmoid" if bugged else None)
    return _program(model, _adam(5e-3), "mse", tr, va, metrics=["mae"],
                    epochs=_epochs(quick, 15), batch_size=32)


@_case("tanh_output_unbounded_targets", f"{MODEL} / activation (output)",
       ["model.output_activation"],
       "regression targets in -6..4 behind a tanh output (range -1..1), MAE loss",
       "linear output unit")
def _tanh_output_unbounded(rs, *, bugged, quick):
    tr, va = signed_regression(rs + 1)
    model = _mlp(8, [64, 64], 1, out_activation="tanh" if bugged else None)
    return _program(model, _adam(5e-3), "mae", tr, va, metrics=["mse"],
                    epochs=_epochs(quick, 15), batch_size=32)


@_case("softmax_single_unit", f"{MODEL} / activation (output)",
       ["model.output_activation"],
       "binary classifier with softmax on its one output unit (constant 1.0)",
       "sigmoid on the one output unit")
def _softmax_single_unit(rs, *, bugged, quick):
    tr, va = _binary_digits(rs)
    model = _mlp(64, [32], 1, out_activation="softmax" if bugged else "sigmoid")
    return _program(model, _adam(3e-3), "binary_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("relu_output_crossentropy", f"{MODEL} / activation (output)",
       ["model.output_activation", "training.logits_mismatch"],
       "10 relu output units fed to sparse categorical cross-entropy (from_logits=False)",
       "softmax output")
def _relu_output_crossentropy(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="relu" if bugged else "softmax")
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("price_sigmoid_output", f"{MODEL} / activation (output)",
       ["model.output_activation", "data.targets_not_scaled"],
       "prices in the thousands regressed through a sigmoid output with MSE",
       "targets standardised (scaled back for reporting), linear output")
def _price_sigmoid_output(rs, *, bugged, quick):
    (Xtr, ytr), (Xva, yva) = price_regression(rs)
    if not bugged:
        mu, sd = ytr.mean(), ytr.std()
        ytr, yva = (ytr - mu) / sd, (yva - mu) / sd
    model = _mlp(6, [32, 32], 1, out_activation="sigmoid" if bugged else None)
    return _program(model, _adam(3e-3), "mse", (Xtr, ytr), (Xva, yva), metrics=["mae"],
                    epochs=_epochs(quick, 20), batch_size=32)


# ================================================================ Training: loss function

@_case("relu_mse_one_hot", f"{TRAINING} / loss function",
       ["training.loss_mismatch", "model.output_activation"],
       "MNIST one-hot labels, relu output units and mean squared error (SGD lr 0.1)",
       "softmax output and categorical cross-entropy")
def _relu_mse_one_hot(rs, *, bugged, quick):
    tr, va = mnist_subset(rs)
    tr, va = _one_hot(tr), _one_hot(va)
    model = _mlp(784, [64], 10, out_activation="relu" if bugged else "softmax")
    loss = "mse" if bugged else "categorical_crossentropy"
    return _program(model, _sgd(0.1), loss, tr, va, epochs=_epochs(quick, 8), batch_size=64)


@_case("mse_integer_labels", f"{TRAINING} / loss function",
       ["training.loss_mismatch"],
       "integer class labels 0..9 against 10 softmax units with mean squared error",
       "sparse categorical cross-entropy")
def _mse_integer_labels(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="softmax")
    loss = "mse" if bugged else "sparse_categorical_crossentropy"
    return _program(model, _adam(3e-3), loss, tr, va, epochs=_epochs(quick, 10), batch_size=32)


@_case("sigmoid_cce_lr_high", f"{TRAINING} / loss function",
       ["training.loss_mismatch", "training.lr_too_high", "model.output_activation"],
       "single-label one-hot digits: sigmoid outputs, categorical cross-entropy, Adam lr 0.2",
       "softmax outputs, Adam lr 3e-3")
def _sigmoid_cce_lr_high(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    tr, va = _one_hot(tr), _one_hot(va)
    model = _mlp(64, [64], 10, out_activation="sigmoid" if bugged else "softmax")
    return _program(model, _adam(0.2 if bugged else 3e-3), "categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("bce_multiclass_one_hot", f"{TRAINING} / loss function",
       ["training.loss_mismatch"],
       "10-class one-hot labels, softmax output, binary cross-entropy",
       "categorical cross-entropy")
def _bce_multiclass(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    tr, va = _one_hot(tr), _one_hot(va)
    model = _mlp(64, [32], 10, out_activation="softmax")
    loss = "binary_crossentropy" if bugged else "categorical_crossentropy"
    return _program(model, _adam(3e-3), loss, tr, va, epochs=_epochs(quick, 10), batch_size=32)


@_case("cce_one_unit", f"{TRAINING} / loss function",
       ["training.loss_mismatch"],
       "binary task, one sigmoid unit, categorical cross-entropy (identically 0)",
       "binary cross-entropy")
def _cce_one_unit(rs, *, bugged, quick):
    tr, va = _binary_digits(rs)
    model = _mlp(64, [32], 1, out_activation="sigmoid")
    loss = "categorical_crossentropy" if bugged else "binary_crossentropy"
    return _program(model, _adam(3e-3), loss, tr, va, epochs=_epochs(quick, 10), batch_size=32)


@_case("logits_as_probabilities", f"{TRAINING} / loss function",
       ["training.logits_mismatch", "model.output_activation"],
       "linear output (logits) read as probabilities: SparseCategoricalCrossentropy() with "
       "its default from_logits=False",
       "SparseCategoricalCrossentropy(from_logits=True)")
def _logits_as_probabilities(rs, *, bugged, quick):
    import keras

    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not bugged)
    return _program(model, _adam(3e-3), loss, tr, va, epochs=_epochs(quick, 10), batch_size=32)


# ================================================================ Training: labels

@_case("fractional_sparse_labels", f"{TRAINING} / training data (labels)",
       ["data.labels_not_labels"],
       "labels divided by 255 with the pixels (y/255) under sparse categorical cross-entropy",
       "labels left as the integers 0..9")
def _fractional_sparse_labels(rs, *, bugged, quick):
    (Xtr, ytr), (Xva, yva) = mnist_subset(rs)
    if bugged:
        ytr, yva = ytr / np.float32(255.0), yva / np.float32(255.0)
    model = _mlp(784, [64], 10, out_activation="softmax")
    return _program(model, _adam(1e-3), "sparse_categorical_crossentropy", (Xtr, ytr),
                    (Xva, yva), epochs=_epochs(quick, 6), batch_size=64)


def _digit_bits(split):
    X, y = split
    return X, ((y[:, None] >> np.arange(4)) & 1).astype("float32")


@_case("multi_hot_as_one_hot", f"{TRAINING} / training data (labels)",
       ["data.labels_not_labels", "training.loss_mismatch"],
       "4-bit multi-label targets (the digit's binary code) read as one-hot: softmax and "
       "categorical cross-entropy",
       "sigmoid outputs and binary cross-entropy (multi-label)")
def _multi_hot_as_one_hot(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    tr, va = _digit_bits(tr), _digit_bits(va)
    model = _mlp(64, [64], 4, out_activation="softmax" if bugged else "sigmoid")
    loss = "categorical_crossentropy" if bugged else "binary_crossentropy"
    metrics = ["accuracy"] if bugged else ["binary_accuracy"]
    return _program(model, _adam(3e-3), loss, tr, va, metrics=metrics,
                    epochs=_epochs(quick, 12), batch_size=32)


@_case("labels_out_of_range", f"{TRAINING} / training data (labels)",
       ["training.labels_out_of_range"],
       "1-based labels 1..10 for 10 output units (fit crashes on label 10)",
       "labels shifted to 0..9")
def _labels_out_of_range(rs, *, bugged, quick):
    (Xtr, ytr), (Xva, yva) = digits_split(rs)
    if bugged:
        ytr, yva = ytr + 1, yva + 1
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", (Xtr, ytr),
                    (Xva, yva), epochs=_epochs(quick, 10), batch_size=32)


@_case("labels_misaligned", f"{TRAINING} / training data quality",
       ["csg.high_overlap"],
       "images shuffled without their labels (two different permutations)",
       "one permutation for images and labels")
def _labels_misaligned(rs, *, bugged, quick):
    (Xtr, ytr), va = digits_split(rs)
    rng = np.random.RandomState(rs)
    order = rng.permutation(len(Xtr))
    Xtr = Xtr[order]
    ytr = ytr[rng.permutation(len(ytr)) if bugged else order]
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", (Xtr, ytr), va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("imbalanced_no_weights", f"{TRAINING} / training data quality",
       ["balance.imbalanced", "balance.rare_class"],
       "credit-card fraud at 2 % of the data, trained unweighted",
       "class_weight inversely proportional to the class counts")
def _imbalanced_no_weights(rs, *, bugged, quick):
    tr, va = creditcard_split(rs, n_normal=2400, n_fraud=50)
    fit = {}
    if not bugged:
        counts = np.bincount(tr[1])
        fit["class_weight"] = {c: len(tr[1]) / (len(counts) * n) for c, n in enumerate(counts)}
    model = _mlp(30, [32], 1, out_activation="sigmoid")
    return _program(model, _adam(1e-3), "binary_crossentropy", tr, va,
                    epochs=_epochs(quick, 8), batch_size=64, **fit)


# ================================================================ Training: preprocessing

@_case("unscaled_targets_small_net", f"{TRAINING} / preprocessing of training data",
       ["data.targets_not_scaled"],
       "house prices in the thousands, an 8-unit network, MSE, Adam 1e-2",
       "targets standardised (mean 0, std 1; scaled back for reporting)")
def _unscaled_targets(rs, *, bugged, quick):
    (Xtr, ytr), (Xva, yva) = price_regression(rs)
    if not bugged:
        mu, sd = ytr.mean(), ytr.std()
        ytr, yva = (ytr - mu) / sd, (yva - mu) / sd
    model = _mlp(6, [8], 1)
    return _program(model, _adam(1e-2), "mse", (Xtr, ytr), (Xva, yva),
                    metrics=["mae"], epochs=_epochs(quick, 15), batch_size=32)


@_case("unscaled_input", f"{TRAINING} / preprocessing of training data",
       ["data.not_normalized"],
       "credit-card features fed raw (Time up to 1.7e5, Amount up to 5.6e3)",
       "features standardised with the training split's mean and std")
def _unscaled_input(rs, *, bugged, quick):
    tr, va = creditcard_split(rs, scale=not bugged)
    model = _mlp(30, [32], 1, out_activation="sigmoid")
    return _program(model, _adam(1e-3), "binary_crossentropy", tr, va,
                    epochs=_epochs(quick, 8), batch_size=32)


@_case("saturated_sigmoid_unscaled", f"{TRAINING} / preprocessing of training data",
       ["training.not_learning", "data.not_normalized"],
       "raw credit-card features (Time up to 1.7e5) into a sigmoid output trained with MSE: "
       "the sigmoid saturates at exactly 0 or 1 and no gradient flows",
       "features standardised, binary cross-entropy")
def _saturated_sigmoid(rs, *, bugged, quick):
    tr, va = creditcard_split(rs, scale=not bugged)
    model = _mlp(30, [32], 1, out_activation="sigmoid")
    loss = "mse" if bugged else "binary_crossentropy"
    return _program(model, _adam(1e-3), loss, tr, va, epochs=_epochs(quick, 8), batch_size=32)


# ================================================================ Training: optimiser, lr

@_case("lr_too_high_for_mse", f"{TRAINING} / optimiser (learning rate)",
       ["training.lr_too_high"],
       "SGD lr 0.2 on an MSE regression (fine for cross-entropy, too high for MSE)",
       "SGD lr 0.01")
def _lr_too_high_mse(rs, *, bugged, quick):
    tr, va = signed_regression(rs)
    model = _mlp(8, [64, 64], 1)
    return _program(model, _sgd(0.2 if bugged else 0.01, momentum=0.9), "mse", tr, va,
                    metrics=["mae"], epochs=_epochs(quick, 20), batch_size=32)


@_case("lr_too_high_adam", f"{TRAINING} / optimiser (learning rate)",
       ["training.lr_too_high"],
       "Adam lr 0.1 on MNIST",
       "Adam lr 1e-3")
def _lr_too_high_adam(rs, *, bugged, quick):
    tr, va = mnist_subset(rs)
    model = _mlp(784, [64], 10, out_activation="softmax")
    return _program(model, _adam(0.1 if bugged else 1e-3), "sparse_categorical_crossentropy",
                    tr, va, epochs=_epochs(quick, 6), batch_size=64)


@_case("lr_too_low", f"{TRAINING} / optimiser (learning rate)",
       ["training.lr_too_low"],
       "Adam lr 1e-5 on digits",
       "Adam lr 3e-3")
def _lr_too_low(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _adam(1e-5 if bugged else 3e-3), "sparse_categorical_crossentropy",
                    tr, va, epochs=_epochs(quick, 10), batch_size=32)


@_case("adadelta_default_lr", f"{TRAINING} / optimiser",
       ["training.lr_too_low"],
       "Adadelta() with Keras's default lr 0.001 (Adadelta was designed for 1.0)",
       "Adadelta(learning_rate=1.0)")
def _adadelta_default(rs, *, bugged, quick):
    import keras

    tr, va = digits_split(rs)
    opt = keras.optimizers.Adadelta() if bugged else keras.optimizers.Adadelta(learning_rate=1.0)
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, opt, "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("sgd_momentum_0999", f"{TRAINING} / optimiser",
       ["training.lr_too_high"],
       "SGD lr 0.05 with momentum 0.999 (effective step 50)",
       "momentum 0.9")
def _sgd_momentum(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _sgd(0.05, momentum=0.999 if bugged else 0.9),
                    "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


# ================================================================ Training: hyperparameters

@_case("too_few_epochs", f"{TRAINING} / hyperparameters (epochs)",
       ["training.too_few_epochs"],
       "2 epochs of Adam 1e-3: stopped while the loss still falls steeply",
       "15 epochs")
def _too_few_epochs(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _adam(1e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=2 if bugged else _epochs(quick, 15), batch_size=32)


@_case("batch_size_one", f"{TRAINING} / hyperparameters (batch size)",
       ["training.batch_too_small"],
       "batch size 1 with SGD lr 0.3 on 300 digits: the loss oscillates",
       "batch size 32 (and the epochs that takes)")
def _batch_size_one(rs, *, bugged, quick):
    (Xtr, ytr), va = digits_split(rs, n_train=300)
    model = _mlp(64, [32], 10, out_activation="softmax")
    return _program(model, _sgd(0.3), "sparse_categorical_crossentropy", (Xtr, ytr), va,
                    epochs=_epochs(quick, 6 if bugged else 20), batch_size=1 if bugged else 32)


@_case("oversized_tiny_set", f"{TRAINING} / hyperparameters (epochs)",
       ["training.overfitting", "capacity.oversized"],
       "two 512-unit layers trained 30 epochs on 300 MNIST digits",
       "one 64-unit layer with Dropout(0.3), early stopping on the validation loss")
def _oversized_tiny_set(rs, *, bugged, quick):
    import keras

    tr, va = mnist_subset(rs, n_train=300, n_val=1000)
    fit = {"epochs": _epochs(quick, 30)}
    if bugged:
        model = _mlp(784, [512, 512], 10, out_activation="softmax", name="mlp_big")
    else:
        model = _mlp(784, [64], 10, out_activation="softmax", dropout=0.3)
        fit["callbacks"] = [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)]
    return _program(model, _adam(1e-3), "sparse_categorical_crossentropy", tr, va,
                    batch_size=32, **fit)


# ================================================================ Model: initialisation

@_case("huge_init_wide", f"{MODEL} / weight initialisation",
       ["model.initialisation"],
       "RandomNormal(stddev=1) kernels on 784 inputs and 128-unit layers (MNIST)",
       "the default Glorot-uniform initialiser")
def _huge_init(rs, *, bugged, quick):
    import keras

    tr, va = mnist_subset(rs)
    kw = {"kernel_initializer": keras.initializers.RandomNormal(stddev=1.0)} if bugged else {}
    model = _mlp(784, [128, 128], 10, out_activation="softmax", **kw)
    return _program(model, _adam(1e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 5), batch_size=64)


@_case("constant_init", f"{MODEL} / weight initialisation",
       ["model.initialisation"],
       "every kernel Constant(0.05): all units of a layer stay identical",
       "the default Glorot-uniform initialiser")
def _constant_init(rs, *, bugged, quick):
    import keras

    tr, va = digits_split(rs)
    kw = {"kernel_initializer": keras.initializers.Constant(0.05)} if bugged else {}
    model = _mlp(64, [32, 32], 10, out_activation="softmax", **kw)
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("zero_init_relu", f"{MODEL} / weight initialisation",
       ["model.initialisation", "training.not_learning"],
       "all-zero kernels with relu: no gradient reaches any kernel",
       "the default Glorot-uniform initialiser")
def _zero_init(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    kw = {"kernel_initializer": "zeros"} if bugged else {}
    model = _mlp(64, [32, 32], 10, out_activation="softmax", **kw)
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("frozen_model", f"{MODEL} / model properties",
       ["training.not_learning"],
       "model.trainable = False before compile (meant for a GAN's discriminator): nothing "
       "trains",
       "the line removed")
def _frozen_model(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [32], 10, out_activation="softmax")
    model.trainable = not bugged
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


# ================================================================ Model: layers

@_case("missing_hidden_activation", f"{MODEL} / activation (hidden)",
       ["model.linear_hidden"],
       "hidden Dense layers without activation on a non-linear regression",
       "relu on the hidden layers")
def _missing_hidden_activation(rs, *, bugged, quick):
    tr, va = signed_regression(rs)
    model = _mlp(8, [64, 64], 1, activation=None if bugged else "relu")
    return _program(model, _adam(5e-3), "mse", tr, va, metrics=["mae"],
                    epochs=_epochs(quick, 15), batch_size=32)


@_case("deep_sigmoid_vanishing", f"{MODEL} / activation (hidden)",
       ["training.vanishing_gradients"],
       "eight stacked sigmoid layers with SGD: the first layers get no gradient",
       "relu with He initialisation, Adam")
def _deep_sigmoid(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    if bugged:
        model = _mlp(64, [32] * 8, 10, activation="sigmoid", out_activation="softmax")
        opt = _sgd(0.05)
    else:
        model = _mlp(64, [32] * 8, 10, activation="relu", out_activation="softmax",
                     kernel_initializer="he_normal")
        opt = _adam(1e-3)
    return _program(model, opt, "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("dead_relus", f"{MODEL} / activation (hidden)",
       ["training.dead_units", "training.lr_too_high"],
       "relu network trained with SGD lr 1.0: most units die in the first epoch",
       "SGD lr 0.02")
def _dead_relus(rs, *, bugged, quick):
    tr, va = mnist_subset(rs)
    model = _mlp(784, [128, 128], 10, out_activation="softmax")
    return _program(model, _sgd(1.0 if bugged else 0.02, momentum=0.9),
                    "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 6), batch_size=64)


def _feature_dropout(*, honours_training):
    import keras

    class FeatureDropout(keras.layers.Layer):
        """A hand-written dropout layer; the bug is forgetting to check ``training``."""

        def __init__(self, rate, seed=0, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs, training=None):
            if training or not honours_training:
                return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)
            return inputs

    return FeatureDropout


@_case("dropout_at_inference", f"{MODEL} / layer properties",
       ["training.dropout_at_inference"],
       "a custom dropout layer that ignores training=False: predictions are random",
       "the layer returns its input unless training")
def _dropout_at_inference(rs, *, bugged, quick):
    import keras

    tr, va = digits_split(rs)
    model = keras.Sequential([
        keras.Input(shape=(64,)), keras.layers.Dense(64, activation="relu"),
        _feature_dropout(honours_training=not bugged)(0.5, seed=rs),
        keras.layers.Dense(10, activation="softmax")], name="mlp_dropout")
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("dropout_too_high", f"{MODEL} / layer properties",
       ["training.dropout_rate_high"],
       "Dropout(0.9) after each hidden layer",
       "Dropout(0.2)")
def _dropout_too_high(rs, *, bugged, quick):
    tr, va = digits_split(rs)
    model = _mlp(64, [64, 64], 10, out_activation="softmax", dropout=0.9 if bugged else 0.2)
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 10), batch_size=32)


@_case("imbalanced_digits_accuracy", f"{TRAINING} / training data quality",
       ["balance.imbalanced", "balance.rare_class"],
       "'is it a zero?' at 95/5, unweighted: accuracy hides the minority class",
       "class_weight inversely proportional to the class counts")
def _imbalanced_digits(rs, *, bugged, quick):
    tr, va = imbalanced_digits(rs)
    fit = {}
    if not bugged:
        counts = np.bincount(tr[1])
        fit["class_weight"] = {c: len(tr[1]) / (len(counts) * n) for c, n in enumerate(counts)}
    model = _mlp(64, [16], 2, out_activation="softmax")
    return _program(model, _adam(3e-3), "sparse_categorical_crossentropy", tr, va,
                    epochs=_epochs(quick, 8), batch_size=32, **fit)


CASES: tuple[Case, ...] = tuple(_CASES)
CASE_BY_NAME = {c.name: c for c in CASES}


# ---------------------------------------------------------------- running and scoring

def run_case(case: Case, logdir, *, bugged: bool, quick=True, random_state=0):
    """Train one twin of ``case`` with a :class:`~tb_nndebug.callback.DebuggerCallback`.

    The run goes to ``<logdir>/faultzoo/<case>/{buggy,fixed}/debugger``; a
    previous run of the same twin there is removed first (the callback reads
    its run back, and old epochs would mix into the new verdict). A
    twin whose ``fit`` raises (labels out of range crash Keras, as they do
    in the original programs) keeps the findings made before the crash; the
    error is kept as ``cb.fit_error``.

    Parameters
    ----------
    case : Case
    logdir : str or os.PathLike
    bugged : bool
        Train the buggy twin (True) or the fixed one (False).
    quick : bool, default=True
        Quick mode (seconds); ``False`` trains longer.
    random_state : int, default=0
        Seeds Keras, the data and the callback; both twins get the same.

    Returns
    -------
    DebuggerCallback
        With ``.findings``, ``.records`` and ``.fit_error`` (None if fit ran
        through).
    """
    import keras

    from ..callback import DebuggerCallback

    keras.utils.set_random_seed(random_state)
    program = case.build(random_state, bugged=bugged, quick=quick)
    run_dir = os.path.join(os.fspath(logdir), GROUP, case.name, "buggy" if bugged else "fixed")
    shutil.rmtree(run_dir, ignore_errors=True)
    cb = DebuggerCallback(run_dir, train_data=program.train, validation_data=program.val,
                          verbose=0, random_state=random_state)
    fit = dict(program.fit)
    callbacks = [cb, *fit.pop("callbacks", [])]
    cb.fit_error = None
    try:
        program.model.fit(*program.train, validation_data=program.val, verbose=0,
                          callbacks=callbacks, **fit)
    except Exception as exc:  # noqa: BLE001 - a crash is part of some faults
        cb.fit_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return cb


def final_metrics(cb) -> dict:
    """The last epoch's logged values of a run (``{}`` if none)."""
    history = getattr(getattr(cb.model, "history", None), "history", None) or {}
    return {k: float(v[-1]) for k, v in history.items() if v}


def _serious(findings):
    return [f for f in findings if f.severity in ("error", "warning")]


def score_case(case: Case, buggy_findings, fixed_findings, *, buggy_metrics=None,
               fixed_metrics=None) -> dict:
    """The zoo-table row of one case.

    Parameters
    ----------
    case : Case
    buggy_findings, fixed_findings : list of Finding
    buggy_metrics, fixed_metrics : dict, optional
        Final logged values of each twin (:func:`final_metrics`), shown in the table.

    Returns
    -------
    dict
        case, category, causes, buggy and fixed (``severity:id`` of their
        errors and warnings), detected, diagnosed, fixed_quiet, and the
        metrics when given.
    """
    bad, good = _serious(buggy_findings), _serious(fixed_findings)
    row = {"case": case.name, "category": case.category, "causes": list(case.causes),
           "buggy": [f"{f.severity}:{f.id}" for f in bad],
           "fixed": [f"{f.severity}:{f.id}" for f in good],
           "detected": bool(bad),
           "diagnosed": any(f.id in case.causes for f in bad),
           "fixed_quiet": not good}
    if buggy_metrics is not None:
        row["buggy_metrics"] = buggy_metrics
    if fixed_metrics is not None:
        row["fixed_metrics"] = fixed_metrics
    return row


def totals(rows) -> dict:
    """Share of cases detected, diagnosed and with a quiet fixed twin (percent)."""
    n = len(rows)
    return {k: (100.0 * sum(bool(r[k]) for r in rows) / n if n else 0.0)
            for k in ("detected", "diagnosed", "fixed_quiet")}


def _metric_text(metrics) -> str:
    if not metrics:
        return "-"
    keys = [k for k in ("val_accuracy", "val_binary_accuracy", "val_loss", "val_mae")
            if k in metrics][:2]
    return " ".join(f"{k.removeprefix('val_')}={metrics[k]:.3g}" for k in keys)


def _ids(entries) -> str:
    return ", ".join(e.replace("error:", "E:").replace("warning:", "W:") for e in entries) or "-"


def format_table(rows) -> str:
    """The zoo table: one block per case, then the three scores as percentages."""
    lines = []
    for r in rows:
        marks = " ".join(f"{k}={'yes' if r[k] else 'NO'}"
                         for k in ("detected", "diagnosed", "fixed_quiet"))
        lines.append(f"{r['case']}  [{r['category']}]  {marks}")
        lines.append(f"    causes: {', '.join(r['causes'])}")
        lines.append(f"    buggy:  {_ids(r['buggy'])}"
                     + (f"   ({_metric_text(r.get('buggy_metrics'))})"
                        if "buggy_metrics" in r else ""))
        lines.append(f"    fixed:  {_ids(r['fixed'])}"
                     + (f"   ({_metric_text(r.get('fixed_metrics'))})"
                        if "fixed_metrics" in r else ""))
    t = totals(rows)
    lines.append(f"{len(rows)} cases: detected {t['detected']:.0f} %, diagnosed "
                 f"{t['diagnosed']:.0f} %, fixed twin quiet {t['fixed_quiet']:.0f} %")
    return "\n".join(lines)


def run(logdir, *, quick=True, random_state=0, progress=True, cases=None) -> list[dict]:
    """Train both twins of every case and return the zoo table's rows.

    Parameters
    ----------
    logdir : str
    quick : bool, default=True
    random_state : int, default=0
    progress : bool, default=True
        Show a progress bar (tqdm).
    cases : sequence of str, optional
        Only these cases (names from :data:`CASES`).

    Returns
    -------
    list of dict
        One :func:`score_case` row per case, with both twins' final metrics.
    """
    from tqdm.auto import tqdm

    chosen = CASES if cases is None else [CASE_BY_NAME[c] for c in cases]
    rows = []
    for case in tqdm(chosen, desc="fault zoo", disable=not progress):
        buggy = run_case(case, logdir, bugged=True, quick=quick, random_state=random_state)
        fixed = run_case(case, logdir, bugged=False, quick=quick, random_state=random_state)
        rows.append(score_case(case, buggy.findings, fixed.findings,
                               buggy_metrics=final_metrics(buggy),
                               fixed_metrics=final_metrics(fixed)))
    return rows


def main(argv=None):
    parser = demo_parser("faultzoo", __doc__.splitlines()[0], full_help="train longer")
    parser.add_argument("--case", action="append", choices=sorted(CASE_BY_NAME),
                        help="run only this case (repeatable)")
    args = parser.parse_args(argv)
    rows = run(args.logdir, quick=not args.full, random_state=args.seed, cases=args.case)
    print(format_table(rows))
    t = totals(rows)
    return 0 if t["diagnosed"] >= 90 and t["fixed_quiet"] >= 95 else 1


if __name__ == "__main__":
    raise SystemExit(main())

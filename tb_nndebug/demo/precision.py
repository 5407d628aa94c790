"""The precision corpus: correct Keras 3 programs that must get no false alarm.

The bug zoo measures recall (a planted bug is found); this corpus measures
precision. Each case is a small, correct model of a kind people really
train — a Conv-BN-ReLU CNN on raw pixels rescaled in the model, text through
``TextVectorization`` and ``Embedding``, LSTM/GRU, a transformer block, a
VAE with its own ``train_step``, a custom loop on the summary API, a dict of
inputs, two outputs, mixed precision — fed to ``fit`` in every form ``fit``
takes (arrays, dicts, a shuffled ``tf.data.Dataset``, a ``PyDataset``, a
Python generator). The DebuggerCallback gets the training data exactly as
``fit`` does. A correct run must give no error or warning, no
``diagnostic.failed`` and per-layer signals for every layer with trainable
variables. Where a real bug applies, a bugged twin plants it (raw pixels with
no rescaling, a far too large learning rate, softmax with
``from_logits=True``...) and the planted finding must still come out.

Run ``python -m tb_nndebug.demo.precision --logdir runs`` (``--case NAME``
for one case, ``--full`` for larger subsets and more epochs) and open
``tensorboard --logdir runs`` → Debugger: runs ``precision/<case>`` and
``precision/<case>__twin``.
"""
from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

GROUP = "precision"
SERIOUS = ("error", "warning")


@dataclass(frozen=True)
class Case:
    """One correct program and, where a real bug applies, its bugged twin.

    Attributes
    ----------
    name : str
        Run name (``precision/<name>``, the twin ``precision/<name>__twin``).
    patterns : tuple of str
        What the case covers (layer kinds, input forms).
    description : str
    build : callable
        ``build(random_state, *, bugged, quick) -> Setup``.
    twin : str or None
        The bug the twin plants (None: no twin).
    planted : tuple of str
        Finding ids that must each appear as error or warning on the twin.
    policy : str
        Keras dtype policy while the case builds and trains ("float32" is
        restored afterwards).
    custom : callable or None
        ``custom(setup, logdir, *, debugger, random_state) -> (run, history)`` for a
        case that trains without ``fit`` (the custom loop).
    """

    name: str
    patterns: tuple
    description: str
    build: Callable
    twin: str | None = None
    planted: tuple = ()
    policy: str = "float32"
    custom: Callable | None = None


@dataclass
class Setup:
    """What one case trains: the model and the data in the form ``fit`` takes."""

    model: object
    x: object
    y: object = None
    fit_kwargs: dict = field(default_factory=dict)
    validation: object = None
    # the callback gets these; None means "the same object as x/y/validation"
    train_data: object = None
    validation_data: object = None


# ---------------------------------------------------------------- data

def _perm(n, random_state):
    return np.random.RandomState(random_state).permutation(n)


def mnist_images(random_state=0, *, n_train=1500, n_val=500):
    """Seeded subset of the bundled MNIST test set: uint8 (n, 28, 28, 1), 0..255."""
    from ..datasets import load_mnist_test

    X, y = load_mnist_test()
    idx = _perm(len(X), random_state)[: n_train + n_val]
    X, y = X[idx][..., None], y[idx].astype("int32")
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def cifar_images(random_state=0, *, n_train=1500, n_val=500):
    """Seeded subset of the bundled CIFAR-10 5k: uint8 (n, 32, 32, 3), 0..255."""
    from ..datasets import load_cifar10_5k

    (X, y), (Xt, yt) = load_cifar10_5k()
    i, j = _perm(len(X), random_state)[:n_train], _perm(len(Xt), random_state)[:n_val]
    return (X[i], y[i].astype("int32")), (Xt[j], yt[j].astype("int32"))


def digits_data(random_state=0, *, scale=True):
    """scikit-learn's 8x8 digits, stratified split: X (n, 64) in [0, 1] (or 0..16)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X.astype("float32") / (16.0 if scale else 1.0)
    Xtr, Xva, ytr, yva = train_test_split(X, y.astype("int32"), test_size=0.3, stratify=y,
                                          random_state=random_state)
    return (Xtr, ytr), (Xva, yva)


def creditcard_data(random_state=0, *, normal_per_fraud=3):
    """All frauds of the bundled credit-card sample and ``normal_per_fraud`` times as
    many normal transactions (raw features: Time in seconds, Amount in currency units),
    stratified 75/25 split."""
    from sklearn.model_selection import train_test_split

    from ..datasets import load_creditcard

    X, y, _ = load_creditcard()
    rng = np.random.RandomState(random_state)
    fraud, normal = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    keep = np.concatenate([fraud, rng.choice(normal, normal_per_fraud * len(fraud),
                                             replace=False)])
    X, y = X[keep].astype("float32"), y[keep].astype("int32")
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, stratify=y,
                                          random_state=random_state)
    return (Xtr, ytr), (Xva, yva)


def text_data(random_state=0, *, n_train=2400, n_val=600):
    """Synthetic topic-labelled documents (:mod:`tb_nndebug.demo.textdata`)."""
    texts, labels = _texts(n_train + n_val, random_state)
    labels = labels.astype("int32")
    return (texts[:n_train], labels[:n_train]), (texts[n_train:], labels[n_train:])


@functools.lru_cache(maxsize=4)
def _texts(n, random_state):
    from .textdata import make_text_classification

    texts, labels = make_text_classification(n, p_topic=0.25, random_state=random_state)
    labels.setflags(write=False)
    return tuple(texts), labels


def token_ids(random_state=0, *, n_train=2400, n_val=600, vocab=600, length=32):
    """:func:`text_data` turned into int32 token ids (n, length), 0 = padding, by a
    ``TextVectorization`` adapted on the training texts only."""
    import keras

    (ttr, ytr), (tva, yva) = text_data(random_state, n_train=n_train, n_val=n_val)
    vectorize = keras.layers.TextVectorization(max_tokens=vocab, output_sequence_length=length)
    vectorize.adapt(list(ttr))
    ids = [np.asarray(vectorize(list(t))).astype("int32") for t in (ttr, tva)]
    return (ids[0], ytr), (ids[1], yva), vectorize.vocabulary_size()


def series_data(random_state=0, *, n_train=900, n_val=300, length=96):
    """Seeded univariate series, three classes: a sine, a square wave and a
    sawtooth of random period, phase and amplitude, plus noise. (n, length, 1)."""
    rng = np.random.RandomState(random_state)
    n = n_train + n_val
    y = rng.permutation(np.arange(n) % 3).astype("int32")
    t = np.arange(length)[None, :]
    period = rng.uniform(12, 30, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    amp = rng.uniform(0.5, 1.5, size=(n, 1))
    arg = 2 * np.pi * t / period + phase
    waves = np.stack([np.sin(arg), np.sign(np.sin(arg)),
                      2 * ((arg / (2 * np.pi)) % 1.0) - 1], axis=0)
    X = amp * waves[y, np.arange(n)] + rng.normal(0, 0.3, size=(n, length))
    X = X[..., None].astype("float32")
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def customers_data(random_state=0, *, n_train=1200, n_val=400):
    """A seeded table of customers as a dict of columns (what a CSV gives):
    ``age`` in years, ``income`` in currency units, ``visits`` a count and
    ``plan`` a string category; target: did the customer churn (0/1)."""
    rng = np.random.RandomState(random_state)
    n = n_train + n_val
    age = rng.uniform(18, 80, n)
    income = rng.lognormal(10.5, 0.5, n)
    visits = rng.poisson(4, n).astype("float64")
    plans = np.array(["basic", "plus", "pro", "family"])
    plan_idx = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    logit = (-0.06 * (age - 45) - 0.5 * (visits - 4) + np.array([1.0, 0.0, -1.0, -0.5])[plan_idx]
             - 0.8 * (np.log(income) - 10.5) + rng.logistic(0, 0.5, n) * 0.5)
    y = (logit > 0).astype("int32")
    cols = {"age": age.astype("float32")[:, None], "income": income.astype("float32")[:, None],
            "visits": visits.astype("float32")[:, None], "plan": plans[plan_idx][:, None]}

    def part(sl):
        import tensorflow as tf

        # Keras 3 (TensorFlow) takes a string column as a tf.string tensor
        return {k: tf.constant(v[sl]) if k == "plan" else v[sl] for k, v in cols.items()}, y[sl]

    return part(slice(0, n_train)), part(slice(n_train, n))


def regression_data(random_state=0, *, n_train=1200, n_val=400, n_features=8):
    """Seeded smooth regression: y = a non-linear function of 8 standard-normal
    features plus noise, in units of 100 k (std about 1)."""
    rng = np.random.RandomState(random_state)
    n = n_train + n_val
    X = rng.normal(size=(n, n_features)).astype("float32")
    w = rng.normal(size=n_features)
    y = (np.tanh(X @ w / 3) * 1.5 + 0.5 * np.sin(X[:, 0] * 2) + 0.3 * X[:, 1] * X[:, 2]
         + 2.0 + rng.normal(0, 0.1, n)).astype("float32")
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


# ---------------------------------------------------------------- building blocks

def _always_dropout(rate, name="always_dropout"):
    """The planted bug of dropout twins: a Dropout that ignores ``training``."""
    import keras

    class AlwaysDropout(keras.layers.Dropout):
        def call(self, inputs, training=None):
            return super().call(inputs, training=True)

    return AlwaysDropout(rate, name=name)


def _cls_compile(model, *, lr=3e-3, bugged_logits=False, optimizer=None):
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=bugged_logits)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(lr), loss=loss,
                  metrics=["accuracy"])
    return model


def _sgd(lr):
    import keras

    return keras.optimizers.SGD(learning_rate=lr)


def _scale(quick, small, large):
    return small if quick else large


# ---------------------------------------------------------------- cases

def build_mnist_cnn(rs, *, bugged, quick):
    """Conv-BN-ReLU x2 on raw uint8 MNIST, rescaled inside the model."""
    import keras
    from keras import layers

    tr, va = mnist_images(rs, n_train=_scale(quick, 1200, 6000), n_val=500)
    inp = keras.Input((28, 28, 1), name="pixels")
    h = inp if bugged else layers.Rescaling(1 / 255, name="rescale")(inp)
    for i, width in enumerate((16, 32)):
        h = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(h)
        h = layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(h)
        h = layers.ReLU(name=f"relu{i}")(h)
        h = layers.MaxPooling2D(name=f"pool{i}")(h)
    h = layers.Flatten()(h)
    out = layers.Dense(10, activation="softmax", name="digit")(h)
    model = _cls_compile(keras.Model(inp, out, name="mnist_cnn"), lr=2e-3)
    return Setup(model, *tr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 3, 6), "batch_size": 64})


def build_cifar_residual(rs, *, bugged, quick):
    """Augmentation + a residual block with a 1x1 projection shortcut, on a shuffled
    batched tf.data pipeline of raw CIFAR-10 pixels."""
    import keras
    import tensorflow as tf
    from keras import layers

    (Xtr, ytr), va = cifar_images(rs, n_train=_scale(quick, 1200, 5000), n_val=500)
    inp = keras.Input((32, 32, 3), name="image")
    h = layers.Rescaling(1 / 255, name="rescale")(inp)
    h = layers.RandomFlip("horizontal", seed=rs, name="flip")(h)
    h = layers.RandomRotation(0.05, seed=rs, name="rotate")(h)
    h = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem")(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.9, name="stem_bn")(h))
    shortcut = layers.Conv2D(32, 1, strides=2, name="projection")(h)
    r = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="res_a")(h)
    r = layers.ReLU()(layers.BatchNormalization(momentum=0.9, name="res_a_bn")(r))
    r = layers.Conv2D(32, 3, padding="same", use_bias=False, name="res_b")(r)
    r = layers.BatchNormalization(momentum=0.9, name="res_b_bn")(r)
    h = layers.ReLU()(layers.Add(name="merge")([shortcut, r]))
    h = layers.GlobalAveragePooling2D()(h)
    out = layers.Dense(10, activation="softmax", name="label")(h)
    model = _cls_compile(keras.Model(inp, out, name="cifar_resnet"),
                         optimizer=_sgd(30.0) if bugged else keras.optimizers.Adam(3e-3))
    ds = (tf.data.Dataset.from_tensor_slices((Xtr, ytr))
          .shuffle(len(Xtr), seed=rs).batch(64).prefetch(2))
    return Setup(model, ds, validation=va, fit_kwargs={"epochs": _scale(quick, 4, 10)})


def digit_images(X, y, batch_size=32, seed=0):
    """A ``keras.utils.PyDataset`` of 8x8x1 digit batches, reshuffled every epoch."""
    import keras

    class DigitImages(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.X, self.y, self.batch_size = X.reshape(-1, 8, 8, 1), y, batch_size
            self.rng = np.random.RandomState(seed)
            self.order = self.rng.permutation(len(X))

        def __len__(self):
            return math.ceil(len(self.X) / self.batch_size)

        def __getitem__(self, i):
            idx = self.order[i * self.batch_size:(i + 1) * self.batch_size]
            return self.X[idx], self.y[idx]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(self.X))

    return DigitImages()


def build_digits_separable(rs, *, bugged, quick):
    """SeparableConv2D and DepthwiseConv2D on 8x8 digits, fit on a PyDataset."""
    import keras
    from keras import layers

    (Xtr, ytr), (Xva, yva) = digits_data(rs)
    inp = keras.Input((8, 8, 1), name="digit_image")
    h = layers.SeparableConv2D(32, 3, padding="same", activation="relu", name="sep")(inp)
    h = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="depthwise")(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.9, name="dw_bn")(h))
    h = layers.Conv2D(32, 1, activation="relu", name="pointwise")(h)
    h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    out = layers.Dense(10, activation="softmax", name="digit")(h)
    model = _cls_compile(keras.Model(inp, out, name="digits_separable"), bugged_logits=bugged)
    return Setup(model, digit_images(Xtr, ytr, 32, rs), validation=(Xva.reshape(-1, 8, 8, 1), yva),
                 train_data=digit_images(Xtr, ytr, 32, rs),
                 fit_kwargs={"epochs": _scale(quick, 5, 15)})


def build_creditcard(rs, *, bugged, quick):
    """Fraud detection on raw tabular features, standardised by an in-model
    Normalization layer adapted on the training set."""
    import keras
    from keras import layers

    (Xtr, ytr), va = creditcard_data(rs)
    inp = keras.Input((Xtr.shape[1],), name="transaction")
    h = inp
    if not bugged:
        norm = layers.Normalization(name="standardise")
        norm.adapt(Xtr)
        h = norm(h)
    h = layers.Dense(32, activation="relu", name="hidden1")(h)
    h = layers.Dropout(0.2)(h)
    h = layers.Dense(16, activation="relu", name="hidden2")(h)
    out = layers.Dense(1, activation="sigmoid", name="fraud")(h)
    model = keras.Model(inp, out, name="fraud_mlp")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return Setup(model, Xtr, ytr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 5, 20), "batch_size": 32})


def build_text_strings(rs, *, bugged, quick):
    """Raw strings into the model: TextVectorization, Embedding, Conv1D, pooling."""
    import keras
    import tensorflow as tf
    from keras import layers

    (ttr, ytr), (tva, yva) = text_data(rs)
    vectorize = layers.TextVectorization(max_tokens=600, output_sequence_length=32,
                                         name="vectorize")
    vectorize.adapt(list(ttr))
    inp = keras.Input((1,), dtype="string", name="text")
    h = vectorize(inp)
    h = layers.Embedding(vectorize.vocabulary_size(), 16, name="embed")(h)
    h = layers.Conv1D(32, 3, activation="relu", name="conv")(h)
    h = layers.GlobalMaxPooling1D()(h)
    h = (_always_dropout(0.5) if bugged else layers.Dropout(0.3, name="dropout"))(h)
    out = layers.Dense(3, activation="softmax", name="topic")(h)
    model = _cls_compile(keras.Model(inp, out, name="text_cnn"))
    # Keras 3 (TensorFlow) takes strings as a tf.string tensor, not a numpy array
    xtr, xva = tf.constant(list(ttr))[:, None], tf.constant(list(tva))[:, None]
    return Setup(model, xtr, ytr, validation=(xva, yva),
                 fit_kwargs={"epochs": _scale(quick, 3, 10), "batch_size": 32})



def id_batches(X, y, batch_size=32, seed=0):
    """An endless Python generator of shuffled ``(ids, labels)`` batches (``fit``
    takes one with ``steps_per_epoch``)."""
    rng = np.random.RandomState(seed)
    while True:
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            yield X[idx], y[idx]


def build_text_ids(rs, *, bugged, quick):
    """Integer token ids fed to Embedding + GlobalAveragePooling1D, fit on a Python
    generator."""
    import keras
    from keras import layers

    (Xtr, ytr), va, vocab = token_ids(rs)
    inp = keras.Input((Xtr.shape[1],), dtype="int32", name="token_ids")
    h = layers.Embedding(vocab, 24, name="embed")(inp)
    h = layers.GlobalAveragePooling1D()(h)
    if bugged:  # two Dense layers with no activation: one linear map in disguise
        h = layers.Dense(32, name="hidden1")(h)
        h = layers.Dense(32, name="hidden2")(h)
    else:
        h = layers.Dense(32, activation="relu", name="hidden")(h)
    out = layers.Dense(3, activation="softmax", name="topic")(h)
    model = _cls_compile(keras.Model(inp, out, name="text_bag"), lr=3e-3)
    batch = 32
    return Setup(model, id_batches(Xtr, ytr, batch, rs), validation=va,
                 train_data=id_batches(Xtr, ytr, batch, rs),
                 fit_kwargs={"epochs": _scale(quick, 4, 12),
                             "steps_per_epoch": math.ceil(len(Xtr) / batch)})


def build_lstm(rs, *, bugged, quick):
    """An LSTM over embedded token ids (padding masked)."""
    import keras
    from keras import layers

    (Xtr, ytr), va, vocab = token_ids(rs, length=24)
    inp = keras.Input((Xtr.shape[1],), dtype="int32", name="token_ids")
    h = layers.Embedding(vocab, 16, mask_zero=True, name="embed")(inp)
    h = layers.LSTM(24, name="lstm")(h)
    out = layers.Dense(3, activation="softmax", name="topic")(h)
    model = _cls_compile(keras.Model(inp, out, name="text_lstm"),
                         optimizer=_sgd(80.0) if bugged else keras.optimizers.Adam(5e-3))
    return Setup(model, Xtr, ytr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 3, 8), "batch_size": 32})


def build_gru(rs, *, bugged, quick):
    """A GRU reading the 8x8 digits row by row (8 steps of 8 pixels)."""
    import keras
    from keras import layers

    (Xtr, ytr), (Xva, yva) = digits_data(rs)
    inp = keras.Input((8, 8), name="rows")
    h = layers.GRU(32, name="gru")(inp)
    out = layers.Dense(10, activation="softmax", name="digit")(h)
    model = _cls_compile(keras.Model(inp, out, name="digits_gru"),
                         optimizer=_sgd(1e-5) if bugged else keras.optimizers.Adam(1e-2))
    return Setup(model, Xtr.reshape(-1, 8, 8), ytr, validation=(Xva.reshape(-1, 8, 8), yva),
                 fit_kwargs={"epochs": _scale(quick, 5, 15), "batch_size": 32})


def _token_and_position():
    from keras import layers, ops

    class TokenAndPosition(layers.Layer):
        """Token embedding plus a learned position embedding (a layer with sub-layers)."""

        def __init__(self, length, vocab, dim, **kwargs):
            super().__init__(**kwargs)
            self.length = length
            self.tokens = layers.Embedding(vocab, dim, name="tokens")
            self.positions = layers.Embedding(length, dim, name="positions")

        def call(self, ids):
            return self.tokens(ids) + self.positions(ops.arange(self.length))[None]

    return TokenAndPosition


def build_transformer(rs, *, bugged, quick):
    """One transformer encoder block: MultiHeadAttention, residuals, LayerNormalization,
    a position-wise feed-forward net, on token ids."""
    import keras
    from keras import layers

    (Xtr, ytr), va, vocab = token_ids(rs, length=24)
    dim = 16
    inp = keras.Input((Xtr.shape[1],), dtype="int32", name="token_ids")
    x = _token_and_position()(Xtr.shape[1], vocab, dim, name="embed")(inp)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1, name="attention")(x, x)
    x = layers.LayerNormalization(name="ln1")(layers.Add()([x, layers.Dropout(0.1)(att)]))
    ff = layers.Dense(32, activation="relu", name="ff1")(x)
    ff = layers.Dense(dim, name="ff2")(ff)
    x = layers.LayerNormalization(name="ln2")(layers.Add()([x, ff]))
    x = layers.Dropout(0.3)(layers.GlobalAveragePooling1D()(x))
    out = layers.Dense(3, activation="softmax", name="topic")(x)
    model = _cls_compile(keras.Model(inp, out, name="text_transformer"), lr=1e-3,
                         bugged_logits=bugged)
    return Setup(model, Xtr, ytr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 3, 8), "batch_size": 32})


def build_series_conv(rs, *, bugged, quick):
    """Conv1D-BN-ReLU x2 and global pooling on synthetic seeded wave series."""
    import keras
    from keras import layers

    tr, va = series_data(rs)
    inp = keras.Input(tr[0].shape[1:], name="series")
    h = inp
    for i, width in enumerate((16, 32)):
        h = layers.Conv1D(width, 5, padding="same", use_bias=False, name=f"conv{i}")(h)
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(h))
    h = layers.GlobalAveragePooling1D()(h)
    out = layers.Dense(3, activation="softmax", name="wave")(h)
    model = _cls_compile(keras.Model(inp, out, name="series_cnn"),
                         optimizer=_sgd(30.0) if bugged else keras.optimizers.Adam(3e-3))
    return Setup(model, *tr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 5, 15), "batch_size": 32})


def build_structured(rs, *, bugged, quick):
    """Named inputs fit on a dict of columns: two numeric columns standardised in the
    model, a count, and a string category through StringLookup (one-hot)."""
    import keras
    from keras import layers

    (ctr, ytr), va = customers_data(rs)
    inputs = {"age": keras.Input((1,), name="age"), "income": keras.Input((1,), name="income"),
              "visits": keras.Input((1,), name="visits"),
              "plan": keras.Input((1,), dtype="string", name="plan")}
    parts = []
    for col in ("age", "income", "visits"):
        norm = layers.Normalization(name=f"{col}_norm")
        # income spans orders of magnitude: standardise its log
        values = np.log(ctr[col]) if col == "income" else ctr[col]
        norm.adapt(values)
        x = layers.Lambda(lambda v: keras.ops.log(v), name="log_income")(inputs[col]) \
            if col == "income" else inputs[col]
        parts.append(norm(x))
    lookup = layers.StringLookup(vocabulary=["basic", "plus", "pro", "family"],
                                 output_mode="one_hot", name="plan_lookup")
    parts.append(lookup(inputs["plan"]))
    h = layers.Concatenate()(parts)
    if bugged:
        h = layers.Dense(32, name="hidden1")(h)
        h = layers.Dense(16, name="hidden2")(h)
    else:
        h = layers.Dense(32, activation="relu", name="hidden1")(h)
        h = layers.Dense(16, activation="relu", name="hidden2")(h)
    out = layers.Dense(1, activation="sigmoid", name="churn")(h)
    model = keras.Model(inputs, out, name="churn")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return Setup(model, ctr, ytr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 5, 15), "batch_size": 32})


def build_multi_output(rs, *, bugged, quick):
    """A shared trunk with two heads: which digit (softmax) and is it >= 5 (sigmoid)."""
    import keras
    from keras import layers

    (Xtr, ytr), (Xva, yva) = digits_data(rs)
    inp = keras.Input((64,), name="pixels")
    h = layers.Dense(64, activation="relu", name="trunk1")(inp)
    h = layers.Dense(32, activation="relu", name="trunk2")(h)
    digit = layers.Dense(10, activation="softmax", name="digit")(h)
    big = layers.Dense(1, activation="sigmoid", name="big")(h)
    model = keras.Model(inp, {"digit": digit, "big": big}, name="two_heads")
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss={"digit": keras.losses.SparseCategoricalCrossentropy(from_logits=bugged),
              "big": keras.losses.BinaryCrossentropy()},
        metrics={"digit": ["accuracy"], "big": ["accuracy"]})

    def targets(y):
        return {"digit": y, "big": (y >= 5).astype("float32")[:, None]}

    return Setup(model, Xtr, targets(ytr), validation=(Xva, targets(yva)),
                 fit_kwargs={"epochs": _scale(quick, 6, 20), "batch_size": 32})


def build_regression(rs, *, bugged, quick):
    """An MLP regressor, MSE, continuous targets in units of 100 k (the twin: the
    same targets in plain currency units, never scaled)."""
    import keras
    from keras import layers

    (Xtr, ytr), (Xva, yva) = regression_data(rs)
    if bugged:
        ytr, yva = ytr * 100_000, yva * 100_000
    model = keras.Sequential([
        keras.Input((Xtr.shape[1],), name="features"),
        layers.Dense(64, activation="relu", name="hidden1"),
        layers.Dense(32, activation="relu", name="hidden2"),
        layers.Dense(1, name="price")], name="price_mlp")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse", metrics=["mae"])
    return Setup(model, Xtr, ytr, validation=(Xva, yva),
                 fit_kwargs={"epochs": _scale(quick, 6, 20), "batch_size": 32})


def build_autoencoder(rs, *, bugged, quick):
    """A convolutional autoencoder on MNIST, (x, x) targets of shape (28, 28, 1),
    sigmoid output against pixels in [0, 1] (the twin forgets to scale them)."""
    import keras
    from keras import layers

    (Xtr, _), (Xva, _) = mnist_images(rs, n_train=_scale(quick, 1500, 6000), n_val=500)
    if not bugged:
        Xtr, Xva = Xtr.astype("float32") / 255.0, Xva.astype("float32") / 255.0
    else:
        Xtr, Xva = Xtr.astype("float32"), Xva.astype("float32")
    inp = keras.Input((28, 28, 1), name="image")
    h = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="enc1")(inp)
    h = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="enc2")(h)
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu",
                               name="dec1")(h)
    h = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu",
                               name="dec2")(h)
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction")(h)
    model = keras.Model(inp, out, name="conv_autoencoder")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    return Setup(model, Xtr, Xtr, validation=(Xva, Xva),
                 fit_kwargs={"epochs": _scale(quick, 3, 10), "batch_size": 64})


def _vae_class():
    import keras
    import tensorflow as tf
    from keras import ops

    class VAE(keras.Model):
        """Encoder and decoder as functional sub-models; the loss (reconstruction +
        KL) is computed in ``train_step`` / ``test_step``, no compiled loss."""

        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder = encoder, decoder
            self.seeds = keras.random.SeedGenerator(0)
            self.total = keras.metrics.Mean(name="loss")
            self.recon = keras.metrics.Mean(name="reconstruction_loss")
            self.kl = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.total, self.recon, self.kl]

        def _vae_losses(self, x):
            z_mean, z_log_var = self.encoder(x)
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seeds)
            z = z_mean + ops.exp(0.5 * z_log_var) * eps
            x_hat = self.decoder(z)
            recon = ops.mean(ops.sum(keras.losses.binary_crossentropy(
                x[..., None], x_hat[..., None]), axis=-1))
            kl = ops.mean(-0.5 * ops.sum(1 + z_log_var - ops.square(z_mean)
                                         - ops.exp(z_log_var), axis=-1))
            return recon, kl

        def _update(self, recon, kl):
            for metric, value in ((self.total, recon + kl), (self.recon, recon), (self.kl, kl)):
                metric.update_state(value)
            return {m.name: m.result() for m in self.metrics}

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            with tf.GradientTape() as tape:
                recon, kl = self._vae_losses(x)
                loss = recon + kl
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return self._update(recon, kl)

        def test_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            return self._update(*self._vae_losses(x))

    return VAE


def build_vae(rs, *, bugged, quick):
    """A VAE on digits: a subclassed model wrapping a functional encoder (z_mean and
    z_log_var heads, linear by design) and decoder; loss in ``train_step``."""
    import keras
    from keras import layers

    (Xtr, _), (Xva, _) = digits_data(rs)
    latent = 4
    x_in = keras.Input((64,), name="pixels")
    h = layers.Dense(64, activation="relu", name="enc_hidden")(x_in)
    encoder = keras.Model(x_in, [layers.Dense(latent, name="z_mean")(h),
                                 layers.Dense(latent, name="z_log_var")(h)], name="encoder")
    z_in = keras.Input((latent,), name="z")
    h = layers.Dense(64, activation="relu", name="dec_hidden")(z_in)
    decoder = keras.Model(z_in, layers.Dense(64, activation="sigmoid", name="pixels_hat")(h),
                          name="decoder")
    model = _vae_class()(encoder, decoder, name="vae")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return Setup(model, Xtr, validation=(Xva,),
                 fit_kwargs={"epochs": _scale(quick, 5, 20), "batch_size": 32})


def build_mixed_precision(rs, *, bugged, quick):
    """An MLP on raw MNIST pixels under the mixed_float16 policy: Rescaling in the
    model, softmax in float32 as the mixed-precision guide asks."""
    import keras
    from keras import layers

    (Xtr, ytr), (Xva, yva) = mnist_images(rs, n_train=_scale(quick, 1500, 8000), n_val=500)
    model = keras.Sequential([
        keras.Input((28, 28, 1), name="pixels"),
        layers.Rescaling(1 / 255, name="rescale"),
        layers.Flatten(),
        layers.Dense(128, activation="relu", name="hidden1"),
        layers.Dense(64, activation="relu", name="hidden2"),
        layers.Dense(10, name="logits"),
        layers.Activation("softmax", dtype="float32", name="probabilities")],
        name="mnist_mixed")
    _cls_compile(model, lr=2e-3, bugged_logits=bugged)
    return Setup(model, Xtr, ytr, validation=(Xva, yva),
                 fit_kwargs={"epochs": _scale(quick, 3, 10), "batch_size": 64})


# ---------------------------------------------------------------- custom loop

def _layer_groups(model):
    """``[(layer path, [variables])]``: trainable variables grouped by the path of
    the layer that owns them, input side first."""
    groups: dict = {}
    for v in model.trainable_variables:
        groups.setdefault(v.path.rsplit("/", 1)[0], []).append(v)
    return list(groups.items())


def build_custom_loop(rs, *, bugged, quick):
    """A GradientTape loop on digits, logged with the summary API (no fit, no callback)."""
    import keras
    from keras import layers

    tr, va = digits_data(rs)
    model = keras.Sequential([
        keras.Input((64,), name="pixels"),
        layers.Dense(48, activation="relu", name="hidden"),
        layers.Dense(10, name="logits")], name="loop_mlp")
    lr = 5.0 if bugged else 1e-2
    return Setup(model, *tr, validation=va,
                 fit_kwargs={"epochs": _scale(quick, 5, 20), "batch_size": 64,
                             "learning_rate": lr})


def train_custom_loop(setup, logdir, *, debugger=True, random_state=0):
    """Train :func:`build_custom_loop`'s model by hand and write the debugger's
    records with ``tb_nndebug.summary``; read them back and diagnose them.

    Returns
    -------
    (run, history)
        ``run`` has ``findings``, ``records``, ``model``, ``run_dir`` (as a
        callback does); ``history.history`` the per-epoch logs.
    """
    import keras
    import tensorflow as tf

    from .. import diagnose, summary
    from ..measures import dataset_complexity
    from ..records.reading import read_records

    model = setup.model
    X, y = setup.x, setup.y
    Xv, yv = setup.validation
    kw = setup.fit_kwargs
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(kw["learning_rate"])
    run_dir = os.path.join(os.fspath(logdir), "debugger")
    writer = tf.summary.create_file_writer(run_dir) if debugger else None
    groups = _layer_groups(model)
    probe = np.sort(np.random.RandomState(random_state).choice(len(X), 256, replace=False))
    Xp, yp = tf.constant(X[probe]), tf.constant(y[probe])

    if writer is not None:
        with writer.as_default():
            summary.dataset("train", X, y, step=0)
            summary.model("model", model, step=0, complexity=dataset_complexity(X, y))
            summary.checks("checks", {
                "optimizer": "Adam", "learning_rate": kw["learning_rate"],
                "loss": {"name": "sparse_categorical_crossentropy", "from_logits": True},
                "output_activation": "linear", "n_outputs": 10,
                "label_range": [float(y.min()), float(y.max())],
                "input_range": [float(X.min()), float(X.max())],
                "input_mean": float(X.mean()), "input_std": float(X.std()),
                "batch_size": kw["batch_size"], "epochs_planned": kw["epochs"],
                "steps_per_epoch": math.ceil(len(X) / kw["batch_size"]),
                "n_train_samples": len(X), "train_data_given": True,
                "validation_data_given": True, "probe_size": len(probe),
                "initial_loss": float(loss_fn(yp, model(Xp, training=False))),
            }, step=0)

    batches = (tf.data.Dataset.from_tensor_slices((X, y))
               .shuffle(len(X), seed=random_state).batch(kw["batch_size"]))
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    kernels = [v for v in model.trainable_variables if len(v.shape) >= 2]
    before = [np.array(v.numpy()) for v in kernels]
    for epoch in range(kw["epochs"]):
        losses, hits = [], 0
        for xb, yb in batches:
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = loss_fn(yb, logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            losses.append(float(loss) * len(xb))
            hits += int(np.sum(np.argmax(logits, axis=1) == yb.numpy()))
        val_logits = model(Xv, training=False)
        history["loss"].append(sum(losses) / len(X))
        history["accuracy"].append(hits / len(X))
        history["val_loss"].append(float(loss_fn(yv, val_logits)))
        history["val_accuracy"].append(float(np.mean(np.argmax(val_logits, axis=1) == yv)))
        if writer is None:
            continue
        with tf.GradientTape() as tape:
            probe_loss = loss_fn(yp, model(Xp, training=False))
        variables = [v for _, vs in groups for v in vs]
        grads = tape.gradient(probe_loss, variables)
        grad_norms, total, i = [], 0.0, 0
        for path, vs in groups:
            gs = grads[i:i + len(vs)]
            i += len(vs)
            known = [g for g in gs if g is not None]
            sq = sum(float(tf.reduce_sum(tf.square(g))) for g in known)
            total += sq
            grad_norms.append({"layer": path, "norm": math.sqrt(sq) if known else None,
                               "weighted": any(len(v.shape) >= 2 for v in vs),
                               "variables": len(vs)})
        now = [v.numpy() for v in kernels]
        moved = math.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(now, before)))
        size = math.sqrt(sum(float(np.sum(b ** 2)) for b in before))
        before = [np.array(a) for a in now]
        with writer.as_default():
            summary.training("training", {
                "epoch": epoch, "epochs_planned": kw["epochs"],
                "history": {k: list(v) for k, v in history.items()},
                "learning_rate": kw["learning_rate"], "grad_norms": grad_norms,
                "grad_norm_total": math.sqrt(total),
                "probe_loss": float(probe_loss),
                "probe_loss_finite": bool(np.isfinite(float(probe_loss))),
                "weight_update_ratio": moved / size if size else None,
            }, step=epoch)
    run = SimpleNamespace(findings=[], records={}, model=model, run_dir=run_dir)
    if writer is not None:
        writer.close()
        run.records = read_records(run_dir)
        run.findings = diagnose(run.records)
    return run, SimpleNamespace(history=history)


# ---------------------------------------------------------------- the corpus

CASES = (
    Case("mnist_cnn_bn", ("Conv-BN-ReLU", "Rescaling", "uint8 pixels", "arrays"),
         "MNIST 28x28x1 raw uint8, Rescaling(1/255), Conv-BN-ReLU x2", build_mnist_cnn,
         "raw 0..255 pixels, no Rescaling", ("data.not_normalized",)),
    Case("cifar_residual_tfdata", ("augmentation", "residual 1x1 projection + Add",
                                   "shuffled batched tf.data"),
         "CIFAR-10 RandomFlip/RandomRotation, residual block, tf.data pipeline",
         build_cifar_residual, "SGD learning rate 30", ("training.lr_too_high",)),
    Case("digits_separable_pydataset", ("SeparableConv2D", "DepthwiseConv2D", "PyDataset"),
         "digits 8x8x1, separable + depthwise convs, keras.utils.PyDataset",
         build_digits_separable, "softmax output with from_logits=True",
         ("training.logits_mismatch",)),
    Case("creditcard_normalization", ("Normalization adapted in the model", "tabular"),
         "credit-card fraud, raw features, in-model Normalization", build_creditcard,
         "no Normalization: Time and Amount raw", ("data.not_normalized",)),
    Case("text_strings", ("string inputs", "TextVectorization", "Embedding", "Conv1D"),
         "synthetic topics, strings into the model, Embedding + Conv1D + max pooling",
         build_text_strings, "dropout kept on at inference",
         ("training.dropout_at_inference",)),
    Case("text_ids_generator", ("integer token ids", "Embedding", "GlobalAveragePooling1D",
                                "Python generator"),
         "token ids into Embedding + average pooling, fit on a generator", build_text_ids,
         "two stacked Dense layers without activation", ("model.linear_hidden",)),
    Case("text_lstm", ("LSTM", "masked Embedding"), "token ids, Embedding(mask_zero) + LSTM",
         build_lstm, "SGD learning rate 80", ("training.lr_too_high",)),
    Case("digits_gru", ("GRU",), "digits read row by row by a GRU", build_gru,
         "SGD learning rate 1e-5", ("training.lr_too_low",)),
    Case("text_transformer", ("MultiHeadAttention", "LayerNormalization",
                              "custom layer with sub-layers"),
         "a transformer encoder block on token ids", build_transformer,
         "softmax output with from_logits=True", ("training.logits_mismatch",)),
    Case("series_conv1d_bn", ("Conv1D", "BatchNormalization", "time series"),
         "synthetic wave series, Conv1D-BN-ReLU x2", build_series_conv,
         "SGD learning rate 30", ("training.lr_too_high",)),
    Case("structured_dict", ("dict of named inputs", "StringLookup", "Normalization"),
         "customer churn table as a dict of columns", build_structured,
         "two stacked Dense layers without activation", ("model.linear_hidden",)),
    Case("multi_output", ("two heads", "two losses"),
         "digits: which digit (softmax) and is it >= 5 (sigmoid)", build_multi_output,
         "softmax head with from_logits=True", ("training.logits_mismatch",)),
    Case("regression_mse", ("regression", "MSE", "continuous targets"),
         "MLP regressor on seeded smooth data", build_regression,
         "targets in plain currency units (x100000)", ("data.targets_not_scaled",)),
    Case("conv_autoencoder", ("autoencoder", "(x, x) targets", "3-D targets",
                              "Conv2DTranspose"),
         "MNIST convolutional autoencoder, sigmoid + binary cross-entropy",
         build_autoencoder, "pixels left at 0..255 for input and target",
         ("data.not_normalized", "training.labels_out_of_range")),
    Case("vae_train_step", ("VAE", "custom train_step", "nested functional sub-models",
                            "no compiled loss", "x-only fit"),
         "digits VAE, subclassed model, loss in train_step", build_vae),
    Case("custom_loop_summary", ("custom training loop", "summary API"),
         "GradientTape loop on digits, records written with tb_nndebug.summary",
         build_custom_loop, "Adam learning rate 5", ("training.lr_too_high",),
         custom=train_custom_loop),
    Case("mnist_mixed_precision", ("mixed_float16", "Rescaling", "float32 softmax"),
         "MLP on raw MNIST under mixed precision", build_mixed_precision,
         "softmax output with from_logits=True", ("training.logits_mismatch",),
         policy="mixed_float16"),
)
CASE_BY_NAME = {c.name: c for c in CASES}


# ---------------------------------------------------------------- running and scoring

def run_case(case: Case, logdir, *, bugged=False, quick=True, random_state=0, debugger=True,
             verbose=0):
    """Build and train one case (or its twin) with the DebuggerCallback.

    Parameters
    ----------
    case : Case
    logdir : str or os.PathLike
        The run's log directory (the callback writes ``<logdir>/debugger``).
    bugged : bool, default=False
        Train the bugged twin.
    quick : bool, default=True
        Small subsets and few epochs (seconds per case).
    random_state : int, default=0
        ``keras.utils.set_random_seed`` before building, and the data's seed.
    debugger : bool, default=True
        False trains without the callback (to check it does not change training).
    verbose : int, default=0
        The callback's ``verbose``.

    Returns
    -------
    (callback or None, history)
    """
    import keras

    from ..callback import DebuggerCallback

    if bugged and case.twin is None:
        raise ValueError(f"case {case.name!r} has no bugged twin")
    keras.mixed_precision.set_global_policy(case.policy)
    try:
        keras.utils.set_random_seed(random_state)
        setup = case.build(random_state, bugged=bugged, quick=quick)
        if case.custom is not None:
            return case.custom(setup, logdir, debugger=debugger, random_state=random_state)
        callbacks = []
        cb = None
        if debugger:
            train = setup.train_data
            if train is None:  # exactly what fit gets: (x, y), or x alone
                train = setup.x if setup.y is None else (setup.x, setup.y)
            val = setup.validation_data if setup.validation_data is not None \
                else setup.validation
            try:
                cb = DebuggerCallback(os.fspath(logdir), train_data=train, validation_data=val,
                                      verbose=verbose, random_state=random_state)
            except Exception as exc:
                exc.add_note(_CONSTRUCTOR_NOTE)
                raise
            callbacks.append(cb)
        kwargs = dict(setup.fit_kwargs)
        if setup.validation is not None:
            kwargs["validation_data"] = setup.validation
        history = setup.model.fit(setup.x, setup.y, verbose=0, callbacks=callbacks, **kwargs)
        return cb, history
    finally:
        keras.mixed_precision.set_global_policy("float32")


_CONSTRUCTOR_NOTE = "raised by the DebuggerCallback constructor"


def serious(findings):
    """The error and warning findings."""
    return [f for f in findings if f.severity in SERIOUS]


def unexplained(unmonitored, records) -> list[str]:
    """The unmonitored layers the callback gave no reason for (``checks.unmonitored``
    lists each layer it cannot cover with why, and says it once as info)."""
    checks = (records.get("checks") or [{}])[-1].get("value") or {}
    stated = {u.get("layer") for u in checks.get("unmonitored") or [] if isinstance(u, dict)}
    return [layer for layer in unmonitored if layer not in stated]


def unmonitored_layers(model, records) -> list[str]:
    """Paths of the layers with trainable variables that the latest ``training``
    record's ``grad_norms`` does not cover (missing, or norm None).

    A variable ``a/b/kernel`` is covered by an entry whose layer is ``a/b`` or an
    ancestor path (``a``), so the grouping may be per leaf layer or per block.
    """
    import keras

    entries = (_latest_training(records) or {}).get("grad_norms") or []
    # a Sequential model (only) prefixes its variables' paths with its own name; a
    # functional model's layer may share the model's name ("churn" in "churn")
    prefix = f"{model.name}/" if isinstance(model, keras.Sequential) else None

    def bare(path):
        return path[len(prefix):] if prefix and path.startswith(prefix) else path

    covered = [bare(str(e.get("layer"))) for e in entries
               if isinstance(e, dict) and e.get("norm") is not None]
    missing = []
    for path, _ in _layer_groups(model):
        path = bare(path)
        # an entry may name the layer, a block holding it, or one of its variables
        if not any(path == c or path.startswith(c + "/") or c.startswith(path + "/")
                   for c in covered):
            missing.append(path)
    return missing


def _latest_training(records):
    """The newest ``training`` document of ``records`` (one entry per tag; an entry
    is the document or holds it under ``value``)."""
    docs = []
    for entry in (records or {}).get("training") or []:
        doc = entry.get("value", entry) if isinstance(entry, dict) else None
        if isinstance(doc, dict):
            docs.append(doc)
    return max(docs, key=lambda d: d.get("epoch") or 0) if docs else None


def _final(history) -> dict:
    out = {}
    for key, values in (history.history if history is not None else {}).items():
        if values and ("accuracy" in key or "loss" in key or key.endswith("mae")):
            out[key] = float(values[-1])
    return out


def score(case: Case, findings_correct, findings_twin, *, unmonitored=None,
          history=None, errors=None) -> dict:
    """One row of the precision table.

    Parameters
    ----------
    case : Case
    findings_correct : list of Finding or None
        Findings of the correct run (None: it did not run).
    findings_twin : list of Finding or None
        Findings of the bugged twin (None: no twin, or it did not run).
    unmonitored : list of str, optional
        :func:`unmonitored_layers` of the correct run.
    history : keras History, optional
        The correct run's (its final metrics go in the row).
    errors : dict, optional
        ``{"correct"|"twin": "stage: Type: message"}`` of runs that raised.

    Returns
    -------
    dict
        case, false_alarms (``severity:id`` of serious findings on the correct
        run), diagnostic_failed, unmonitored, final (metrics), planted,
        found (planted ids seen as error/warning on the twin), missed, twin_serious,
        errors, ok.
    """
    correct = list(findings_correct or [])
    twin = list(findings_twin or [])
    false_alarms = [f"{f.severity}:{f.id}" for f in serious(correct)]
    failed = sum(1 for f in correct if f.id == "diagnostic.failed")
    twin_ids = {f.id for f in serious(twin)}
    found = [i for i in case.planted if i in twin_ids]
    missed = [i for i in case.planted if i not in twin_ids]
    errors = dict(errors or {})
    row = {"case": case.name, "false_alarms": false_alarms, "diagnostic_failed": failed,
           "unmonitored": list(unmonitored or []), "final": _final(history),
           "planted": list(case.planted), "found": found,
           "missed": missed if findings_twin is not None else [],
           "twin_run": findings_twin is not None,
           "twin_serious": [f"{f.severity}:{f.id}" for f in serious(twin)], "errors": errors}
    row["ok"] = (findings_correct is not None and not false_alarms and not failed
                 and not row["unmonitored"] and not row["missed"] and not errors)
    return row


def _describe_error(stage, exc):
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", f"{type(exc).__name__}: {exc}").strip()
    return f"{stage}: {text.splitlines()[0][:300] if text else ''}"


def evaluate(case: Case, logdir, *, quick=True, random_state=0) -> dict:
    """Run a case and its twin under ``<logdir>/precision/<case>[__twin]`` and score
    them; exceptions (callback constructor or fit) are caught and put in the row."""
    base = os.path.join(os.fspath(logdir), GROUP)
    results, errors = {}, {}
    for label, bugged in (("correct", False), ("twin", True)):
        if bugged and case.twin is None:
            continue
        run_dir = os.path.join(base, case.name + ("__twin" if bugged else ""))
        t0 = time.perf_counter()
        try:
            cb, history = run_case(case, run_dir, bugged=bugged, quick=quick,
                                   random_state=random_state)
            results[label] = (cb, history, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - the table reports it
            stage = "constructor" if _CONSTRUCTOR_NOTE in getattr(exc, "__notes__", ()) \
                else "fit"
            errors[label] = _describe_error(stage, exc)
    correct = results.get("correct")
    twin = results.get("twin")
    unmon = None
    if correct is not None:
        cb = correct[0]
        unmon = unexplained(unmonitored_layers(cb.model, cb.records), cb.records)
    row = score(case, correct[0].findings if correct else None,
                twin[0].findings if twin else None, unmonitored=unmon,
                history=correct[1] if correct else None, errors=errors)
    row["seconds"] = sum(r[2] for r in results.values())
    row["twin"] = case.twin
    return row


def run(logdir, *, quick=True, random_state=0, cases=None, progress=True) -> list[dict]:
    """Evaluate every case (or the named ones) and return the table's rows."""
    from tqdm.auto import tqdm

    chosen = CASES if cases is None else [CASE_BY_NAME[c] for c in cases]
    return [evaluate(case, logdir, quick=quick, random_state=random_state)
            for case in tqdm(chosen, desc="precision", disable=not progress)]


def _correct_cell(r) -> str:
    if "correct" in r["errors"]:
        return "RAISED"
    cell = ", ".join(r["false_alarms"]) or "clean"
    if r["diagnostic_failed"]:
        cell += f" +{r['diagnostic_failed']} diagnostic.failed"
    if r["unmonitored"]:
        cell += f" unmonitored={len(r['unmonitored'])}"
    return cell


def _final_cell(r) -> str:
    fin = r["final"]
    metric = "accuracy" if "accuracy" in fin else "loss"
    if metric not in fin:
        return "-"
    val = fin.get(f"val_{metric}")
    return f"{metric} {fin[metric]:.3f}" + (f" / {val:.3f}" if val is not None else "")


def _twin_cell(r) -> str:
    if not r["planted"]:
        return "(no twin)"
    if "twin" in r["errors"]:
        return "RAISED"
    if not r.get("twin_run"):
        return "(twin not run)"
    return "MISSED " + ",".join(r["missed"]) if r["missed"] else "found " + ",".join(r["found"])


def format_table(rows) -> str:
    """One line per case, then the false-alarm count and the details."""
    lines = [f"{'case':28s} {'correct run':34s} {'final (train / val)':24s} "
             f"{'twin planted':34s} ok    s"]
    for r in rows:
        lines.append(f"{r['case']:28s} {_correct_cell(r)[:34]:34s} {_final_cell(r)[:24]:24s} "
                     f"{_twin_cell(r)[:34]:34s} {'yes' if r['ok'] else 'NO':3s}"
                     + (f" {r['seconds']:4.0f}" if "seconds" in r else ""))
    n_false = sum(len(r["false_alarms"]) for r in rows)
    n_cases = sum(1 for r in rows if r["false_alarms"])
    twins = [r for r in rows if r["planted"] and r.get("twin_run")]
    lines.append(f"false alarms: {n_false} on {n_cases} of {len(rows)} correct models; "
                 f"planted bugs found on {sum(1 for r in twins if not r['missed'])} of "
                 f"{len(twins)} twins run")
    for r in rows:
        for label, text in r["errors"].items():
            lines.append(f"  {r['case']} ({label}) raised: {text}")
        if r["false_alarms"] or r["unmonitored"]:
            lines.append(f"  {r['case']}: {r['false_alarms']} unmonitored={r['unmonitored']}")
        if r["missed"]:
            lines.append(f"  {r['case']} twin ({r.get('twin')}): missed {r['missed']}, "
                         f"got {r['twin_serious']}")
    return "\n".join(lines)


def main(argv=None):
    from . import demo_parser

    parser = demo_parser("precision", __doc__.splitlines()[0],
                         full_help="larger subsets and more epochs")
    parser.add_argument("--case", action="append", choices=sorted(CASE_BY_NAME),
                        help="only this case (repeatable)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.logdir, quick=not args.full, random_state=args.seed, cases=args.case)
    print(format_table(rows))
    print(f"{time.perf_counter() - t0:.0f} s")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

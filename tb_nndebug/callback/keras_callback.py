"""``DebuggerCallback``: the Keras 3 callback that feeds the Debugger tab.

At train begin it measures the training data and the model once (dataset
and model records) and runs the static checks (loss/output pairing, label
range, input scale, inference determinism). At each epoch end it works on
one fixed small probe batch: per-layer kernel gradient norms, dead ReLU
units, the weight update ratio, plus the epoch's logs; it writes a
``training`` record and prints new findings.

It writes its own run directory ``<log_dir>/<name>`` beside the ``train``
and ``validation`` runs of ``keras.callbacks.TensorBoard(log_dir)`` (two
writers must not share a directory). A diagnostic that raises is recorded
(``diagnostic_error`` record, ``diagnostic.failed`` finding) and training
goes on, unless ``strict=True``.
"""
from __future__ import annotations

import re
import sys

import keras
import numpy as np
import tensorflow as tf

from .. import diagnosis
from .._validation import (
    Bool,
    Int,
    check_labels,
    check_params,
    check_plain_name,
    check_random_state,
    check_writable_dir,
)
from ..records import keras_facts as ki
from ..records import reading
from ..records import writers as summary

#: The scalar arguments of :class:`DebuggerCallback` and what each must be (``thresholds``,
#: ``csg`` and the data are checked by their own readers).
_INIT_CONSTRAINTS = {
    "log_dir": check_writable_dir,
    "name": check_plain_name,
    "batch_size": Int(minimum=1),
    "verbose": Int(minimum=0),
    "strict": Bool(),
    "projection": Bool(),
    "max_samples": Int(minimum=1),
}


def _has_inputs(model) -> bool:
    try:
        return bool(model.inputs)
    except (AttributeError, ValueError):
        return False


def _error_text(exc: BaseException) -> str:
    """``Type: message`` without the ANSI colour codes Keras adds."""
    return re.sub(r"\x1b\[[0-9;]*m", "", f"{type(exc).__name__}: {exc}").strip()


#: Epoch failures kept in the cumulative ``diagnostic_error`` record.
MAX_FAILURES = 200

#: More distinct float targets than this (and than half the samples) look like
#: regression: the capacity/balance/CSG measures need class labels.
MAX_CLASSES = 1000


def _not_class_labels(y) -> str | None:
    """Why ``y`` cannot be measured as class labels (None if it can)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return None  # one-hot / probability rows
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if not np.issubdtype(flat.dtype, np.number):
        return None  # strings: class names
    n_unique = len(np.unique(flat))
    if np.issubdtype(flat.dtype, np.floating) and not np.all(np.mod(flat, 1) == 0):
        return (f"targets look continuous ({n_unique} distinct non-integer values): the "
                "capacity, balance and CSG measures need class labels")
    if n_unique > MAX_CLASSES:
        return (f"{n_unique} distinct targets: too many for class labels (more than "
                f"{MAX_CLASSES}); the capacity, balance and CSG measures need class labels")
    return None


def _take_dataset(ds, limit: int, *, name: str):
    """Up to ``limit`` samples of a ``tf.data.Dataset`` of (x, y[, w]) batches."""
    xs, ys, n = [], [], 0
    for element in ds:
        if not isinstance(element, (tuple, list)) or len(element) < 2:
            raise ValueError(f"{name} must yield (x, y) or (x, y, sample_weight) batches")
        x, y = np.asarray(element[0]), np.asarray(element[1])
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"{name} must be batched (call .batch(...)): got a single sample")
        xs.append(x)
        ys.append(y)
        n += len(x)
        if n >= limit:
            break
    if not xs:
        raise ValueError(f"{name} is empty")
    return np.concatenate(xs)[:limit], np.concatenate(ys)[:limit]


def _check_data(data, *, name: str, limit: int):
    """``None`` or validated ``(X, y)`` numpy arrays (original shapes kept)."""
    if data is None:
        return None
    if isinstance(data, tf.data.Dataset):
        X, y = _take_dataset(data, limit, name=name)
    elif isinstance(data, tuple) and len(data) in (2, 3):  # as Keras's validation_data
        X, y = data[0], data[1]
    else:
        raise TypeError(
            f"{name} must be a tuple (X, y), a batched tf.data.Dataset of (x, y) or None, "
            f"got {type(data).__name__}"
        )
    try:
        X = np.asarray(X)
        y = np.asarray(y)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must hold arrays: {exc}") from None
    if X.ndim < 2:
        raise ValueError(f"{name}: X must have at least 2 dimensions (samples, features...), "
                         f"got shape {X.shape}")
    # Cheap checks here (no float64 copy of a big X); the measures convert once.
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} X must be numeric, got dtype {X.dtype}")
    if X.shape[0] == 0 or X[0].size == 0:
        raise ValueError(f"{name} X is empty (shape {X.shape})")
    if np.issubdtype(X.dtype, np.inexact) and not np.isfinite(X).all():
        raise ValueError(f"{name} X contains NaN or infinite values")
    check_labels(y, name=f"{name} y", n_samples=X.shape[0])
    return X, y


class DebuggerCallback(keras.callbacks.Callback):
    """Log a training run for the TensorBoard Debugger tab and print findings.

    Parameters
    ----------
    log_dir : str or os.PathLike
        The same ``log_dir`` as ``keras.callbacks.TensorBoard``; records go
        to ``<log_dir>/<name>``. A URL TensorFlow's file system knows
        (``gs://``, ``s3://``, ``hdfs://``, ``ram://``) stays a URL.
    train_data : (X, y) arrays or batched tf.data.Dataset, optional
        The training data (Keras does not show it to callbacks). Measured
        once at train begin, and a fixed probe batch is drawn from it for
        the per-epoch signals. Without it only the model, the loss and the
        logs are checked.
    validation_data : (X, y) arrays or tf.data.Dataset, optional
        Measured once (complexity, balance, input range) as tag ``validation``.
    name : str, default="debugger"
        Name of the run directory under ``log_dir``.
    batch_size : int, default=256
        Size of the fixed probe batch used each epoch.
    verbose : int, default=1
        0 prints nothing; otherwise each new finding is printed once, one
        line, severity first.
    strict : bool, default=False
        Re-raise when a diagnostic fails instead of recording it.
    thresholds : dict, optional
        Overrides for :data:`tb_nndebug.diagnosis.THRESHOLDS`.
    csg : bool or dict, default=True
        Compute the CSG of ``train_data`` (a dict passes options to
        :func:`tb_nndebug.csg`).
    projection : bool, default=True
        Log a 2-D PCA projection of ``train_data``.
    max_samples : int, default=20000
        At most this many samples are taken from a ``tf.data.Dataset``.
    random_state : int, default=0
        Seeds the probe batch, CSG sampling and the projection.

    Attributes
    ----------
    findings : list of Finding
        The latest diagnosis (most severe first).
    records : dict
        The run read back from its event files after each epoch (the one
        reader, as the tab and ``tb-nndebug report`` read it), as ``diagnose``
        takes them.
    run_dir : str
        ``<log_dir>/<name>``.

    Examples
    --------
    >>> cb = DebuggerCallback("runs/exp1", train_data=(X, y))  # doctest: +SKIP
    >>> model.fit(X, y, epochs=10, validation_split=0.2,       # doctest: +SKIP
    ...           callbacks=[keras.callbacks.TensorBoard("runs/exp1"), cb])
    """

    def __init__(self, log_dir, train_data=None, validation_data=None, *, name="debugger",
                 batch_size=256, verbose=1, strict=False, thresholds=None, csg=True,
                 projection=True, max_samples=20000, random_state=0):
        super().__init__()
        p = check_params(dict(log_dir=log_dir, name=name, batch_size=batch_size,
                              verbose=verbose, strict=strict, projection=projection,
                              max_samples=max_samples), _INIT_CONSTRAINTS)
        self.log_dir, self.name, self.batch_size = p["log_dir"], p["name"], p["batch_size"]
        self.verbose, self.strict = verbose, strict
        diagnosis.resolve_thresholds(thresholds)
        self.thresholds = dict(thresholds) if thresholds else None
        summary.csg_options(csg, random_state)
        self.csg = csg
        self.projection = projection
        self.max_samples = p["max_samples"]
        check_random_state(random_state)
        self.random_state = random_state
        self._train = _check_data(train_data, name="train_data", limit=self.max_samples)
        self._val = _check_data(validation_data, name="validation_data", limit=self.max_samples)
        self.run_dir = tf.io.gfile.join(self.log_dir, self.name)  # a URL stays a URL
        self.records: dict = {}
        self.findings: list = []
        self._writer = None

    # ------------------------------------------------------------ plumbing

    def _guard(self, diagnostic, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if self.strict:
                raise
            self._errors.append((diagnostic, exc))
            return None

    def _flush_errors(self, step, epoch, tag="diagnostic_error"):
        """Write the failures since the last flush. Train-begin failures get their
        own tag (so the epoch-0 record cannot replace them); epoch failures are
        written cumulatively (each with its epoch, the last ``MAX_FAILURES``), so
        the latest record of the tag — all a reader keeps per tag — holds them all."""
        if not self._errors:
            return
        texts = [(d, _error_text(e), epoch) for d, e in self._errors]
        self._errors = []
        if epoch is not None:
            self._epoch_failures = (self._epoch_failures + texts)[-MAX_FAILURES:]
            texts = self._epoch_failures
            # the newest failure leads (it carries the record's epoch), older ones follow
            lead, rest = texts[-1], texts[:-1]
        else:
            lead, rest = texts[0], texts[1:]
        try:
            with self._writer.as_default():
                summary.diagnostic_error(lead[0], lead[1], epoch=epoch, errors=rest, name=tag,
                                         step=step)
        except Exception:
            if self.strict:
                raise

    def _report(self):
        """Read the run back through the one reader (as the tab and the CLI do) and
        print the findings not printed yet."""
        try:
            self.records = self._reader.read(run=self.name).for_diagnosis()
            self.findings = diagnosis.diagnose(self.records, thresholds=self.thresholds)
        except Exception:
            if self.strict:
                raise
            return
        if not self.verbose:
            return
        for f in self.findings:
            key = (f.id, f.severity, f.evidence.get("diagnostic") or f.evidence.get("tag"))
            if key in self._printed:
                continue
            self._printed.add(key)
            print(f"[nndebug] {f.line()}", file=sys.stdout, flush=True)

    # ------------------------------------------------------------ train begin

    def on_train_begin(self, logs=None):
        self.records = {}
        self.findings = []
        self._printed = set()
        self._errors = []
        self._epoch_failures = []
        self._history = {}
        self._n_epochs = 0
        self._prev_weights = None
        self._probe = None
        self._probe_fn = None
        self._input_stats = None
        self._dataset_skipped = None
        try:
            tf.io.gfile.makedirs(self.run_dir)
            self._writer = tf.summary.create_file_writer(self.run_dir)
            self._reader = reading.RunReader(self.run_dir)
        except Exception as exc:  # nowhere to record it: say so and stay out of the way
            if self.strict:
                raise
            self._writer = None
            print(f"[nndebug] ERROR cannot write to {self.run_dir}: {_error_text(exc)}; "
                  "the debugger is off for this fit", file=sys.stderr, flush=True)
            return
        complexity = None
        if self._train is not None:
            X, y = self._train
            rng = check_random_state(self.random_state)
            n = X.shape[0]
            idx = np.sort(rng.choice(n, size=min(self.batch_size, n), replace=False))
            self._probe = (X[idx], y[idx])
            self._dataset_skipped = _not_class_labels(y)
            if self._dataset_skipped is None:
                complexity = self._guard("dataset", self._log_dataset, "train", X, y, full=True)
        if self._val is not None and self._dataset_skipped is None:
            self._guard("dataset", self._log_dataset, "validation", *self._val, full=False)
        self._complexity = complexity
        self._model_pending = not self.model.built  # subclassed: built by the first batch
        if not self._model_pending:
            self._guard("model", self._log_model, complexity)
        self._guard("checks", self._log_checks)
        self._guard("weight_update_ratio", self._snapshot_weights)
        self._flush_errors(0, None, tag="diagnostic_error_train_begin")
        self._writer.flush()
        self._report()

    def _log_dataset(self, tag, X, y, *, full):
        from ..measures import DatasetComplexity

        doc = summary.dataset_document(
            tag, X, y, csg=self.csg if full else False, projection=self.projection and full,
            random_state=self.random_state)
        with self._writer.as_default():
            summary.write_document("dataset", tag, doc, step=0)
        if full:
            self._input_stats = doc["input_stats"]
        c = doc["complexity"]
        return DatasetComplexity(
            expected_bits=c["expected_bits"], expected_bits_exact=c["expected_bits_exact"],
            max_bits=c["max_bits"], thresholds=c["thresholds"], dim=doc["dim"],
            n_samples=doc["n_samples"], n_classes=doc["n_classes"], energy=c["energy"])

    def _log_model(self, complexity):
        doc = summary.model_document("model", self.model, complexity=complexity)
        with self._writer.as_default():
            summary.write_document("model", "model", doc, step=0)

    def _make_probe_fn(self):
        """Compile the per-epoch probe once: loss, each kernel's gradient norm
        and, when the model's graph can be tapped, which ReLU units fire — one
        forward/backward pass per epoch on the fixed probe batch."""
        model = self.model
        kernels = ki.kernel_variables(model)
        names = [n for n, _ in kernels]
        variables = [v for _, v in kernels]
        relu = ki.relu_layers(model) if _has_inputs(model) else []
        tap = None
        if relu:
            inputs = model.inputs
            tap = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs,
                              outputs=[layer.output for layer in relu])

        @tf.function
        def probe_fn(x, y):
            with tf.GradientTape() as tape:
                pred = model(x, training=False)
                loss = model.compute_loss(x=x, y=y, y_pred=pred, training=False)
            grads = tape.gradient(loss, variables)
            # -1 marks a kernel the loss does not reach (no gradient)
            norms = [tf.norm(g) if g is not None else tf.constant(-1.0) for g in grads]
            actives = []
            if tap is not None:
                outs = tap(x, training=False)
                outs = outs if isinstance(outs, (list, tuple)) else [outs]
                # a unit (a channel for convolutions) is alive if it fires anywhere
                actives = [tf.reduce_any(tf.reshape(o, [-1, tf.shape(o)[-1]]) > 0, axis=0)
                           for o in outs]
            return loss, norms, actives

        return names, relu if tap is not None else [], probe_fn

    def _probe_pass(self):
        """``(loss, grad norms, dead units or None)`` on the probe batch."""
        if self._probe_fn is None:
            self._probe_fn = self._make_probe_fn()
            self._probe_t = tuple(tf.convert_to_tensor(a) for a in self._probe)
        names, relu, fn = self._probe_fn
        loss, norms, actives = fn(*self._probe_t)
        grad_norms = []
        for name, n in zip(names, norms):
            n = float(n.numpy())
            grad_norms.append({"layer": name, "norm": None if n < 0 or not np.isfinite(n) else n})
        dead = None
        if relu:
            dead = []
            for layer, active in zip(relu, actives):
                active = np.asarray(active)
                dead.append({"layer": layer.name, "fraction": float(1.0 - active.mean()),
                             "units": int(active.shape[0])})
        return float(np.asarray(loss)), grad_norms, dead

    def _log_checks(self):
        model = self.model
        doc = {
            "optimizer": type(model.optimizer).__name__ if getattr(model, "optimizer", None)
            else None,
            "learning_rate": ki.learning_rate(model),
            "loss": ki.loss_info(model),
            "output_activation": ki.output_activation(model),
            "n_outputs": ki.n_outputs(model),
            "label_range": None, "input_range": None, "input_mean": None, "input_std": None,
            "inference_deterministic": None, "inference_max_diff": None,
            "stochastic_layers": ki.stochastic_layers(model),
            "dropout_rates": ki.dropout_rates(model),
            "linear_hidden_layers": ki.linear_hidden_layers(model),
            "batch_size": None,
            "epochs_planned": (self.params or {}).get("epochs"),
            "steps_per_epoch": (self.params or {}).get("steps"),
            "initial_loss": None,
            "train_data_given": self._train is not None,
            "validation_data_given": self._val is not None,
            "probe_size": None,
            "dataset_skipped": self._dataset_skipped,
        }
        if self._train is not None:
            X, y = self._train
            stats = self._input_stats or {
                "min": float(X.min()), "max": float(X.max()),
                "mean": float(X.mean(dtype=np.float64)), "std": float(X.std(dtype=np.float64))}
            doc.update(input_range=[stats["min"], stats["max"]], input_mean=stats["mean"],
                       input_std=stats["std"])
            ya = np.asarray(y)
            if np.issubdtype(ya.dtype, np.number):
                doc["label_range"] = [float(ya.min()), float(ya.max())]
            doc["probe_size"] = len(self._probe[0])
            # Each probe check fails on its own: the rest of the record stands.
            det = self._guard("inference_determinism", self._inference_determinism)
            if det is not None:
                doc["training.dropout_at_inference.max_diff"], doc["inference_deterministic"] = det
            if getattr(model, "optimizer", None) is not None and model.loss is not None:
                loss = self._guard("initial_loss", lambda: self._probe_pass()[0])
                if loss is not None:
                    doc["initial_loss"] = loss if np.isfinite(loss) else None
        with self._writer.as_default():
            summary.checks("checks", doc, step=0)
        self._checks = doc

    def _inference_determinism(self):
        xp = self._probe[0]
        a = np.asarray(self.model(xp, training=False))
        b = np.asarray(self.model(xp, training=False))
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        limit = diagnosis.resolve_thresholds(self.thresholds)[
            "training.dropout_at_inference.max_diff"]
        return (diff if np.isfinite(diff) else None), bool(np.isfinite(diff) and diff <= limit)

    def _snapshot_weights(self):
        self._prev_weights = [np.array(v.numpy(), copy=True) for _, v in
                              ki.kernel_variables(self.model)]

    # ------------------------------------------------------------ epoch end

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:  # on_train_begin not called (odd custom loops)
            return
        logs = dict(logs or {})
        for key in logs:
            self._history.setdefault(key, [None] * self._n_epochs)
        for key, series in self._history.items():
            v = logs.get(key)
            try:
                v = float(v) if v is not None else None
            except (TypeError, ValueError):
                v = None
            series.append(v)
        self._n_epochs += 1
        doc = {
            "epoch": int(epoch),
            "epochs_planned": (self.params or {}).get("epochs"),
            "history": {k: list(v) for k, v in self._history.items()},
            "learning_rate": self._guard("learning_rate", ki.learning_rate, self.model),
            "grad_norms": None, "probe_loss": None, "probe_loss_finite": None,
            "dead_units": None, "weight_update_ratio": None,
        }
        if self._probe is not None:
            res = self._guard("gradients", self._probe_pass)
            if res is not None:
                loss, doc["grad_norms"], doc["dead_units"] = res
                doc["probe_loss"] = loss if np.isfinite(loss) else None
                doc["probe_loss_finite"] = bool(np.isfinite(loss))
        doc["weight_update_ratio"] = self._guard("weight_update_ratio", self._update_ratio)
        if self._model_pending:
            self._model_pending = False
            self._guard("model", self._log_model, self._complexity)
        try:
            with self._writer.as_default():
                summary.training("training", doc, step=int(epoch))
        except Exception as exc:
            if self.strict:
                raise
            self._errors.append(("training_record", exc))
        self._flush_errors(int(epoch), int(epoch))
        self._writer.flush()
        self._report()

    def _update_ratio(self):
        if self._prev_weights is None:
            return None
        now = [v.numpy() for _, v in ki.kernel_variables(self.model)]
        num = sum(float(np.sum((a - b) ** 2)) for a, b in zip(now, self._prev_weights))
        den = sum(float(np.sum(b ** 2)) for b in self._prev_weights)
        self._prev_weights = [np.array(a, copy=True) for a in now]
        if den <= 0 or not np.isfinite(num):
            return None
        return float(np.sqrt(num / den))

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None

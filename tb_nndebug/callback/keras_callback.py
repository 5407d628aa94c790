"""``DebuggerCallback``: the Keras 3 callback that feeds the Debugger tab.

At train begin it measures the training data and the model once (dataset
and model records) and runs the static checks (loss/output pairing, targets,
input scale at the first weighted layer, initial weights, inference
determinism). At each epoch end it works on one fixed small probe batch:
the gradient norm of every layer with trainable variables, dead ReLU units,
the weight update ratio, plus the epoch's logs; it writes a ``training``
record and prints new findings. The data may come in any form ``fit`` takes
(:mod:`.samples`); reading it does not change what ``fit`` computes.

It writes its own run directory ``<log_dir>/<name>`` beside the ``train``
and ``validation`` runs of ``keras.callbacks.TensorBoard(log_dir)`` (two
writers must not share a directory). A diagnostic that raises is recorded
(``diagnostic_error`` record, ``diagnostic.failed`` finding) and training
goes on, unless ``strict=True``.
"""
from __future__ import annotations

import contextlib
import re
import sys
import time
import uuid

import keras
import numpy as np
import tensorflow as tf

from .. import diagnosis
from .._validation import (
    Bool,
    Int,
    check_params,
    check_plain_name,
    check_random_state,
    check_writable_dir,
)
from ..records import documents, reading, sessions
from ..records import keras_facts as ki
from ..records import writers as summary
from . import distribution
from . import facts as fx
from .history import TrainingHistory
from .probe import Probe
from .samples import leaf_items, take_samples

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
    "full_pass": Bool(),
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


@contextlib.contextmanager
def _default_writer(writer):
    """``writer.as_default()`` that gives the default back even when the closing flush
    fails: TensorFlow's context flushes before restoring the previous writer, so a full disk
    would leave a dead writer as everyone's default (every later ``tf.summary`` call fails)."""
    cm = writer.as_default()
    cm.__enter__()
    try:
        yield
    finally:
        try:
            cm.__exit__(None, None, None)
        except Exception:
            from tensorflow.python.ops import summary_ops_v2  # no public setter exists

            summary_ops_v2._summary_state.writer = getattr(cm, "_old_writer", None)
            raise


def _index(tree, idx):
    return keras.tree.map_structure(lambda a: None if a is None else a[idx], tree)


def _sample_weighted(samples) -> bool | None:
    return None if samples is None else samples.sample_weight is not None


class DebuggerCallback(keras.callbacks.Callback):
    """Log a training run for the TensorBoard Debugger tab and print findings.

    Parameters
    ----------
    log_dir : str or os.PathLike
        The same ``log_dir`` as ``keras.callbacks.TensorBoard``; records go
        to ``<log_dir>/<name>``. A URL TensorFlow's file system knows
        (``gs://``, ``s3://``, ``hdfs://``, ``ram://``) stays a URL.
    train_data : optional
        The training data (Keras does not show it to callbacks), in any form
        ``fit`` takes: ``(x, y)`` or ``(x, y, sample_weight)`` with ``x``/``y``
        arrays, lists or dicts of arrays (multi-input, multi-output), ``x``
        alone, a batched ``tf.data.Dataset``, a ``keras.utils.PyDataset`` or
        a generator of batches (a generator is consumed: pass a separate one
        from the one ``fit`` gets). At most ``max_samples`` samples and
        256 MB are read (:data:`~tb_nndebug.callback.samples.SAMPLE_BUDGET_BYTES`),
        without changing what ``fit`` computes (a shuffled ``tf.data`` keeps
        its order). Measured once at train begin, and a fixed probe batch is
        drawn from it for the per-epoch signals. What cannot be measured
        (string inputs, targets that are not class labels) is said once as
        an info finding. Without it only the model, the loss and the logs
        are checked.
    validation_data : optional
        As ``train_data``; measured once (complexity, balance, input range)
        as tag ``validation``.
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
        At most this many samples are read from the data (fewer when they
        would exceed the 256 MB budget).
    full_pass : bool, default=True
        When ``train_data`` holds more than was read, measure the complexity
        (the bits the dataset needs grow with its size) and the class balance
        of all of it in one streaming pass at train begin: 16 bytes kept per
        sample, at most
        :data:`~tb_nndebug.callback.samples.WHOLE_PASS_MAX_SAMPLES`, a progress
        bar on stderr when the pass takes over a second (and ``verbose``). A
        generator cannot be read twice: its first samples are measured, and
        the run says so. The CSG, projection and input range are always those
        of the sample.
    random_state : int, default=0
        Seeds the probe batch, CSG sampling and the projection.

    Attributes
    ----------
    findings : list of Finding
        The latest diagnosis (most severe first).
    records : dict
        The run read back from its event files (the one reader, as the tab
        and ``tb-nndebug report`` read it), as ``diagnose`` takes them: during
        ``fit`` the latest record of each tag (all the diagnosis reads, so each
        epoch's read costs the same however long the run); after ``fit``, with
        each tag's per-step ``history`` too.
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
                 projection=True, max_samples=20000, full_pass=True, random_state=0):
        super().__init__()
        p = check_params(dict(log_dir=log_dir, name=name, batch_size=batch_size,
                              verbose=verbose, strict=strict, projection=projection,
                              max_samples=max_samples, full_pass=full_pass),
                         _INIT_CONSTRAINTS)
        self.log_dir, self.name, self.batch_size = p["log_dir"], p["name"], p["batch_size"]
        self.verbose, self.strict = verbose, strict
        diagnosis.resolve_thresholds(thresholds)
        self.thresholds = dict(thresholds) if thresholds else None
        summary.csg_options(csg, random_state)
        self.csg = csg
        self.projection = projection
        self.max_samples = p["max_samples"]
        self.full_pass = p["full_pass"]
        check_random_state(random_state)
        self.random_state = random_state
        self._train = take_samples(train_data, name="train_data", max_samples=self.max_samples,
                                   random_state=random_state)
        self._val = take_samples(validation_data, name="validation_data",
                                 max_samples=self.max_samples, random_state=random_state)
        # read again, whole, at train begin when only a sample was read (a generator is
        # consumed: never kept)
        self._train_source = train_data if self._train is not None and not self._train.whole \
            and not hasattr(train_data, "__next__") else None
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
            doc = documents.diagnostic_error_document(lead[0], lead[1], epoch=epoch, errors=rest)
            self._write("diagnostic_error", tag, doc, step)
        except Exception:
            if self.strict:
                raise

    def _start_session(self):
        """This fit's session of the run (see :mod:`tb_nndebug.records.sessions`): it is
        written after the steps already in the run, and a fit resumed with ``initial_epoch``
        takes the earlier epochs' history from the session before it."""
        series = self._reader.series()
        last = max((p.step for s in series for p in s.points), default=None)
        prior = reading.decode_series(series, run=self.name)
        initial = self._fit.get("initial_epoch")
        initial = initial if isinstance(initial, int) and not isinstance(initial, bool) \
            and initial > 0 else 0
        offset = 0 if last is None else max(0, last + 1 - initial)
        continues = None
        if initial > 0 and prior.session is not None:
            training = prior.records.get("training") or []
            seeded = self._history.seed(training[-1]["value"] if training else None, initial)
            continues = prior.session if seeded else None
        self._session = {"id": uuid.uuid4().hex[:16], "started": time.time(),
                         "index": len(prior.sessions) + 1, "first_step": initial + offset,
                         "initial_epoch": initial, "continues": continues}

    def _step(self, epoch) -> int:
        """The summary step of a Keras epoch in this session (the epoch itself unless an
        earlier session of the run already wrote that step)."""
        s = self._session
        return int(epoch) + s["first_step"] - s["initial_epoch"]

    def _write(self, kind, tag, doc, step):
        """Write one record of this session (its document tagged with the session)."""
        doc = dict(doc, session=dict(self._session, concurrent=list(self._concurrent)))
        with _default_writer(self._writer):
            summary.write_document(kind, tag, doc, step=step, images=False)

    def _report(self):
        """Read the run back through the one reader (as the tab and the CLI do) and
        print the findings not printed yet."""
        try:
            decoded = self._reader.read(run=self.name, session=self._session["id"])
            self._concurrent = sessions.concurrent_with(decoded.sessions, self._session["id"])
            self.records = decoded.for_diagnosis()
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
        self._history = TrainingHistory()
        self._concurrent = []
        self._stopped = None
        self._dropped = 0
        self._prev_weights = None
        self._probe = None
        self._probe_fn = None
        self._skipped = []
        self._dataset_skipped = None
        self._writer = None
        role = distribution.role(self.model)
        if not role.writes:  # a multi-worker fit: the chief alone writes the run
            if self.verbose:
                print(f"[nndebug] {role.line()}", file=sys.stdout, flush=True)
            return
        try:
            tf.io.gfile.makedirs(self.run_dir)
            self._writer = tf.summary.create_file_writer(self.run_dir)
            self._reader = reading.RunReader(self.run_dir, latest_only=True)
        except Exception as exc:  # nowhere to record it: say so and stay out of the way
            if self.strict:
                raise
            self._writer = None
            print(f"[nndebug] ERROR cannot write to {self.run_dir}: {_error_text(exc)}; "
                  "the debugger is off for this fit", file=sys.stderr, flush=True)
            return
        self._fit_args()
        self._start_session()
        complexity = None
        if self._train is not None:
            rng = check_random_state(self.random_state)
            n = self._train.n
            idx = np.sort(rng.choice(n, size=min(self.batch_size, n), replace=False))
            self._probe = (_index(self._train.x, idx), _index(self._train.y, idx))
            complexity = self._guard("dataset", self._log_dataset, "train", self._train, full=True)
        if self._val is not None and self._dataset_skipped is None:
            self._guard("dataset", self._log_dataset, "validation", self._val, full=False)
        self._complexity = complexity
        self._model_pending = False
        if not ki.has_layer_graph(self.model):
            subs = [layer for layer in self.model.layers
                    if isinstance(layer, keras.Model) and ki.has_layer_graph(layer)]
            self._skipped.append({"what": "model capacity", "reason": (
                f"'{self.model.name}' is a subclassed model (its call() is Python code, not a "
                "layer graph): its capacity as a whole is not measured"
                + (f"; its sub-models are, each in its own model record: "
                   f"{', '.join(sub.name for sub in subs)}" if subs else ""))})
            for sub in subs:
                self._guard("model", self._log_model, None, sub)
        elif not self.model.built:  # built by the first batch
            self._model_pending = True
        else:
            self._guard("model", self._log_model, complexity)
        self._guard("checks", self._log_checks)
        self._guard("weight_update_ratio", self._snapshot_weights)
        self._flush_errors(self._session["first_step"], None, tag="diagnostic_error_train_begin")
        self._writer.flush()
        self._report()
        self._check_landed("checks", None)

    def _csg_skip(self, X) -> str | None:
        """Why CSG means nothing for these inputs (None: it does)."""
        entries = ki.entry_layers(self.model) if _has_inputs(self.model) else []
        if entries and all(ki.is_index_layer(layer) for layer in entries):
            return ("the inputs are token ids feeding an Embedding: distances between ids mean "
                    "nothing")
        if len(leaf_items(self._train.x)) > 1:
            return ("the model has several inputs, measured side by side: distances across "
                    "them mix units")
        return None

    def _log_dataset(self, tag, samples, *, full):
        from ..measures import DatasetComplexity

        head, labels, why = fx.labelled_output(samples.y)
        X, skipped_inputs = fx.measurable_inputs(samples.x)
        if why is None and X is None:
            why = "no input is numeric (" + "; ".join(skipped_inputs) + ")"
        if why is not None:
            if full:
                self._dataset_skipped = why
            return None
        if full and skipped_inputs:
            self._skipped.append({"what": "dataset inputs", "reason": "; ".join(skipped_inputs)})
        heads = [(n, a) for n, a in fx.labelled_outputs(samples.y) if n != head] if full else []
        csg = self.csg if full else False
        skip = self._csg_skip(X) if full and csg is not False else None
        kwargs = {"csg_skip": skip} if skip else {}
        doc = summary.dataset_document(
            tag, X, labels, csg=csg, projection=self.projection and full,
            random_state=self.random_state, **kwargs)
        if full and not samples.whole:
            self._measure_whole(tag, doc, samples)
        self._write("dataset", tag, doc, self._session["first_step"])
        for name, other in heads:  # the other heads' labels: their balance and complexity
            more = summary.dataset_document(f"{tag}_{name}", X, other, csg=False,
                                            projection=False, random_state=self.random_state)
            self._write("dataset", f"{tag}_{name}", more, self._session["first_step"])
        c = doc["complexity"]
        return DatasetComplexity(
            expected_bits=c["expected_bits"], expected_bits_exact=c["expected_bits_exact"],
            max_bits=c["max_bits"], thresholds=c["thresholds"], dim=doc["dim"],
            n_samples=doc["n_samples"], n_classes=doc["n_classes"], energy=c["energy"])

    def _measure_whole(self, tag, doc, samples):
        """Put the complexity and balance of all of ``train_data`` (one streaming pass) into
        the sample's dataset record ``doc``; or say once why the sample's stand."""
        from .samples import measure_whole

        doc["sample"] = {"n": samples.n, "limited_by": samples.limited_by, "whole_pass": False}
        why, result = None, None
        if not self.full_pass:
            why = "full_pass=False"
        elif self._train_source is None:
            why = "a generator cannot be read a second time"
        else:
            try:
                result, why = measure_whole(self._train_source, name="train_data",
                                            progress=self.verbose > 0)
            except Exception as exc:  # noqa: BLE001 - the sample's measures stand
                why = f"the pass failed: {_error_text(exc)}"
        if result is None:
            self._skipped.append({"what": "whole-data complexity", "reason": (
                f"complexity and class balance are those of the {samples.n:,} samples read "
                f"(stopped by {samples.limited_by}), not of all of train_data: {why}"),
                "advice": "Nothing is wrong with the model for this. To measure all of the "
                          "data, pass train_data as arrays, a finite tf.data.Dataset or a "
                          "keras.utils.PyDataset (read again without changing fit)."})
            return
        c = result.complexity
        doc["complexity"] = {"expected_bits": int(c.expected_bits),
                             "expected_bits_exact": float(c.expected_bits_exact),
                             "max_bits": int(c.max_bits), "thresholds": int(c.thresholds),
                             "energy": c.energy}
        labels = np.repeat(np.asarray(result.classes), result.class_counts)
        balance = summary.balance_document(tag, labels)
        doc["balance"] = {k: v for k, v in balance.items() if k not in ("name", "stage")}
        doc["n_samples"] = int(result.n)
        doc["sample"]["whole_pass"] = True

    def _fit_args(self):
        """``class_weight``, ``sample_weight`` and ``batch_size`` of the running ``fit``:
        Keras does not show them to callbacks, so they are read off the caller's frame
        (None where that frame is not found)."""
        self._fit = {}
        frame = sys._getframe(1)
        for _ in range(12):
            frame = frame.f_back
            if frame is None:
                return
            loc = frame.f_locals
            if frame.f_code.co_name == "fit" and loc.get("self") is self.model:
                self._fit = {"weighted": loc.get("class_weight") is not None
                             or loc.get("sample_weight") is not None,
                             "batch_size": loc.get("batch_size"),
                             "initial_epoch": loc.get("initial_epoch")}
                return

    def _log_model(self, complexity, model=None):
        """The ``model`` record (tag ``model``), or a sub-model's (tag ``model_<name>``)."""
        tag = "model" if model is None else f"model_{model.name}"
        doc = summary.model_document(tag, model or self.model, complexity=complexity)
        self._write("model", tag, doc, self._session["first_step"])

    def _cannot_predict(self) -> str | None:
        """Why the model cannot be run on the probe batch (None: it can)."""
        blocked = distribution.probe_blocker(self.model)
        if blocked:
            return blocked
        if type(self.model).call in (keras.Model.call, keras.layers.Layer.call):
            return ("the model has no call(): predictions, the probe loss, gradients and "
                    "dead units are not measured (its sub-models are, in the model record)")
        return None

    def _unmonitored(self, reason: str) -> list[dict]:
        """Every layer with trainable variables, unmonitored for ``reason``."""
        return [{"layer": path, "reason": reason} for path, _, _ in ki.variable_groups(self.model)]

    def _probe_pass(self, x=None, y=None, *, predictions=False) -> dict:
        """The probe's signals on the fixed batch, or on ``x``, ``y`` of its shapes (see
        :class:`.probe.Probe`)."""
        if self._probe_fn is None:
            model = self.model
            with_loss = getattr(model, "loss", None) is not None
            if not model.built:  # a subclassed model builds on its first call, as in fit
                model(self._probe[0], training=False)
            self._probe_fn = Probe(model, *self._probe, with_loss=with_loss)
        return distribution.outside_scope(self._probe_fn, x, y, predictions=predictions)

    def _first_layer_input(self) -> dict:
        """What reaches the first weighted layer(s): its value range, or that it is token
        ids (an Embedding), or the raw input with the in-model preprocessing named."""
        model, x = self.model, self._probe[0]
        entries = ki.entry_layers(model) if _has_inputs(model) else []
        index = [layer for layer in entries if ki.is_index_layer(layer)]
        dense = [layer for layer in entries if layer not in index]
        out = {"input_kind": "index" if index and not dense else "values",
               "input_source": None, "input_preprocessing": None}
        stats = None
        if dense:
            inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
            tap = keras.Model(inputs, [layer.input for layer in dense])
            seen = tap(x, training=False)
            stats = fx.input_stats([keras.ops.convert_to_numpy(t)
                                    for t in keras.tree.flatten(seen)])
            out["input_source"] = "first weighted layer: " + ", ".join(lay.name for lay in dense)
        elif not entries:
            stats = fx.input_stats([a for _, a in leaf_items(x)])
            pre = ki.preprocessing_before_weights(model)
            out["input_source"] = "raw input"
            out["input_preprocessing"] = pre or None
        if stats is not None:
            out.update(input_range=[stats["min"], stats["max"]], input_mean=stats["mean"],
                       input_std=stats["std"])
        return out

    def _log_checks(self):
        model = self.model
        params = self.params or {}
        has_loss = getattr(model, "loss", None) is not None
        doc = {
            "optimizer": type(model.optimizer).__name__ if getattr(model, "optimizer", None)
            else None,
            "learning_rate": ki.learning_rate(model),
            "loss": ki.loss_info(model),
            "losses_by_output": ki.losses_by_output(model) or None,
            "output_activation": ki.output_activation(model),
            "n_outputs": ki.n_outputs(model),
            "label_range": None, "input_range": None, "input_mean": None, "input_std": None,
            "input_kind": None, "input_source": None, "input_preprocessing": None,
            "inference_deterministic": None, "inference_max_diff": None,
            "stochastic_layers": ki.stochastic_layers(model),
            "dropout_rates": ki.dropout_rates(model),
            "linear_hidden_layers": ki.linear_hidden_layers(model),
            "batch_size": None,
            "epochs_planned": params.get("epochs"),
            "steps_per_epoch": params.get("steps"),
            "initial_loss": None,
            "train_data_given": self._train is not None,
            "validation_data_given": self._val is not None,
            "n_train_samples": self._train.n if self._train is not None else None,
            "sample_weighted": _sample_weighted(self._train),
            "probe_size": None,
            "dataset_skipped": self._dataset_skipped,
            "targets": None, "targets_by_output": None,
            "initial_weights": self._guard("initial_weights", fx.weight_facts, model),
            "initial_output": None,
            "unmonitored": [],
            "skipped": self._skipped,
        }
        fit = getattr(self, "_fit", {})
        if fit.get("weighted"):
            doc["sample_weighted"] = True
        if isinstance(fit.get("batch_size"), int) and not isinstance(fit["batch_size"], bool):
            doc["batch_size"] = fit["batch_size"]
        if self._train is not None:
            doc.update(self._train_facts(doc))
            cannot = self._cannot_predict()
            if cannot:
                self._skipped.append({"what": "probe", "reason": cannot})
                self._probe = None
                doc["unmonitored"] = self._unmonitored(cannot.split(":", 1)[0])
            else:
                doc.update(self._guard("input_scale", self._first_layer_input) or {})
                self._probe_checks(doc, has_loss)
        else:
            self._skipped.append({"what": "probe", "reason": "no train_data: gradients, dead "
                                  "units, the probe loss and the input scale are not measured"})
        self._write("checks", "checks", summary.checks_document(doc), self._session["first_step"])
        self._checks = doc

    def _train_facts(self, doc) -> dict:
        out = {"probe_size": int(len(keras.tree.flatten(self._probe[0])[0]))}
        y = self._train.y
        items = leaf_items(y, prefix="y")
        if len(items) == 1:
            out["targets"] = fx.target_facts(items[0][1])
            arr = np.asarray(items[0][1])
            if arr.dtype != object and np.issubdtype(arr.dtype, np.number) and arr.size:
                out["label_range"] = [float(arr.min()), float(arr.max())]
        elif items:
            out["targets_by_output"] = {name: fx.target_facts(a) for name, a in items}
        steps = doc.get("steps_per_epoch")
        if doc.get("batch_size") is None and self._train.whole and isinstance(steps, int) \
                and steps > 0:
            out["batch_size"] = int(-(-self._train.n // steps))  # the smallest consistent size
        return out

    def _probe_checks(self, doc, has_loss):
        """The initial loss, the layers no gradient reaches and the determinism of inference,
        from the probe's first passes (its one trace serves the epochs after). Each fails on
        its own: the rest of the record stands."""
        no_gradients = None
        if not has_loss:
            no_gradients = ("the model is compiled without a loss (a custom train_step computes "
                         "its own): gradient norms, the update-relevant probe loss and the "
                         "initial loss are not measured")
            doc["unmonitored"] = self._unmonitored("no compiled loss")
        elif self._probe[1] is None:
            no_gradients = "train_data has no targets"
        else:
            no_gradients = self._targets_mismatch()
            if no_gradients:
                self._probe = (self._probe[0], None)
        if no_gradients:
            self._skipped.append({"what": "gradients", "reason": no_gradients})
        with_loss = has_loss and self._probe[1] is not None
        res = self._guard("initial_loss" if with_loss else "probe", self._probe_pass,
                          predictions=True)
        det = self._guard("inference_determinism", self._inference_determinism, res)
        if det is not None:
            doc["inference_max_diff"], doc["inference_deterministic"], doc["initial_output"] = det
        if with_loss and res is not None and res["loss"] is not None:
            doc["initial_loss"] = res["loss"] if np.isfinite(res["loss"]) else None
            doc["unmonitored"] = [{"layer": g["layer"], "reason": "no gradient reaches it"}
                                  for g in res["grad_norms"] or [] if g["norm"] is None]

    def _targets_mismatch(self) -> str | None:
        """Why train_data's targets cannot be set against the model's outputs (None: they
        can): a two-output model given one target array, say."""
        try:
            outputs = len(self.model.outputs)
        except (AttributeError, ValueError, TypeError):
            return None
        given = len(keras.tree.flatten(self._probe[1]))
        if outputs > 1 and given != outputs:
            return (f"train_data has {given} target array{'s' if given != 1 else ''} for a model "
                    f"with {outputs} outputs: the probe loss, gradient norms and initial loss "
                    f"are not measured; pass one target per output, e.g. (X, [y1, y2]) or a "
                    f"dict by output name")
        return None

    def _inference_determinism(self, first=None):
        """Two inference passes, the second on the batch in reverse order: a layer left
        random at inference gives different outputs even when its masks are seeded (each
        row then gets another row's mask); a deterministic model gives the same. Through
        the probe when its first pass ``first`` worked (a traced graph: an eager pass of a
        recurrent network costs more than the probe's whole trace), else the model's call."""
        xp, yp = self._probe
        # an index array, not [::-1]: a contiguous copy (torch cannot wrap negative strides)
        back = np.arange(len(keras.tree.flatten(xp)[0]))[::-1]
        if first is not None:
            a = first["predictions"]
            b = self._probe_pass(_index(xp, back), _index(yp, back),
                                 predictions=True)["predictions"]
        else:
            a, b = ([keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(
                self.model(x, training=False))] for x in (xp, _index(xp, back)))
        b = [np.asarray(q)[back] for q in b]
        diffs = [float(np.max(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))))
                 for p, q in zip(a, b) if np.size(p)]
        diff = max(diffs) if diffs else 0.0
        limit = diagnosis.resolve_thresholds(self.thresholds)[
            "training.dropout_at_inference.max_diff"]
        return ((diff if np.isfinite(diff) else None), bool(np.isfinite(diff) and diff <= limit),
                fx.output_facts(np.asarray(a[0])) if a else None)

    def _snapshot_weights(self):
        self._prev_weights = [np.array(keras.ops.convert_to_numpy(v), copy=True) for _, v in
                              ki.kernel_variables(self.model)]

    # ------------------------------------------------------------ epoch end

    def on_epoch_end(self, epoch, logs=None):
        if self._writer is None:  # on_train_begin not called, or the debugger stopped writing
            self._dropped += getattr(self, "_stopped", None) is not None
            return
        self._history.append(epoch, dict(logs or {}))
        doc = {
            "epoch": int(epoch),
            "epochs_planned": (self.params or {}).get("epochs"),
            **self._history.document(),
            "learning_rate": self._guard("learning_rate", ki.learning_rate, self.model),
            "grad_norms": None, "grad_norm_total": None, "probe_loss": None,
            "probe_loss_finite": None, "probe_output_std": None,
            "dead_units": None, "weight_update_ratio": None,
        }
        if self._probe is not None and self._checks_allow_probe():
            res = self._guard("gradients", self._probe_pass)
            if res is not None:
                for key in ("grad_norms", "grad_norm_total", "probe_output_std", "dead_units"):
                    doc[key] = res[key]
                loss = res["loss"]
                if loss is not None:
                    doc["probe_loss"] = loss if np.isfinite(loss) else None
                    doc["probe_loss_finite"] = bool(np.isfinite(loss))
        doc["weight_update_ratio"] = self._guard("weight_update_ratio", self._update_ratio)
        if self._model_pending:
            self._model_pending = False
            self._guard("model", self._log_model, self._complexity)
        step = self._step(epoch)
        try:
            self._write("training", "training", summary.training_document(doc), step)
        except Exception as exc:
            if self.strict:
                raise
            self._errors.append(("training_record", exc))
        self._flush_errors(step, int(epoch))
        self._writer.flush()
        self._report()
        self._check_landed("training", int(epoch))

    def _check_landed(self, kind, epoch):
        """Stop writing, said once, when what was just written is not in the run: TensorFlow's
        writer drops events on a full or read-only log_dir with only its own log lines."""
        if self.strict or self._writer is None:
            return
        mine = [e for e in self.records.get(kind) or []
                if isinstance(e.get("value"), dict) and (epoch is None or
                                                         e["value"].get("epoch") == epoch)]
        if mine:
            return
        reason = "the records written are not in the event files"
        check = tf.io.gfile.join(self.run_dir, ".nndebug_write_check")
        try:  # the file system's own words, through the same layer the writer uses
            with tf.io.gfile.GFile(check, "w") as f:
                f.write("x" * 4096)
        except Exception as exc:  # noqa: BLE001 - the OS reason is what we want to show
            reason = _error_text(exc)
        try:
            tf.io.gfile.remove(check)
        except Exception:  # noqa: BLE001 - not there, or not removable: nothing to add
            pass
        self._stopped = reason
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - closing a writer on a full disk fails too
            pass
        self._writer = None
        print(f"[nndebug] ERROR log_dir {self.run_dir} is full or not writable: {reason}; the "
              "debugger stopped writing, training goes on", file=sys.stderr, flush=True)

    def _checks_allow_probe(self) -> bool:
        """The probe runs each epoch unless train begin found it cannot (said once there)."""
        return not any(s.get("what") == "probe" for s in self._skipped)

    def _update_ratio(self):
        if self._prev_weights is None:
            return None
        now = [keras.ops.convert_to_numpy(v) for _, v in ki.kernel_variables(self.model)]
        if len(now) != len(self._prev_weights):  # built by the first batch: start from here
            self._prev_weights = [np.array(a, copy=True) for a in now]
            return None
        num = sum(float(np.sum((a - b) ** 2)) for a, b in zip(now, self._prev_weights))
        den = sum(float(np.sum(b ** 2)) for b in self._prev_weights)
        self._prev_weights = [np.array(a, copy=True) for a in now]
        if den <= 0 or not np.isfinite(num):
            return None
        return float(np.sqrt(num / den))

    def on_train_end(self, logs=None):
        if getattr(self, "_stopped", None) is not None and self._dropped:
            print(f"[nndebug] {self._dropped} later epoch(s) were not recorded "
                  f"({self.run_dir}: {self._stopped})", file=sys.stderr, flush=True)
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None
            try:  # once, with every step: the per-epoch reads kept the latest only
                self.records = reading.RunReader(self.run_dir).read(
                    run=self.name, session=self._session["id"]).for_diagnosis()
            except Exception:
                if self.strict:
                    raise

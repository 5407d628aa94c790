"""Analyse a dataset (and optionally a saved model) without training: what
``tb-nndebug analyze`` does.

Writes one run (``<logdir>/<name>/debugger``) with the records that apply —
``dataset`` (complexity, CSG, balance), ``model`` (capacity), accuracy on the
data as a ``run_info`` fact (mirrored as the scalar
``nndebug/run_info/accuracy``), ``robustness`` when asked — then reads the
run back and diagnoses it, so the console shows exactly what the
Debugger tab will show.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import check_int, check_path
from ..measures.accuracy import accuracy
from .datafiles import DEFAULT_MAX_SAMPLES, DEFAULT_MEMORY_BUDGET, LoadedData, load_data

STEPS = ("dataset", "model", "accuracy", "robustness", "diagnosis")


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze` wrote and found.

    Attributes
    ----------
    run_dir : str
        The run directory written (``<logdir>/<name>/debugger``).
    findings : tuple of Finding
        Diagnosis of the records written, most severe first.
    records : dict
        The records read back (kind -> list), as ``GET /report`` returns them.
    notes : tuple of str
        What was guessed on the way (keys, label column, reshapes).
    accuracy : float or None
        The model's accuracy on DATA.
    test_accuracy : float or None
        The model's accuracy on the test data, if given.
    """

    run_dir: str
    findings: tuple
    records: dict = field(repr=False)
    notes: tuple = ()
    accuracy: float | None = None
    test_accuracy: float | None = None


def fit_inputs(x: np.ndarray, model, *, name: str = "DATA") -> np.ndarray:
    """Reshape samples to the model's input shape when the sizes agree.

    Raises
    ------
    ValueError
        The model has several inputs, or a sample does not hold as many
        values as the model's input.
    """
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError("--model: models with several inputs are not supported")
        shape = shape[0]
    target = tuple(shape[1:])
    have = tuple(x.shape[1:])
    if have == target:
        return x
    if all(d is not None for d in target):
        if int(np.prod(target)) == int(np.prod(have)):
            return x.reshape((x.shape[0],) + target)
    elif len(target) == len(have) and all(t in (None, h) for t, h in zip(target, have)):
        return x
    raise ValueError(
        f"--model expects samples of shape {target}, but {name} samples have shape {have}"
    )


def label_codes(y: np.ndarray, n_outputs: int, *, name: str = "DATA"):
    """Labels as the integer codes a classifier with ``n_outputs`` outputs predicts.

    Integer labels are kept (they must lie in ``0..n_outputs-1``, or ``0..1``
    for one sigmoid output); any other labels are numbered in sorted order.
    Returns ``(codes, note)``; ``note`` is None when nothing was mapped.
    """
    y = np.asarray(y).reshape(len(y), -1)
    if y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    n_classes = max(n_outputs, 2)
    note = None
    if np.issubdtype(y.dtype, np.integer) or (
        np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))
    ):
        codes = y.astype(np.int64)
    else:
        classes, codes = np.unique(y.astype(str), return_inverse=True)
        note = f"{name} labels numbered in sorted order: " + ", ".join(
            f"{i}={c}" for i, c in enumerate(classes[:10]))
    if codes.min() < 0 or codes.max() >= n_classes:
        raise ValueError(
            f"--model has {n_outputs} output(s) but {name} labels run from "
            f"{codes.min()} to {codes.max()}"
        )
    return codes, note


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def _load_model(path):
    p = check_path(path, name="--model", kind="file", suffixes=MODEL_SUFFIXES)
    import keras

    try:
        return keras.models.load_model(p, compile=False)
    except Exception as exc:  # noqa: BLE001 - keras raises many kinds for a bad file
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"--model: cannot load {p.name!r}: {msg}") from None


def _clear_previous_analysis(run_dir: str, name: str) -> None:
    """Let a new analysis replace an earlier one of the same name (stale records
    of the old one would otherwise be diagnosed with the new), but never touch
    a run something else wrote there, such as a training run's callback."""
    import tensorflow as tf

    from ..records.reading import read_records

    if not tf.io.gfile.isdir(run_dir):
        return
    files = [tf.io.gfile.join(run_dir, f) for f in tf.io.gfile.listdir(run_dir)
             if "tfevents" in f]
    files = [f for f in files if not tf.io.gfile.isdir(f)]
    if not files:
        return
    infos = read_records(run_dir).get("run_info", [])
    if not any(r["value"].get("experiment") == "analyze" for r in infos):
        raise ValueError(f"name {name!r}: {run_dir!r} already holds a run not written by "
                         "analyze; choose another --name")
    for f in files:
        tf.io.gfile.remove(f)


def degenerate_data_note(x, y) -> str | None:
    """Why the dataset measures mean nothing for ``x``/``y``, or None.

    Every feature constant, or a single class: the complexity, the CSG and the
    projection still compute, but describe nothing (and the PCA of constant
    features divides zero by zero).
    """
    x = np.asarray(x)
    n_classes = len(np.unique(np.asarray(y).reshape(len(y), -1), axis=0))
    flat = x.reshape(len(x), -1)
    constant = len(x) > 0 and bool(np.all(flat.min(axis=0) == flat.max(axis=0)))
    if constant and n_classes < 2:
        why = "every feature is constant and there is one class"
    elif constant:
        why = "every feature is constant: no feature tells the classes apart"
    elif n_classes < 2:
        why = "there is one class: nothing to tell apart"
    else:
        return None
    return (f"{why}; the complexity, CSG and projection of this data are not "
            "meaningful")


def analyze(data, *, logdir, name: str | None = None, model=None, test=None, label=None,
            csg: bool = True, robustness: int = 0, random_state: int = 0,
            progress: bool = True, thresholds=None, max_samples: int = DEFAULT_MAX_SAMPLES,
            memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Analysis:
    """Measure a dataset (and a model), write a run, and diagnose it.

    Parameters
    ----------
    data : str, path-like or LoadedData
        A ``.npz`` / ``.csv`` file or an image folder (see
        :func:`tb_nndebug.cli.datafiles.load_data`).
    logdir : str or path-like
        The TensorBoard logdir; the run goes to ``<logdir>/<name>/debugger``.
    name : str, optional
        Run name; defaults to the data file's stem.
    model : str, path-like or keras.Model, optional
        A saved ``.keras`` model, or a model object: adds its capacity (and the
        capacity match), its accuracy and, with ``robustness``, its robustness.
    test : str, path-like or LoadedData, optional
        Held-out data to measure accuracy on (an ``.npz``'s own
        ``x_test``/``y_test`` are used when not given).
    label : str or int, optional
        CSV label column (default: the last column).
    csg : bool, default=True
        Compute the cumulative spectral gradient (the slowest measure).
    robustness : int, default=0
        Number of samples to attack (0: skip): a seeded random subset of the
        test data, else of ``data``.
    random_state : int, default=0
    progress : bool, default=True
        Show a progress bar on stderr.
    thresholds : dict, optional
        Passed to :func:`tb_nndebug.diagnosis.diagnose`.
    max_samples : int, default=20000
        Samples of ``data`` (and ``test``) kept at most when they are read
        from a path: a seeded random subset beyond (``random_state``).
    memory_budget : int, default=2 GB
        Bytes the data read from a path and the measures may take; larger data
        is refused before it is decoded (see :func:`load_data`).

    Returns
    -------
    Analysis
    """
    robustness = check_int(robustness, name="robustness", minimum=0)
    limits = {"label": label, "max_samples": max_samples, "memory_budget": memory_budget,
              "random_state": random_state, "csg": bool(csg)}
    loaded = data if isinstance(data, LoadedData) else load_data(data, name="DATA", **limits)
    tested = _held_out(loaded, test, limits)
    if name is None:
        name = Path(loaded.source).stem or "data"
    parts = name.replace("\\", "/").split("/") if isinstance(name, str) else []
    if not name or not isinstance(name, str) or name.startswith(("/", ".")) \
            or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"name must be a relative run name inside --logdir (no leading '/' "
                         f"or '.', no '..' or empty parts), got {name!r}")
    notes = list(loaded.notes)
    degenerate = degenerate_data_note(loaded.x, loaded.y)
    notes += [degenerate] if degenerate else []
    if tested is not None and tested is not loaded:
        notes.extend(f"--test: {n}" for n in tested.notes)
    if model is not None and not hasattr(model, "predict"):
        check_path(model, name="--model", kind="file", suffixes=MODEL_SUFFIXES)
    # TensorFlow is imported only once the inputs are known to be readable, so a
    # bad path fails in a blink.
    import tensorflow as tf
    from tqdm.auto import tqdm

    from .. import summary
    from ..diagnosis import diagnose
    from ..records.reading import read_records

    if model is not None and not hasattr(model, "predict"):
        model = _load_model(model)
    run_dir = tf.io.gfile.join(os.fspath(logdir), name, "debugger")  # a URL stays a URL
    _clear_previous_analysis(run_dir, name)
    tf.io.gfile.makedirs(run_dir)

    steps = [s for s in STEPS
             if (s not in ("model", "accuracy") or model is not None)
             and (s != "robustness" or (model is not None and robustness))]
    bar = tqdm(total=len(steps), disable=not progress, unit="step", leave=False)
    facts = {"experiment": "analyze", "data": loaded.source, "data_format": loaded.format,
             "n_samples": len(loaded.x), "notes": notes}
    writer = tf.summary.create_file_writer(run_dir)
    try:
        with writer.as_default(step=0):
            bar.set_description("dataset measures")
            # degenerate data: the note says so; numpy's 0/0 warnings would only repeat it
            with np.errstate(**({"all": "ignore"} if degenerate else {})):
                summary.dataset("train", loaded.x, loaded.y, step=0, csg=csg,
                                random_state=random_state)
            bar.update()
            if model is not None:
                _model_records(model, loaded, tested, facts, notes, bar, robustness=robustness,
                               random_state=random_state, progress=progress)
            summary.run_info("run_info", facts, step=0)
        writer.flush()
    finally:
        writer.close()
    bar.set_description("diagnosis")
    records = read_records(run_dir)
    findings = tuple(diagnose(records, thresholds=thresholds))
    bar.update()
    bar.close()
    return Analysis(run_dir=run_dir, findings=findings, records=records,
                    notes=tuple(notes), accuracy=facts.get("accuracy"),
                    test_accuracy=facts.get("test_accuracy"))


def _held_out(loaded: LoadedData, test, limits: dict) -> LoadedData | None:
    """The ``--test`` data, else an ``.npz``'s own held-out split, else None."""
    if test is not None:
        return test if isinstance(test, LoadedData) else load_data(test, name="--test",
                                                                   **limits)
    if loaded.x_test is not None:
        return LoadedData(x=loaded.x_test, y=loaded.y_test, source=loaded.source,
                          format=loaded.format)
    return None


def _model_records(model, loaded, tested, facts, notes, bar, *, robustness, random_state,
                   progress) -> None:
    """Write the model's capacity and robustness records; put its accuracy in ``facts``."""
    from .. import summary
    from ..measures import dataset_complexity

    bar.set_description("model capacity")
    summary.model("model", model, step=0, complexity=dataset_complexity(loaded.x, loaded.y))
    bar.update()
    bar.set_description("accuracy")
    n_out = int(np.prod(model.output_shape[1:]))
    x_fit = fit_inputs(np.asarray(loaded.x, dtype=np.float32), model)
    codes, note = label_codes(loaded.y, n_out)
    if note:
        notes.append(note)
    facts["accuracy"] = accuracy(model, x_fit, codes)
    xr, cr = x_fit, codes
    if tested is not None:
        xr = fit_inputs(np.asarray(tested.x, dtype=np.float32), model, name="--test")
        cr, _ = label_codes(tested.y, n_out, name="--test")
        facts["test_accuracy"] = accuracy(model, xr, cr)
    bar.update()
    if robustness:
        bar.set_description(f"robustness ({robustness} samples)")
        summary.robustness("robustness", _attack(model, xr, cr, robustness, random_state,
                                                 progress), step=0)
        bar.update()
    facts["model"] = getattr(model, "name", None)


def _attack(model, x, codes, n, random_state, progress):
    """Robustness of ``model`` on a seeded random subset of ``n`` samples."""
    from ..adversarial import robustness as robustness_fn

    pick = np.sort(np.random.RandomState(random_state).permutation(len(x))[:n])
    # the attack keeps inputs inside the data's range (images: [0, 1])
    clip = (min(0.0, float(x.min())), max(1.0, float(x.max())))
    return robustness_fn(model, x[pick], codes[pick], clip=clip, random_state=random_state,
                         batch_size=256, progress=progress)

"""Writing API: one function per record, with ``tf.summary``'s conventions.

Each function takes ``name``, the data, ``step=None`` (falls back to
``tf.summary.experimental.get_step()``) and ``description=None``, writes to
the default summary writer (``with writer.as_default(): ...``), and returns
``True`` if written, ``False`` if no default writer is set — as
``tf.summary.scalar`` does.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from . import contract as metadata
from . import pictures


__all__ = ["MAX_PROJECTION_POINTS", "balance", "checks", "dataset", "dataset_document",
           "diagnostic_error", "model", "model_document", "projection_points", "resampling",
           "robustness", "run_info", "training", "write_dataset_document", "write_model_document",
           "write_record"]


def write_record(kind: str, name: str, document: Mapping[str, Any], step=None,
                 description: str | None = None) -> bool:
    """Write one record document of ``kind`` under tag ``name``.

    The low-level writer every record function goes through; see
    ``docs/data-contract.md`` for the document of each kind.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    payload = metadata.encode_record(kind, document)
    md = metadata.create_summary_metadata(kind, description)
    with tf.summary.experimental.summary_scope(name, "nndebug_record", values=[]) as (tag, _):
        written = tf.summary.write(
            tag=tag,
            tensor=tf.constant([payload], dtype=tf.string),
            step=step,
            metadata=md,
        )
    return bool(written)


# --- dataset / model / balance / checks / training / run_info records (issue 3) ---

#: Points kept in a dataset record's 2-D projection (and its picture).
MAX_PROJECTION_POINTS = 1000


def _has_writer() -> bool:
    """True when a default writer is set and recording is on (tf.summary's rule)."""
    return bool(tf.summary.should_record_summaries())


def _resolve_step(step, default):
    """``step``, else the global summary step, else ``default``, as an int >= 0."""
    if step is None:
        step = tf.summary.experimental.get_step()
    if step is None:
        step = default
    if step is None:
        raise ValueError(
            "step is required: pass step=... or set tf.summary.experimental.set_step()"
        )
    if hasattr(step, "numpy"):
        step = step.numpy()
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) and not (
        isinstance(step, np.ndarray) and step.ndim == 0 and np.issubdtype(step.dtype, np.integer)
    ):
        raise TypeError(f"step must be an integer, got {type(step).__name__}")
    step = int(step)
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return step


def _check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return name


def _check_description(description):
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a string or None, got {type(description).__name__}")
    return description


def _check_document(doc, *, name: str = "doc") -> dict:
    if not isinstance(doc, Mapping):
        raise TypeError(f"{name} must be a mapping (dict), got {type(doc).__name__}")
    try:
        metadata.encode_record(metadata.KIND_RUN_INFO, doc)
    except TypeError as exc:
        raise TypeError(f"{name} cannot be written as JSON: {exc}") from None
    return dict(doc)


def _write_scalars(name: str, values: Mapping[str, Any], step: int) -> None:
    for field, value in values.items():
        if value is None:
            continue
        value = float(value)
        if math.isfinite(value):
            tf.summary.scalar(f"{metadata.SCALAR_PREFIX}{name}/{field}",
                              tf.constant(value, dtype=tf.float32), step=step)


def _write_image(name: str, picture: str, image: np.ndarray, step: int) -> None:
    tf.summary.image(f"{metadata.SCALAR_PREFIX}{name}/{picture}", image[np.newaxis], step=step,
                     max_outputs=1)


def _write(kind: str, name: str, doc: Mapping[str, Any], *, step: int, description=None,
           scalars: Mapping[str, Any] | None = None,
           images: Mapping[str, np.ndarray | None] | None = None) -> bool:
    """The tail every writer shares: the record, its scalar mirrors, its pictures."""
    written = write_record(kind, name, doc, step=step, description=description)
    _write_scalars(name, scalars or {}, step)
    for picture, image in (images or {}).items():
        if image is not None:
            _write_image(name, picture, image, step)
    return written


def _balance_doc(bal) -> dict:
    return {
        "counts": {str(k): int(v) for k, v in bal.counts.items()},
        "proportions": {str(k): float(v) for k, v in bal.proportions.items()},
        "imbalance_ratio": float(bal.imbalance_ratio),
        "minority_fraction": float(bal.minority_fraction),
        "rare_classes": [str(c) for c in bal.rare_classes],
        "normalized_entropy": float(bal.normalized_entropy),
        "n_samples": int(bal.n_samples),
        "n_classes": int(bal.n_classes),
    }


def projection_points(Xa, codes, *, max_points: int = MAX_PROJECTION_POINTS, random_state=0):
    """A 2-D PCA projection of at most ``max_points`` rows: ``(n, 3)`` array of
    ``[x, y, class_index]`` (rows drawn with ``random_state``)."""
    from sklearn.decomposition import PCA

    from .._validation import check_random_state

    rng = check_random_state(random_state)
    n = Xa.shape[0]
    idx = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    sub = np.asarray(Xa[idx], dtype=np.float64)
    if sub.shape[1] >= 2 and sub.shape[0] >= 2:
        pts = PCA(n_components=2, random_state=rng).fit_transform(sub)
    else:  # one feature or one sample: nothing to rotate
        pts = np.zeros((sub.shape[0], 2))
        pts[:, : min(2, sub.shape[1])] = sub[:, :2] - sub[:, :2].mean(axis=0)
    return np.column_stack([pts, codes[idx]])


def _csg_options(csg, random_state) -> dict | None:
    if csg is False or csg is None:
        return None
    if csg is True:
        return {"random_state": random_state}
    if isinstance(csg, Mapping):
        opts = dict(csg)
        opts.setdefault("random_state", random_state)
        return opts
    raise TypeError(f"csg must be True, False or a dict of options for tb_nndebug.csg, got {csg!r}")


def dataset_document(name, X, y, *, csg=True, projection=True, energy: str = "sum",
                     random_state=0) -> dict:
    """Measure a labelled dataset and return its ``dataset`` record document.

    Pure (no TensorBoard writing); :func:`dataset` writes what this returns.
    See :func:`dataset` for the parameters.
    """
    from .. import measures
    from .._validation import check_random_state, check_X_y

    _check_name(name)
    csg_opts = _csg_options(csg, random_state)
    if not isinstance(projection, bool):
        raise TypeError(f"projection must be True or False, got {projection!r}")
    check_random_state(random_state)
    try:
        shape = tuple(np.shape(X))
    except (TypeError, ValueError):  # ragged: check_X_y below says what is wrong
        shape = ()
    Xa, classes, codes = check_X_y(X, y)
    complexity = measures.dataset_complexity(Xa, codes, energy=energy)
    bal = measures.class_balance(codes)
    class_names = [str(c) for c in classes]
    balance_doc = _balance_doc(bal)
    # class_balance saw the 0..K-1 codes: key its tables by the display names.
    balance_doc["counts"] = {class_names[int(k)]: v for k, v in balance_doc["counts"].items()}
    balance_doc["proportions"] = {class_names[int(k)]: v
                                  for k, v in balance_doc["proportions"].items()}
    balance_doc["rare_classes"] = [class_names[int(k)] for k in balance_doc["rare_classes"]]
    csg_doc, csg_error = None, None
    smallest = int(np.bincount(codes).min())
    k = csg_opts.get("k", 3) if csg_opts is not None else None
    if csg_opts is not None and len(classes) >= 2 and isinstance(k, int) and smallest <= k:
        # a property of the data, not a mistake in the call: say so in the record
        csg_error = (f"skipped: the smallest class has {smallest} sample(s); "
                     f"CSG with k={k} neighbours needs more than k per class")
    elif csg_opts is not None and len(classes) >= 2:
        csg_doc = measures.csg(Xa, codes, **csg_opts).to_dict()
    proj_doc = None
    if projection:
        pts = projection_points(Xa, codes, random_state=random_state)
        proj_doc = {"method": "pca",
                    "points": [[round(float(a), 5), round(float(b), 5), int(c)] for a, b, c in pts]}
    return {
        "name": name,
        "n_samples": int(Xa.shape[0]),
        "dim": int(Xa.shape[1]),
        "input_shape": [int(d) for d in shape[1:]] if len(shape) > 1 else [int(Xa.shape[1])],
        "n_classes": len(classes),
        "classes": class_names,
        "complexity": {
            "expected_bits": int(complexity.expected_bits),
            "expected_bits_exact": float(complexity.expected_bits_exact),
            "max_bits": int(complexity.max_bits),
            "thresholds": int(complexity.thresholds),
            "energy": complexity.energy,
        },
        "csg": csg_doc,
        "csg_error": csg_error,
        "balance": balance_doc,
        "input_stats": {
            "min": float(Xa.min()), "max": float(Xa.max()),
            "mean": float(Xa.mean()), "std": float(Xa.std()),
        },
        "projection": proj_doc,
    }


def dataset(name, X, y, *, csg=True, projection=True, energy: str = "sum", step=None,
            description=None, random_state=0) -> bool:
    """Log a labelled dataset: complexity, CSG, balance, input range, projection.

    Writes a ``dataset`` record under tag ``name``, its key numbers as
    scalars under ``nndebug/<name>/...`` and the 2-D projection as an image
    ``nndebug/<name>/projection``.

    Parameters
    ----------
    name : str
        Tag of the record (e.g. ``"train"``).
    X : array-like of shape (n_samples, ...)
        Features; each sample is flattened for the measures.
    y : array-like of shape (n_samples,)
        Labels (ints, strings or one-hot rows).
    csg : bool or dict, default=True
        Compute the Cumulative Spectral Gradient; a dict is passed as options
        to :func:`tb_nndebug.csg` (e.g. ``{"samples_per_class": 100}``).
    projection : bool, default=True
        Add a PCA projection of at most 1,000 points (record and image).
    energy : {"sum", "l1"}, default="sum"
        See :func:`tb_nndebug.dataset_complexity`.
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
    description : str, optional
    random_state : int, default=0
        Seeds the CSG sampling and the projection's subsample.

    Returns
    -------
    bool
        True if written, False if there is no default summary writer.
    """
    _check_description(description)
    step = _resolve_step(step, 0)
    doc = dataset_document(name, X, y, csg=csg, projection=projection, energy=energy,
                           random_state=random_state)
    return write_dataset_document(name, doc, step=step, description=description)


def write_dataset_document(name, doc, *, step, description=None) -> bool:
    """Write a document from :func:`dataset_document` with its scalars and image."""
    if not _has_writer():
        return False
    image = None
    if doc["projection"] is not None:
        pts = np.asarray(doc["projection"]["points"], dtype=float).reshape(-1, 3)
        image = pictures.draw_projection(pts[:, :2], pts[:, 2].astype(int), classes=doc["classes"],
                                         title=f"{name}: PCA projection")
    return _write(metadata.KIND_DATASET, name, doc, step=step, description=description, scalars={
        "expected_bits": doc["complexity"]["expected_bits"],
        "max_bits": doc["complexity"]["max_bits"],
        "csg": doc["csg"]["score"] if doc["csg"] else None,
        "imbalance_ratio": doc["balance"]["imbalance_ratio"],
    }, images={"projection": image})


def model_document(name, model, *, complexity=None) -> dict:
    """Measure a built Keras model and return its ``model`` record document.

    Pure apart from reading the model; :func:`model` writes what this returns.
    """
    from . import keras_facts as ki
    from .. import measures

    _check_name(name)
    ki.check_model(model)
    cap = measures.model_capacity(model)
    layers = []
    for lc in cap.layers:
        layers.append({
            "name": str(lc.name), "kind": str(lc.kind), "params": int(lc.params),
            "input_bits": None if lc.input_bits is None or math.isinf(lc.input_bits)
            else float(lc.input_bits),
            "capacity_bits": float(lc.capacity_bits),
            "output_bits": None if lc.output_bits is None or math.isinf(lc.output_bits)
            else float(lc.output_bits),
        })
    doc = {
        "name": name,
        "model_name": str(model.name),
        "bits": int(cap.bits),
        "n_params": int(cap.n_params),
        "trainable_params": int(cap.trainable_params),
        "input_shape": ki.shape_without_batch(getattr(model, "input_shape", None)),
        "n_outputs": ki.n_outputs(model),
        "output_activation": ki.output_activation(model),
        "layers": layers,
        "match": None,
    }
    if complexity is not None:
        if not hasattr(complexity, "expected_bits") or not hasattr(complexity, "max_bits"):
            raise TypeError(
                "complexity must be a DatasetComplexity (tb_nndebug.dataset_complexity), "
                f"got {type(complexity).__name__}"
            )
        m = measures.capacity_match(cap.bits, complexity)
        doc["match"] = {"verdict": m.verdict, "ratio": float(m.ratio),
                        "expected_bits": int(m.expected_bits), "max_bits": int(m.max_bits)}
    return doc


def model(name, model, *, complexity=None, step=None, description=None) -> bool:
    """Log a Keras model's capacity: per-layer table and Figure-2 bar chart.

    Writes a ``model`` record under tag ``name``, ``nndebug/<name>/bits``
    (and ``.../ratio`` when ``complexity`` is given) as scalars and the
    per-layer capacity chart as image ``nndebug/<name>/capacity``.

    Parameters
    ----------
    name : str
        Tag of the record (e.g. ``"model"``).
    model : keras.Model
        A built model (it has an ``Input`` or has been called on data).
    complexity : DatasetComplexity, optional
        The dataset's requirement; adds the capacity verdict to the record
        and the expected/maximum bits to the chart.
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
    description : str, optional

    Returns
    -------
    bool
        True if written, False if there is no default summary writer.
    """
    _check_description(description)
    step = _resolve_step(step, 0)
    doc = model_document(name, model, complexity=complexity)
    return write_model_document(name, doc, step=step, description=description)


def write_model_document(name, doc, *, step, description=None) -> bool:
    """Write a document from :func:`model_document` with its scalar and chart."""
    if not _has_writer():
        return False
    image = pictures.draw_capacity(
        [lay["name"] for lay in doc["layers"]], [lay["capacity_bits"] for lay in doc["layers"]],
        output_bits=[lay["output_bits"] for lay in doc["layers"]],
        expected_bits=doc["match"]["expected_bits"] if doc["match"] else None,
        max_bits=doc["match"]["max_bits"] if doc["match"] else None,
        title=f"{doc['model_name']}: {doc['bits']:,} bits",
    )
    return _write(metadata.KIND_MODEL, name, doc, step=step, description=description,
                  scalars={"bits": doc["bits"],
                           "ratio": doc["match"]["ratio"] if doc["match"] else None},
                  images={"capacity": image})


def balance(name, y, *, stage=None, rare_fraction: float = 0.05, step=None,
            description=None) -> bool:
    """Log the class balance of labels ``y`` (e.g. before/after resampling).

    Writes a ``balance`` record, ``nndebug/<name>/imbalance_ratio`` and
    ``.../minority_fraction`` scalars and a bar chart image
    ``nndebug/<name>/balance``.

    Parameters
    ----------
    name : str
    y : array-like of shape (n_samples,)
        Labels (ints, strings or one-hot rows).
    stage : {"before", "after", None}, default=None
    rare_fraction : float, default=0.05
        Classes under this share are listed as rare (the paper's 5 %).
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
    description : str, optional

    Returns
    -------
    bool
    """
    from .. import measures

    _check_name(name)
    _check_description(description)
    if stage not in (None, "before", "after"):
        raise ValueError(f"stage must be 'before', 'after' or None, got {stage!r}")
    step = _resolve_step(step, 0)
    bal = measures.class_balance(y, rare_fraction=rare_fraction)
    doc = dict(_balance_doc(bal), name=name, stage=stage)
    if not _has_writer():
        return False
    image = pictures.draw_balance(doc["counts"], title=f"{name}: class balance")
    return _write(metadata.KIND_BALANCE, name, doc, step=step, description=description,
                  scalars={"imbalance_ratio": doc["imbalance_ratio"],
                           "minority_fraction": doc["minority_fraction"]},
                  images={"balance": image})


def checks(name, doc, *, step=None, description=None) -> bool:
    """Log the static checks done before training (see docs/data-contract.md).

    Parameters
    ----------
    name : str
    doc : mapping
        The ``checks`` document (optimizer, learning_rate, loss, ...).
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
    description : str, optional

    Returns
    -------
    bool
    """
    _check_name(name)
    _check_description(description)
    doc = _check_document(doc)
    step = _resolve_step(step, 0)
    if not _has_writer():
        return False
    return _write(metadata.KIND_CHECKS, name, doc, step=step, description=description,
                  scalars={"learning_rate": doc.get("learning_rate")})


def _number(value):
    return float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else None


def training(name, doc, *, step=None, description=None) -> bool:
    """Log one epoch's training signals (see docs/data-contract.md).

    Scalars mirrored under ``nndebug/<name>/``: ``learning_rate``,
    ``probe_loss``, ``weight_update_ratio``, ``max_dead_fraction`` and
    ``grad_norm_ratio`` (first/last layer).

    Parameters
    ----------
    name : str
    doc : mapping
        The ``training`` document (epoch, history, grad_norms, ...).
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else ``doc["epoch"]``.
    description : str, optional

    Returns
    -------
    bool
    """
    _check_name(name)
    _check_description(description)
    doc = _check_document(doc)
    epoch = doc.get("epoch")
    step = _resolve_step(step, epoch if isinstance(epoch, numbers.Integral) else None)
    if not _has_writer():
        return False
    norms = [_number(g.get("norm")) for g in doc.get("grad_norms") or [] if isinstance(g, Mapping)]
    ratio = None
    if len(norms) >= 2 and norms[0] is not None and norms[-1]:
        ratio = norms[0] / norms[-1]
    dead = [_number(d.get("fraction")) for d in doc.get("dead_units") or []
            if isinstance(d, Mapping)]
    dead = [d for d in dead if d is not None]
    return _write(metadata.KIND_TRAINING, name, doc, step=step, description=description, scalars={
        "learning_rate": _number(doc.get("learning_rate")),
        "probe_loss": _number(doc.get("probe_loss")),
        "weight_update_ratio": _number(doc.get("weight_update_ratio")),
        "max_dead_fraction": max(dead) if dead else None,
        "grad_norm_ratio": ratio,
    })


def run_info(name, doc, *, step=None, description=None) -> bool:
    """Log free-form facts about a run (architecture, capacity level, ...).

    Numbers at the top level of ``doc`` are mirrored as scalars.

    Returns
    -------
    bool
    """
    _check_name(name)
    _check_description(description)
    doc = _check_document(doc)
    step = _resolve_step(step, 0)
    if not _has_writer():
        return False
    return _write(metadata.KIND_RUN_INFO, name, doc, step=step, description=description,
                  scalars={k: _number(v) for k, v in doc.items()})


def diagnostic_error(diagnostic, error, *, epoch=None, errors=None, name="diagnostic_error",
                     step=None, description=None) -> bool:
    """Record that a diagnostic raised (the callback goes on training).

    Parameters
    ----------
    diagnostic : str
        Which diagnostic failed (e.g. ``"dead_units"``).
    error : BaseException or str
    epoch : int, optional
    errors : list of (diagnostic, error) or (diagnostic, error, epoch), optional
        Further failures: at the same step (one record per tag and step), or
        at the epoch given (a record that accumulates a run's failures).
    name, step, description
        As for the other writers; ``step`` defaults to ``epoch``, else 0.

    Returns
    -------
    bool
    """
    _check_name(name)
    _check_description(description)
    if not isinstance(diagnostic, str) or not diagnostic:
        raise ValueError(f"diagnostic must be a non-empty string, got {diagnostic!r}")

    def text(err):
        if isinstance(err, BaseException):
            return f"{type(err).__name__}: {err}"
        if isinstance(err, str):
            return err
        raise TypeError(f"error must be an exception or a string, got {type(err).__name__}")

    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral)):
        raise TypeError(f"epoch must be an integer or None, got {type(epoch).__name__}")
    all_errors = [{"diagnostic": diagnostic, "error": text(error),
                   "epoch": None if epoch is None else int(epoch)}]
    for item in errors or []:
        d, e, *at = item  # (diagnostic, error) or (diagnostic, error, epoch)
        all_errors.append({"diagnostic": str(d), "error": text(e),
                           "epoch": at[0] if at else all_errors[0]["epoch"]})
    step = _resolve_step(step, 0 if epoch is None else int(epoch))
    doc = {"diagnostic": diagnostic, "error": all_errors[0]["error"],
           "epoch": None if epoch is None else int(epoch), "errors": all_errors}
    if not _has_writer():
        return False
    return write_record(metadata.KIND_DIAGNOSTIC_ERROR, name, doc, step=step,
                        description=description)


# --- resampling records (issue 4) ---

def _resampling_projection(Xb, Xa, codes_b, codes_a, syn, *, max_points, random_state):
    """PCA fitted on the standardised data before resampling, applied to both."""
    import numpy as np
    from sklearn.decomposition import PCA

    mean = Xb.mean(axis=0)
    std = Xb.std(axis=0)
    std[std == 0] = 1.0
    Zb, Za = (Xb - mean) / std, (Xa - mean) / std
    if Zb.shape[1] >= 2:
        pca = PCA(n_components=2, svd_solver="full").fit(Zb)
        Pb, Pa = pca.transform(Zb), pca.transform(Za)
    else:
        Pb = np.hstack([Zb, np.zeros_like(Zb)])
        Pa = np.hstack([Za, np.zeros_like(Za)])
    rng = np.random.RandomState(random_state)

    def pick(n):
        return np.sort(rng.choice(n, max_points, replace=False)) if n > max_points else np.arange(n)

    ib, ia = pick(len(Pb)), pick(len(Pa))
    before = [[float(Pb[i, 0]), float(Pb[i, 1]), int(codes_b[i])] for i in ib]
    after = [[float(Pa[i, 0]), float(Pa[i, 1]), int(codes_a[i]), bool(syn[i])] for i in ia]
    return before, after


def resampling(name, X_before, y_before, X_after, y_after, *, trials=None, chosen=None,
               method="resampled", synthetic=None, resampler=None, step=None,
               description=None, max_points=1000, random_state=0, images=True) -> bool:
    """Write a ``resampling`` record: class counts and data before/after resampling.

    Also mirrors key numbers as float32 scalars under ``nndebug/<name>/...``
    (``expected_bits_before``, ``expected_bits_after``, ``n_synthetic``,
    ``n_removed``, ``imbalance_ratio_before``, ``imbalance_ratio_after``) and,
    with ``images=True``, draws two pictures for the Images tab:
    ``nndebug/<name>/class_counts`` (before/after bars) and
    ``nndebug/<name>/projection`` (the same 2-D PCA before | after, synthetic
    points drawn as crosses — the paper's Figure 3).

    Parameters
    ----------
    name : str
        Tag of the record.
    X_before, y_before : array-like
        The data given to the sampler (tables or images; labels ints/strings).
    X_after, y_after : array-like
        What the sampler returned.
    trials : sequence of ResamplingTrial or dict, optional
        Trials of a capacity-guided search (``CapacityGuidedResampler.trials_``).
    chosen : int, optional
        Index of the kept trial.
    method : str, default="resampled"
        Shown as the record's ``method`` (e.g. ``"smote"``).
    synthetic : array-like of bool, optional
        Which rows of ``X_after`` are synthetic; by default rows not found in
        ``X_before`` (:func:`tb_nndebug.resampling.synthetic_mask`).
    resampler : CapacityGuidedResampler, optional
        A fitted resampler; fills ``trials``, ``chosen``, ``method`` and
        ``synthetic`` from it when those are not given.
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``.
    description : str, optional
    max_points : int, default=1000
        Points kept in each projection (a seeded random subset).
    random_state : int, default=0
        Seeds that subset.
    images : bool, default=True
        Also write the two pictures.

    Returns
    -------
    bool
        True if written, False if no default summary writer is set.
    """
    import numpy as np

    from . import pictures
    from .._validation import check_positive_int
    from ..measures.balance import class_balance
    from ..measures.complexity import dataset_complexity
    from ..resampling import _prepare, synthetic_mask

    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    max_points = check_positive_int(max_points, name="max_points")
    if resampler is not None:
        if not hasattr(resampler, "trials_"):
            raise ValueError("resampler must be a fitted CapacityGuidedResampler")
        trials = resampler.trials_ if trials is None else trials
        chosen = resampler.chosen_ if chosen is None else chosen
        synthetic = resampler.synthetic_mask_ if synthetic is None else synthetic
        if method == "resampled":
            method = resampler.method_
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    before = _prepare(X_before, y_before, min_classes=1)
    after = _prepare(X_after, y_after, min_classes=1)
    if before.X.shape[1] != after.X.shape[1]:
        raise ValueError(
            f"X_before and X_after have different sample sizes: "
            f"{before.X.shape[1]} != {after.X.shape[1]}"
        )
    if synthetic is None:
        syn = synthetic_mask(before.X, after.X)
    else:
        syn = np.asarray(synthetic, dtype=bool).reshape(-1)
        if syn.shape[0] != after.X.shape[0]:
            raise ValueError(
                f"synthetic must have one entry per sample of X_after "
                f"({after.X.shape[0]}), got {syn.shape[0]}"
            )
    trial_docs = []
    for t in trials or []:
        trial_docs.append(t.to_dict() if hasattr(t, "to_dict") else dict(t))
    if chosen is not None:
        if isinstance(chosen, bool) or not isinstance(chosen, (int, np.integer)) \
                or not 0 <= chosen < max(len(trial_docs), 1) or not trial_docs:
            raise ValueError(
                f"chosen must index trials (0..{len(trial_docs) - 1}), got {chosen!r}"
            )
        chosen = int(chosen)
    if not tf.summary.should_record_summaries():
        return False

    classes = np.unique(np.concatenate([before.y, after.y]))
    codes_b = np.searchsorted(classes, before.y)
    codes_a = np.searchsorted(classes, after.y)
    bal_b, bal_a = class_balance(before.y), class_balance(after.y)
    cx_b, cx_a = dataset_complexity(before.X, before.y), dataset_complexity(after.X, after.y)
    n_synthetic = int(syn.sum())
    n_removed = int(before.X.shape[0] - (after.X.shape[0] - n_synthetic))
    proj_b, proj_a = _resampling_projection(
        before.X, after.X, codes_b, codes_a, syn,
        max_points=max_points, random_state=random_state)
    doc = {
        "name": name,
        "method": method,
        "classes": [str(c) for c in classes],
        "before": {str(k): v for k, v in bal_b.counts.items()},
        "after": {str(k): v for k, v in bal_a.counts.items()},
        "n_before": int(before.X.shape[0]),
        "n_after": int(after.X.shape[0]),
        "n_synthetic": n_synthetic,
        "n_removed": n_removed,
        "imbalance_ratio_before": bal_b.imbalance_ratio,
        "imbalance_ratio_after": bal_a.imbalance_ratio,
        "expected_bits_before": cx_b.expected_bits,
        "expected_bits_after": cx_a.expected_bits,
        "expected_bits_exact_before": cx_b.expected_bits_exact,
        "expected_bits_exact_after": cx_a.expected_bits_exact,
        "trials": trial_docs,
        "chosen": chosen,
        "projection": {"method": "pca", "points": proj_a},
        "projection_before": {"method": "pca", "points": proj_b},
    }
    pics = {}
    if images:
        names = doc["classes"]
        pics["class_counts"] = pictures.draw_balance(doc["before"], after=doc["after"],
                                                     title=f"Class counts: {method}")
        pb, pa = np.asarray(proj_b, float), np.asarray(proj_a, float)
        left = pictures.draw_projection(pb[:, :2], pb[:, 2], classes=names,
                                        title="before")
        right = pictures.draw_projection(pa[:, :2], pa[:, 2], classes=names,
                                         synthetic=pa[:, 3] > 0.5, title=f"after {method}")
        pics["projection"] = np.concatenate([left, right], axis=1)
    return _write(metadata.KIND_RESAMPLING, name, doc, step=step, description=description,
                  scalars={field: doc[field] for field in (
                      "expected_bits_before", "expected_bits_after", "n_synthetic", "n_removed",
                      "imbalance_ratio_before", "imbalance_ratio_after")},
                  images=pics)



# --- robustness records (issue 5) ---

def robustness(name, result, *, step=None, description=None, examples: int = 4) -> bool:
    """Log a :class:`tb_nndebug.RobustnessResult`.

    Writes the ``robustness`` record (``result.to_record()``), the scalars
    ``nndebug/<name>/{median_eps, median_pixels, pixel_fraction,
    clean_accuracy, censored_fraction}`` (non-finite ones are skipped) and
    one image ``nndebug/<name>/adversarial_examples``: a row per example,
    ``original | adversarial | difference``.

    Parameters
    ----------
    name : str
        Tag of the record.
    result : RobustnessResult
    step : int, optional
        Defaults to the global summary step, else 0.
    description : str, optional
    examples : int
        How many adversarial examples go into the record and the image.

    Returns
    -------
    bool
        False when no default writer is set.
    """
    from ..adversarial import RobustnessResult, example_grid

    _check_name(name)
    _check_description(description)
    if not isinstance(result, RobustnessResult):
        raise TypeError(
            f"result must be a RobustnessResult (from tb_nndebug.robustness()), "
            f"got {type(result).__name__}"
        )
    if isinstance(examples, bool) or not isinstance(examples, numbers.Integral) or examples < 0:
        raise ValueError(f"examples must be an integer >= 0, got {examples!r}")
    step = _resolve_step(step, 0)
    if not _has_writer():
        return False
    doc = result.to_record(n_examples=int(examples))
    return _write(metadata.KIND_ROBUSTNESS, name, doc, step=step, description=description,
                  scalars={field: doc[field] for field in (
                      "median_eps", "median_pixels", "pixel_fraction", "clean_accuracy",
                      "censored_fraction")},
                  images={"adversarial_examples": example_grid(result,
                                                               n_examples=int(examples))})

"""Writing API: one function per record kind, with ``tf.summary``'s conventions.

Each writer is its kind's pure builder (:mod:`tb_nndebug.records.documents`)
followed by one shared write path: ``name`` is the tag; ``step`` falls back to
``tf.summary.experimental.get_step()``, then to the kind's default;
``description`` goes into the summary metadata; the record, its float32 scalar
mirrors under ``nndebug/<name>/...`` and its pictures go to the default
summary writer (``with writer.as_default(): ...``). A writer returns ``True``
if written, ``False`` if no default writer is set — as ``tf.summary.scalar``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from . import contract as metadata
from . import documents
from .documents import (
    MAX_PROJECTION_POINTS,
    balance_document,
    checks_document,
    csg_options,
    dataset_document,
    diagnostic_error_document,
    model_document,
    projection_points,
    resampling_document,
    robustness_document,
    run_info_document,
    training_document,
)

__all__ = ["MAX_PROJECTION_POINTS", "balance", "balance_document", "checks", "checks_document",
           "csg_options", "dataset", "dataset_document", "default_step", "diagnostic_error",
           "diagnostic_error_document", "model", "model_document", "projection_points",
           "resampling", "resampling_document", "robustness", "robustness_document",
           "run_info", "run_info_document", "training", "training_document",
           "write_document", "write_record"]


def write_record(kind: str, name: str, document: Mapping[str, Any], step=None,
                 description: str | None = None) -> bool:
    """Write one record document of ``kind`` under tag ``name`` (no mirrors).

    The low level under every writer; see ``docs/data-contract.md`` for the
    document of each kind.

    Parameters
    ----------
    kind : str
        One of :data:`tb_nndebug.records.contract.KINDS`.
    name : str
        The tag.
    document : mapping
        The JSON document.
    step : int, optional
        As for ``tf.summary.write`` (defaults to the global summary step).
    description : str, optional

    Returns
    -------
    bool
        True if written, False if there is no default summary writer.
    """
    documents.check_name(name)
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


def _check_description(description):
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a string or None, got {type(description).__name__}")
    return description


def default_step(kind: str, doc: Mapping[str, Any]) -> int | None:
    """The step a ``kind`` record gets when neither ``step=`` nor a global step is set.

    Parameters
    ----------
    kind : str
    doc : mapping
        The record document.

    Returns
    -------
    int or None
        The document's ``epoch`` for ``training`` (None, i.e. a step is
        required, without one) and ``diagnostic_error`` (0 without one); 0 for
        every other kind.
    """
    epoch = doc.get("epoch") if isinstance(doc, Mapping) else None
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
        epoch = None
    if kind == metadata.KIND_TRAINING:
        return epoch
    if kind == metadata.KIND_DIAGNOSTIC_ERROR and epoch is not None:
        return int(epoch)
    return 0


def _emit(kind: str, name: str, doc: Mapping[str, Any], *, step, description=None,
          images: bool = True,
          more_images: Callable[[], Mapping[str, np.ndarray | None]] | None = None) -> bool:
    """The write path every writer shares: checks, step, the record, its mirrors.

    ``more_images`` draws pictures the document cannot carry (robustness).
    """
    documents.check_name(name)
    _check_description(description)
    step = _resolve_step(step, default_step(kind, doc))
    if not tf.summary.should_record_summaries():  # no default writer (tf.summary's rule)
        return False
    mirror = documents.mirrors(kind, name, doc, images=images)
    written = write_record(kind, name, doc, step=step, description=description)
    for field, value in mirror.scalars.items():
        if value is not None and math.isfinite(float(value)):
            tf.summary.scalar(f"{metadata.SCALAR_PREFIX}{name}/{field}",
                              tf.constant(float(value), dtype=tf.float32), step=step)
    pictures = dict(mirror.images)
    if images and more_images is not None:
        pictures.update(more_images())
    for picture, image in pictures.items():
        if image is not None:
            tf.summary.image(f"{metadata.SCALAR_PREFIX}{name}/{picture}", image[np.newaxis],
                             step=step, max_outputs=1)
    return written


def write_document(kind: str, name: str, doc: Mapping[str, Any], *, step=None,
                   description=None, images: bool = True) -> bool:
    """Write a document already built by ``<kind>_document`` with its mirrors.

    For callers that keep the document (the callback reads its numbers back);
    the writers below are this after their builder.

    Parameters
    ----------
    kind : str
        One of :data:`tb_nndebug.records.contract.KINDS`.
    name : str
        The tag.
    doc : mapping
        What ``<kind>_document`` returned.
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else the kind's
        default (:func:`default_step`).
    description : str, optional
    images : bool, default=True
        Also draw the kind's pictures for TensorBoard's Images tab (the
        Debugger tab draws its charts from the document and needs none).

    Returns
    -------
    bool
        True if written, False if there is no default summary writer.
    """
    return _emit(kind, name, doc, step=step, description=description, images=images)




def dataset(name, X, y, *, csg=True, projection=True, energy: str = "sum", step=None,
            description=None, random_state=0) -> bool:
    """Log a labelled dataset: complexity, CSG, balance, input range, projection.

    Writes a ``dataset`` record under tag ``name`` (:func:`dataset_document`),
    its key numbers as scalars under ``nndebug/<name>/...`` and the 2-D
    projection as an image ``nndebug/<name>/projection``.

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
    doc = dataset_document(name, X, y, csg=csg, projection=projection, energy=energy,
                           random_state=random_state)
    return _emit(metadata.KIND_DATASET, name, doc, step=step, description=description)


def model(name, model, *, complexity=None, step=None, description=None) -> bool:
    """Log a Keras model's capacity: per-layer table and Figure-2 bar chart.

    Writes a ``model`` record under tag ``name`` (:func:`model_document`),
    ``nndebug/<name>/bits`` (and ``.../ratio`` when ``complexity`` is given)
    as scalars and the per-layer capacity chart as image
    ``nndebug/<name>/capacity``.

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
    doc = model_document(name, model, complexity=complexity)
    return _emit(metadata.KIND_MODEL, name, doc, step=step, description=description)


def balance(name, y, *, stage=None, rare_fraction: float = 0.05, step=None,
            description=None) -> bool:
    """Log the class balance of labels ``y`` (e.g. before/after resampling).

    Writes a ``balance`` record (:func:`balance_document`),
    ``nndebug/<name>/imbalance_ratio`` and ``.../minority_fraction`` scalars
    and a bar chart image ``nndebug/<name>/balance``.

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
    doc = balance_document(name, y, stage=stage, rare_fraction=rare_fraction)
    return _emit(metadata.KIND_BALANCE, name, doc, step=step, description=description)


def checks(name, doc, *, step=None, description=None) -> bool:
    """Log the static checks done before training (see docs/data-contract.md).

    Mirrors ``nndebug/<name>/learning_rate`` as a scalar.

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
    return _emit(metadata.KIND_CHECKS, name, checks_document(doc), step=step,
                 description=description)


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
    return _emit(metadata.KIND_TRAINING, name, training_document(doc), step=step,
                 description=description)


def run_info(name, doc, *, step=None, description=None) -> bool:
    """Log free-form facts about a run (architecture, capacity level, ...).

    Finite numbers at the top level of ``doc`` are mirrored as scalars.

    Parameters
    ----------
    name : str
    doc : mapping
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
    description : str, optional

    Returns
    -------
    bool
    """
    return _emit(metadata.KIND_RUN_INFO, name, run_info_document(doc), step=step,
                 description=description)


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
    name : str, default="diagnostic_error"
    step : int, optional
        Defaults to ``tf.summary.experimental.get_step()``, else ``epoch``, else 0.
    description : str, optional

    Returns
    -------
    bool
    """
    doc = diagnostic_error_document(diagnostic, error, epoch=epoch, errors=errors)
    return _emit(metadata.KIND_DIAGNOSTIC_ERROR, name, doc, step=step, description=description)


def resampling(name, X_before, y_before, X_after, y_after, *, trials=None, chosen=None,
               method="resampled", synthetic=None, resampler=None, step=None,
               description=None, max_points=1000, random_state=0, images=True) -> bool:
    """Write a ``resampling`` record: class counts and data before/after resampling.

    The document is :func:`resampling_document`'s. Also mirrors key numbers
    as float32 scalars under ``nndebug/<name>/...`` (``expected_bits_before``,
    ``expected_bits_after``, ``n_synthetic``, ``n_removed``,
    ``imbalance_ratio_before``, ``imbalance_ratio_after``) and, with
    ``images=True``, draws two pictures for the Images tab:
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
        Defaults to ``tf.summary.experimental.get_step()``, else 0.
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
    doc = resampling_document(name, X_before, y_before, X_after, y_after, trials=trials,
                              chosen=chosen, method=method, synthetic=synthetic,
                              resampler=resampler, max_points=max_points,
                              random_state=random_state)
    return _emit(metadata.KIND_RESAMPLING, name, doc, step=step, description=description,
                 images=images)


def robustness(name, result, *, step=None, description=None, examples: int = 4) -> bool:
    """Log a :class:`tb_nndebug.RobustnessResult`.

    Writes the ``robustness`` record (:func:`robustness_document`), the
    scalars ``nndebug/<name>/{median_eps, median_pixels, pixel_fraction,
    clean_accuracy, censored_fraction}`` (non-finite ones are skipped) and
    one image ``nndebug/<name>/adversarial_examples``: a row per example,
    ``original | adversarial | difference`` (drawn from ``result``).

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
    from ..adversarial import example_grid

    doc = robustness_document(result, examples=examples)
    return _emit(metadata.KIND_ROBUSTNESS, name, doc, step=step, description=description,
                 more_images=lambda: {"adversarial_examples": example_grid(
                     result, n_examples=len(doc["examples"]))})

"""Pure document builders: one ``<kind>_document(...) -> dict`` per record kind.

A builder validates its arguments, computes the measures its kind needs and
returns the JSON document of ``docs/data-contract.md`` — no ``tf.summary``
call, no writer needed. :func:`mirrors` says, for any kind, which float32
scalars and pictures a writer mirrors beside the record; it reads them off
the document alone (only the ``robustness`` picture needs the result object,
see :func:`tb_nndebug.records.writers.robustness`).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .._values import finite_or_none, get_path
from . import contract

__all__ = ["MAX_PROJECTION_POINTS", "Mirrors", "balance_document", "check_name", "checks_document",
           "csg_options", "dataset_document", "diagnostic_error_document", "mirrors",
           "model_document", "projection_points", "resampling_document",
           "robustness_document", "run_info_document", "training_document"]

#: Points kept in a dataset record's 2-D projection (and its picture).
MAX_PROJECTION_POINTS = 1000




def check_name(name) -> str:
    """``name`` if it is a non-empty string (a record's tag).

    Parameters
    ----------
    name : object

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``name`` is not a non-empty string.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return name


def _check_free_document(doc, *, kind: str, name: str = "doc") -> dict:
    """A copy of the caller's mapping, once it is known to encode as JSON."""
    if not isinstance(doc, Mapping):
        raise TypeError(f"{name} must be a mapping (dict), got {type(doc).__name__}")
    try:
        contract.encode_record(kind, doc)
    except TypeError as exc:
        raise TypeError(f"{name} cannot be written as JSON: {exc}") from None
    return dict(doc)


def csg_options(csg, random_state) -> dict | None:
    """The options :func:`tb_nndebug.csg` gets for a ``csg=`` argument, or None (off).

    Parameters
    ----------
    csg : bool or mapping
        ``True`` (defaults), ``False``/``None`` (off) or options for
        :func:`tb_nndebug.csg`.
    random_state : int
        Used when the options name no ``random_state``.

    Returns
    -------
    dict or None

    Raises
    ------
    TypeError
        For any other ``csg``.
    """
    if csg is False or csg is None:
        return None
    if csg is True:
        return {"random_state": random_state}
    if isinstance(csg, Mapping):
        opts = dict(csg)
        opts.setdefault("random_state", random_state)
        return opts
    raise TypeError(f"csg must be True, False or a dict of options for tb_nndebug.csg, got {csg!r}")




def _balance_fields(bal, class_names=None) -> dict:
    """A ``ClassBalance`` as the contract's ``balance`` fields; ``class_names``
    maps 0..K-1 codes to display names."""
    def label(k):
        return class_names[int(k)] if class_names is not None else str(k)

    return {
        "counts": {label(k): int(v) for k, v in bal.counts.items()},
        "proportions": {label(k): float(v) for k, v in bal.proportions.items()},
        "imbalance_ratio": float(bal.imbalance_ratio),
        "minority_fraction": float(bal.minority_fraction),
        "rare_classes": [label(c) for c in bal.rare_classes],
        "normalized_entropy": float(bal.normalized_entropy),
        "n_samples": int(bal.n_samples),
        "n_classes": int(bal.n_classes),
    }


def balance_document(name, y, *, stage=None, rare_fraction: float = 0.05) -> dict:
    """The ``balance`` record document of labels ``y``.

    Parameters
    ----------
    name : str
        Tag of the record.
    y : array-like of shape (n_samples,)
        Labels (ints, strings or one-hot rows).
    stage : {"before", "after", None}, default=None
    rare_fraction : float, default=0.05
        Classes under this share are listed as rare.

    Returns
    -------
    dict
    """
    from .. import measures

    check_name(name)
    if stage not in (None, "before", "after"):
        raise ValueError(f"stage must be 'before', 'after' or None, got {stage!r}")
    bal = measures.class_balance(y, rare_fraction=rare_fraction)
    return dict(_balance_fields(bal), name=name, stage=stage)


def projection_points(Xa, codes, *, max_points: int = MAX_PROJECTION_POINTS, random_state=0):
    """A 2-D PCA projection of at most ``max_points`` rows.

    The kept rows are converted to float64 when that copy is small (at most
    16 MB, ``measures._chunks.CHUNK_BYTES``: 1,000 MNIST digits); wider rows
    (images) are projected in float32, chunk by chunk, by a randomized PCA
    fitted on as many of them as the measures' 256 MB working budget holds
    (``measures._chunks.SAMPLE_BYTES``).

    Parameters
    ----------
    Xa : ndarray of shape (n_samples, n_features)
        Any numeric dtype (uint8 images are not copied whole).
    codes : ndarray of shape (n_samples,)
        Class index of each row.
    max_points : int, default=1000
    random_state : int, default=0
        Draws the kept rows.

    Returns
    -------
    ndarray of shape (n, 3)
        ``[x, y, class_index]`` rows.
    """
    from sklearn.decomposition import PCA

    from .._validation import check_random_state
    from ..measures._chunks import CHUNK_BYTES, SAMPLE_BYTES, fit_rows, project_rows

    rng = check_random_state(random_state)
    n = Xa.shape[0]
    idx = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    d = Xa.shape[1]
    if len(idx) * d * 8 > CHUNK_BYTES and len(idx) >= 2 and d >= 2:
        fit = fit_rows(idx, d, budget=SAMPLE_BYTES, copies=3, rng=rng)
        pca = PCA(n_components=2, svd_solver="randomized", iterated_power=3, random_state=rng,
                  copy=False)
        pca.fit(np.asarray(Xa[fit], dtype=np.float32))
        pts = project_rows(Xa, pca.mean_, pca.components_, rows=idx)
        return np.column_stack([pts, codes[idx]])
    sub = np.asarray(Xa[idx], dtype=np.float64)
    if sub.shape[1] >= 2 and sub.shape[0] >= 2:
        pts = PCA(n_components=2, random_state=rng).fit_transform(sub)
    else:  # one feature or one sample: nothing to rotate
        pts = np.zeros((sub.shape[0], 2))
        pts[:, : min(2, sub.shape[1])] = sub[:, :2] - sub[:, :2].mean(axis=0)
    return np.column_stack([pts, codes[idx]])


def _csg_fields(Xa, codes, n_classes, csg_opts, skip=None) -> tuple[dict | None, str | None]:
    """``(csg document, csg_error)`` of a dataset record.

    ``skip`` (a reason) leaves the CSG out; an undefined score keeps the
    document (with its dropped-point counts) and says why in ``csg_error``.
    RuntimeWarnings of the measure are not passed on: the record carries them.
    """
    import warnings

    from .. import measures

    if csg_opts is None or n_classes < 2:
        return None, None
    if skip is not None:
        return None, f"skipped: {skip}"
    smallest = int(np.bincount(codes).min())
    k = csg_opts.get("k", 3)
    if isinstance(k, int) and smallest <= k:
        # a property of the data, not a mistake in the call: say so in the record
        return None, (f"skipped: the smallest class has {smallest} sample(s); "
                      f"CSG with k={k} neighbours needs more than k per class")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = measures.csg(Xa, codes, **csg_opts)
    doc = res.to_dict()
    if doc["score"] is None:
        return doc, f"undefined: {res.note or 'the estimate is degenerate'}"
    return doc, None


def dataset_document(name, X, y, *, csg=True, projection=True, energy: str = "sum",
                     random_state=0, csg_skip: str | None = None) -> dict:
    """Measure a labelled dataset and return its ``dataset`` record document.

    Memory: ``X`` is measured in its own dtype (uint8 images stay uint8) —
    no float64 copy of it is made. Beyond ``X`` itself the measures hold
    chunks of at most 16 MB, at most 256 MB of sampled rows in float32 (the
    rows the CSG's PCA and the projection are fitted on), and, for the CSG
    on raw features of at most 1,024 dimensions, ``12 * n_samples * dim``
    bytes (float64 and float32 copies of those features, as the reference
    computes in float64); above 1,024 dimensions the CSG works in a
    50-dimensional PCA space (``n_samples * 50 * 8`` bytes). 1,000 images of
    180x180x3 uint8 (97 MB) measure with a 0.2 GB peak of the measures' own
    allocations, in about 5 s (``benchmarks/bench_measures.py``, section 4; before:
    4.4 GB and 66 s).

    Parameters
    ----------
    name : str
        Tag of the record (e.g. ``"train"``).
    X : array-like of shape (n_samples, ...)
        Features; each sample is flattened for the measures.
    y : array-like of shape (n_samples,)
        Labels (ints, strings or one-hot rows).
    csg : bool or dict, default=True
        See :func:`csg_options`.
    projection : bool, default=True
        Add a PCA projection of at most 1,000 points.
    energy : {"sum", "l1"}, default="sum"
        See :func:`tb_nndebug.dataset_complexity`.
    random_state : int, default=0
        Seeds the CSG sampling and the projection's subsample.
    csg_skip : str, optional
        Why the CSG means nothing for these inputs (e.g. "inputs are token
        ids feeding an Embedding: distances between ids mean nothing"). When
        given, no CSG is computed and the record says ``csg: None``,
        ``csg_error: "skipped: <reason>"``.

    Returns
    -------
    dict
    """
    from .. import measures
    from .._validation import check_random_state, check_str, check_X_y
    from ..measures._chunks import all_finite, summary_stats

    check_name(name)
    csg_opts = csg_options(csg, random_state)
    if not isinstance(projection, bool):
        raise TypeError(f"projection must be True or False, got {projection!r}")
    check_random_state(random_state)
    csg_skip = check_str(csg_skip, name="csg_skip", allow_none=True)
    try:
        shape = tuple(np.shape(X))
    except (TypeError, ValueError):  # ragged: check_X_y below says what is wrong
        shape = ()
    Xa, classes, codes = check_X_y(X, y, to_float=False, check_finite=False)
    if not all_finite(Xa):
        raise ValueError("X contains NaN or infinite values")
    complexity = measures.dataset_complexity(Xa, codes, energy=energy)
    class_names = [str(c) for c in classes]
    # class_balance sees the 0..K-1 codes: key its tables by the display names.
    balance_doc = _balance_fields(measures.class_balance(codes), class_names)
    csg_doc, csg_error = _csg_fields(Xa, codes, len(classes), csg_opts, skip=csg_skip)
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
        "input_stats": summary_stats(Xa),
        "projection": proj_doc,
    }




def _bits_or_none(bits):
    """A layer's bit count, or None when unbounded (or unknown)."""
    return None if bits is None or math.isinf(bits) else float(bits)


def model_document(name, model, *, complexity=None) -> dict:
    """Measure a built Keras model and return its ``model`` record document.

    Pure apart from reading the model.

    Parameters
    ----------
    name : str
        Tag of the record (e.g. ``"model"``).
    model : keras.Model
        A built model.
    complexity : DatasetComplexity, optional
        Adds the capacity verdict (``match``).

    Returns
    -------
    dict
    """
    from .. import measures
    from . import keras_facts as ki

    check_name(name)
    ki.check_model(model)
    if complexity is not None and (not hasattr(complexity, "expected_bits")
                                   or not hasattr(complexity, "max_bits")):
        raise TypeError(
            "complexity must be a DatasetComplexity (tb_nndebug.dataset_complexity), "
            f"got {type(complexity).__name__}"
        )
    cap = measures.model_capacity(model)
    layers = [{"name": str(lc.name), "kind": str(lc.kind), "params": int(lc.params),
               "input_bits": _bits_or_none(lc.input_bits),
               "capacity_bits": float(lc.capacity_bits),
               "output_bits": _bits_or_none(lc.output_bits)} for lc in cap.layers]
    match = None
    if complexity is not None:
        m = measures.capacity_match(cap.bits, complexity)
        match = {"verdict": m.verdict, "ratio": float(m.ratio),
                 "expected_bits": int(m.expected_bits), "max_bits": int(m.max_bits)}
    return {
        "name": name,
        "model_name": str(model.name),
        "bits": int(cap.bits),
        "n_params": int(cap.n_params),
        "trainable_params": int(cap.trainable_params),
        "input_shape": ki.shape_without_batch(getattr(model, "input_shape", None)),
        "n_outputs": ki.n_outputs(model),
        "output_activation": ki.output_activation(model),
        "layers": layers,
        "match": match,
    }




def checks_document(doc) -> dict:
    """The ``checks`` record document: the caller's mapping, checked to be JSON.

    Parameters
    ----------
    doc : mapping
        Optimizer, learning_rate, loss, ... (see ``docs/data-contract.md``).

    Returns
    -------
    dict
    """
    return _check_free_document(doc, kind=contract.KIND_CHECKS)


def training_document(doc) -> dict:
    """The ``training`` record document of one epoch: the caller's mapping, checked.

    Parameters
    ----------
    doc : mapping
        epoch, history, grad_norms, dead_units, ... (see ``docs/data-contract.md``).

    Returns
    -------
    dict
    """
    return _check_free_document(doc, kind=contract.KIND_TRAINING)


def run_info_document(doc) -> dict:
    """The ``run_info`` record document: free-form facts, checked to be JSON.

    Parameters
    ----------
    doc : mapping

    Returns
    -------
    dict
    """
    return _check_free_document(doc, kind=contract.KIND_RUN_INFO)


#: A diagnostic error's ``error``: its first line, cut to this many characters.
MAX_ERROR_CHARS = 300
#: A diagnostic error's ``detail`` (the rest: traceback, graph trace) is cut to this many.
MAX_DETAIL_CHARS = 8192


def _cut_middle(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, its middle cut out (a traceback's first and
    last frames say the most)."""
    if len(text) <= limit:
        return text
    marker = "\n… ({:,} characters cut) …\n"
    keep = limit - len(marker.format(len(text)))
    head, tail = keep // 2, keep - keep // 2
    return text[:head] + marker.format(len(text) - keep) + text[len(text) - tail:]


def _error_text(err) -> tuple[str, str | None]:
    """``(error, detail)`` of a failure: its first line (``Type: message`` for an
    exception), cut to :data:`MAX_ERROR_CHARS`, and the rest — the further lines, a long
    first line whole, an exception's traceback — cut to :data:`MAX_DETAIL_CHARS`, or None."""
    import re
    import traceback

    if isinstance(err, BaseException):
        text = f"{type(err).__name__}: {err}"
        trace = traceback.format_tb(err.__traceback__) if err.__traceback__ else []
    elif isinstance(err, str):
        text, trace = err, []
    else:
        raise TypeError(f"error must be an exception or a string, got {type(err).__name__}")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()  # Keras colours its messages
    first, _, rest = text.partition("\n")
    first, rest = first.strip(), rest.strip("\n")
    message = _wrapped_message(first, rest)
    if message != first or len(first) > MAX_ERROR_CHARS:
        rest = text  # the detail keeps what the message leaves out
        first = message if len(message) <= MAX_ERROR_CHARS else \
            message[:MAX_ERROR_CHARS - 1] + "…"
    if trace:
        rest = (rest + "\n\n" if rest else "") + "Traceback (most recent call last):\n" + \
            "".join(trace).rstrip("\n")
    return first, (_cut_middle(rest, MAX_DETAIL_CHARS) if rest.strip() else None)


def _wrapped_message(first: str, rest: str) -> str:
    """The message Keras and TensorFlow wrap: ``Exception encountered when calling
    X.call().`` and ``Graph execution error:`` only announce it, further down (after the
    graph's node trace)."""
    import re

    kind, sep, head = first.rpartition(": ") if ": " in first else ("", "", first)
    prefix = kind + sep
    lines = [ln.strip() for ln in rest.splitlines()]
    call = re.fullmatch(r"Exception encountered when calling (\S+?)\.?", head)
    if call and any(lines):
        return f"{prefix}{next(ln for ln in lines if ln)} (in {call.group(1)})"
    if head == "Graph execution error:":
        files = [i for i, ln in enumerate(lines) if ln.startswith('File "')]
        after = [ln for ln in lines[files[-1] + 1 if files else 0:]
                 if ln and not ln.startswith("[[") and not ln.startswith("Detected at node")]
        if after:
            return f"{prefix}{after[0]} (graph execution)"
    return first


def _error_item(diagnostic: str, err, epoch) -> dict:
    error, detail = _error_text(err)
    item = {"diagnostic": diagnostic, "error": error, "epoch": epoch}
    if detail is not None:
        item["detail"] = detail
    return item


def diagnostic_error_document(diagnostic, error, *, epoch=None, errors=None) -> dict:
    """The ``diagnostic_error`` record document: which diagnostics raised.

    Parameters
    ----------
    diagnostic : str
        Which diagnostic failed (e.g. ``"dead_units"``).
    error : BaseException or str
    epoch : int, optional
        None for failures at train begin.
    errors : list of (diagnostic, error) or (diagnostic, error, epoch), optional
        Further failures; those without an epoch get ``epoch``.

    Returns
    -------
    dict
        ``{"diagnostic", "error", "epoch", "errors": [{"diagnostic", "error", "epoch"}, ...]}``:
        ``error`` is the failure's first line (at most :data:`MAX_ERROR_CHARS`
        characters); an item whose failure says more (further lines, a traceback) also
        carries ``detail`` (at most :data:`MAX_DETAIL_CHARS`), and the document the
        first item's.

    Raises
    ------
    ValueError
        If ``diagnostic`` is not a non-empty string.
    TypeError
        If ``epoch`` is not an integer or None, or an error neither an exception nor a
        string.

    Examples
    --------
    >>> doc = diagnostic_error_document("dead_units", "ValueError: no ReLU\\n  at layer 3")
    >>> doc["error"], doc["detail"]
    ('ValueError: no ReLU', '  at layer 3')
    """
    if not isinstance(diagnostic, str) or not diagnostic:
        raise ValueError(f"diagnostic must be a non-empty string, got {diagnostic!r}")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral)):
        raise TypeError(f"epoch must be an integer or None, got {type(epoch).__name__}")
    epoch = None if epoch is None else int(epoch)
    all_errors = [_error_item(diagnostic, error, epoch)]
    for item in errors or []:
        d, e, *at = item  # (diagnostic, error) or (diagnostic, error, epoch)
        all_errors.append(_error_item(str(d), e, at[0] if at else epoch))
    doc = {"diagnostic": diagnostic, "error": all_errors[0]["error"], "epoch": epoch,
           "errors": all_errors}
    if "detail" in all_errors[0]:
        doc["detail"] = all_errors[0]["detail"]
    return doc




def _resampling_projection(Xb, Xa, codes_b, codes_a, syn, *, max_points, random_state):
    """PCA fitted on the standardised data before resampling, applied to both."""
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


def _from_resampler(resampler, trials, chosen, synthetic, method):
    """Fill ``trials``, ``chosen``, ``synthetic`` and ``method`` from a fitted resampler."""
    if resampler is None:
        return trials, chosen, synthetic, method
    if not hasattr(resampler, "trials_"):
        raise ValueError("resampler must be a fitted CapacityGuidedResampler")
    return (resampler.trials_ if trials is None else trials,
            resampler.chosen_ if chosen is None else chosen,
            resampler.synthetic_mask_ if synthetic is None else synthetic,
            resampler.method_ if method == "resampled" else method)


def _synthetic_rows(synthetic, X_before, X_after) -> np.ndarray:
    from ..resampling import synthetic_mask

    if synthetic is None:
        return synthetic_mask(X_before, X_after)
    syn = np.asarray(synthetic, dtype=bool).reshape(-1)
    if syn.shape[0] != X_after.shape[0]:
        raise ValueError(
            f"synthetic must have one entry per sample of X_after "
            f"({X_after.shape[0]}), got {syn.shape[0]}"
        )
    return syn


def _trial_documents(trials, chosen):
    docs = [t.to_dict() if hasattr(t, "to_dict") else dict(t) for t in trials or []]
    if chosen is not None:
        if isinstance(chosen, bool) or not isinstance(chosen, (int, np.integer)) \
                or not docs or not 0 <= chosen < len(docs):
            raise ValueError(f"chosen must index trials (0..{len(docs) - 1}), got {chosen!r}")
        chosen = int(chosen)
    return docs, chosen


def resampling_document(name, X_before, y_before, X_after, y_after, *, trials=None, chosen=None,
                        method="resampled", synthetic=None, resampler=None, max_points=1000,
                        random_state=0) -> dict:
    """The ``resampling`` record document: class counts and data before/after resampling.

    Parameters
    ----------
    name : str
        Tag of the record.
    X_before, y_before, X_after, y_after : array-like
        The data given to the sampler and what it returned.
    trials, chosen, method, synthetic, resampler, max_points, random_state
        See :func:`tb_nndebug.records.writers.resampling`.

    Returns
    -------
    dict
    """
    from .._validation import check_positive_int
    from ..measures.balance import class_balance
    from ..measures.complexity import dataset_complexity
    from ..resampling import prepare

    check_name(name)
    max_points = check_positive_int(max_points, name="max_points")
    trials, chosen, synthetic, method = _from_resampler(resampler, trials, chosen, synthetic,
                                                        method)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    before = prepare(X_before, y_before, min_classes=1)
    after = prepare(X_after, y_after, min_classes=1)
    if before.X.shape[1] != after.X.shape[1]:
        raise ValueError(
            f"X_before and X_after have different sample sizes: "
            f"{before.X.shape[1]} != {after.X.shape[1]}"
        )
    syn = _synthetic_rows(synthetic, before.X, after.X)
    trial_docs, chosen = _trial_documents(trials, chosen)
    classes = np.unique(np.concatenate([before.y, after.y]))
    bal_b, bal_a = class_balance(before.y), class_balance(after.y)
    cx_b, cx_a = dataset_complexity(before.X, before.y), dataset_complexity(after.X, after.y)
    n_synthetic = int(syn.sum())
    proj_b, proj_a = _resampling_projection(
        before.X, after.X, np.searchsorted(classes, before.y), np.searchsorted(classes, after.y),
        syn, max_points=max_points, random_state=random_state)
    return {
        "name": name,
        "method": method,
        "classes": [str(c) for c in classes],
        "before": {str(k): v for k, v in bal_b.counts.items()},
        "after": {str(k): v for k, v in bal_a.counts.items()},
        "n_before": int(before.X.shape[0]),
        "n_after": int(after.X.shape[0]),
        "n_synthetic": n_synthetic,
        "n_removed": int(before.X.shape[0] - (after.X.shape[0] - n_synthetic)),
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




def robustness_document(result, *, examples: int = 4) -> dict:
    """The ``robustness`` record document of a :class:`tb_nndebug.RobustnessResult`.

    Parameters
    ----------
    result : RobustnessResult
    examples : int, default=4
        How many adversarial examples go into the record.

    Returns
    -------
    dict
    """
    from .._validation import check_int
    from ..adversarial import RobustnessResult

    if not isinstance(result, RobustnessResult):
        raise TypeError(
            f"result must be a RobustnessResult (from tb_nndebug.robustness()), "
            f"got {type(result).__name__}"
        )
    examples = check_int(examples, name="examples", minimum=0)
    return result.to_record(n_examples=examples)




class Mirrors(NamedTuple):
    """What a writer mirrors beside a record.

    Attributes
    ----------
    scalars : dict
        field -> number or None, written (when finite) as float32 scalars
        ``nndebug/<name>/<field>``.
    images : dict
        picture -> uint8 RGB array or None (nothing to draw), written as
        ``nndebug/<name>/<picture>``.
    """

    scalars: dict
    images: dict


def _fields(doc, *names) -> dict:
    return {f: finite_or_none(doc.get(f)) for f in names}


def _dataset_mirrors(name, doc, images):
    from . import pictures

    pics = {}
    if images and doc.get("projection") is not None:
        pts = np.asarray(doc["projection"]["points"], dtype=float).reshape(-1, 3)
        pics["projection"] = pictures.draw_projection(
            pts[:, :2], pts[:, 2].astype(int), classes=doc["classes"],
            title=f"{name}: PCA projection")
    return Mirrors({
        "expected_bits": get_path(doc, "complexity", "expected_bits"),
        "max_bits": get_path(doc, "complexity", "max_bits"),
        "csg": get_path(doc, "csg", "score"),
        "imbalance_ratio": get_path(doc, "balance", "imbalance_ratio"),
    }, pics)


def _model_mirrors(name, doc, images):
    from . import pictures

    pics = {}
    if images:
        layers = doc["layers"]
        pics["capacity"] = pictures.draw_capacity(
            [lay["name"] for lay in layers], [lay["capacity_bits"] for lay in layers],
            output_bits=[lay["output_bits"] for lay in layers],
            expected_bits=get_path(doc, "match", "expected_bits"),
            max_bits=get_path(doc, "match", "max_bits"),
            title=f"{doc['model_name']}: {doc['bits']:,} bits")
    return Mirrors({"bits": doc["bits"], "ratio": get_path(doc, "match", "ratio")}, pics)


def _balance_mirrors(name, doc, images):
    from . import pictures

    pics = {"balance": pictures.draw_balance(doc["counts"], title=f"{name}: class balance")} \
        if images else {}
    return Mirrors(_fields(doc, "imbalance_ratio", "minority_fraction"), pics)


def _checks_mirrors(name, doc, images):
    return Mirrors(_fields(doc, "learning_rate"), {})


def _training_mirrors(name, doc, images):
    norms = [finite_or_none(g.get("norm")) for g in doc.get("grad_norms") or []
             if isinstance(g, Mapping)]
    ratio = norms[0] / norms[-1] if len(norms) >= 2 and norms[0] is not None and norms[-1] \
        else None
    dead = [finite_or_none(d.get("fraction")) for d in doc.get("dead_units") or []
            if isinstance(d, Mapping)]
    dead = [d for d in dead if d is not None]
    return Mirrors(dict(_fields(doc, "learning_rate", "probe_loss", "weight_update_ratio"),
                        max_dead_fraction=max(dead) if dead else None,
                        grad_norm_ratio=ratio), {})


def _run_info_mirrors(name, doc, images):
    return Mirrors({k: finite_or_none(v) for k, v in doc.items()}, {})


def _diagnostic_error_mirrors(name, doc, images):
    return Mirrors({}, {})


def _resampling_mirrors(name, doc, images):
    from . import pictures

    pics = {}
    if images:
        method, names = doc["method"], doc["classes"]
        pics["class_counts"] = pictures.draw_balance(doc["before"], after=doc["after"],
                                                     title=f"Class counts: {method}")
        pb = np.asarray(doc["projection_before"]["points"], float).reshape(-1, 3)
        pa = np.asarray(doc["projection"]["points"], float).reshape(-1, 4)
        left = pictures.draw_projection(pb[:, :2], pb[:, 2], classes=names, title="before")
        right = pictures.draw_projection(pa[:, :2], pa[:, 2], classes=names,
                                         synthetic=pa[:, 3] > 0.5, title=f"after {method}")
        pics["projection"] = np.concatenate([left, right], axis=1)
    return Mirrors(_fields(doc, "expected_bits_before", "expected_bits_after", "n_synthetic",
                           "n_removed", "imbalance_ratio_before", "imbalance_ratio_after"), pics)


def _robustness_mirrors(name, doc, images):
    # The example picture is drawn from the result, not the document (the
    # writer adds it): the document holds each panel as a separate PNG.
    return Mirrors(_fields(doc, "median_eps", "median_pixels", "pixel_fraction",
                           "clean_accuracy", "censored_fraction"), {})


_MIRRORS = {
    contract.KIND_DATASET: _dataset_mirrors,
    contract.KIND_MODEL: _model_mirrors,
    contract.KIND_BALANCE: _balance_mirrors,
    contract.KIND_CHECKS: _checks_mirrors,
    contract.KIND_TRAINING: _training_mirrors,
    contract.KIND_RUN_INFO: _run_info_mirrors,
    contract.KIND_DIAGNOSTIC_ERROR: _diagnostic_error_mirrors,
    contract.KIND_RESAMPLING: _resampling_mirrors,
    contract.KIND_ROBUSTNESS: _robustness_mirrors,
}


def mirrors(kind: str, name: str, doc: Mapping[str, Any], *, images: bool = True) -> Mirrors:
    """The scalars and pictures a writer mirrors beside a ``kind`` record.

    Parameters
    ----------
    kind : str
        One of :data:`tb_nndebug.records.contract.KINDS`.
    name : str
        The record's tag (pictures carry it in their titles).
    doc : mapping
        The record document (from the kind's ``<kind>_document``).
    images : bool, default=True
        Draw the pictures; False leaves ``images`` empty.

    Returns
    -------
    Mirrors
    """
    if kind not in _MIRRORS:
        raise ValueError(f"kind must be one of {contract.KINDS}, got {kind!r}")
    return _MIRRORS[kind](name, doc, images)

"""Facts the static checks need, read off the samples and the model at train begin.

Pure functions of numpy arrays and the model's variables; the fields are the
``checks`` record's (``docs/data-contract.md``).
"""
from __future__ import annotations

import numpy as np
from keras import ops

from ..records import keras_facts as ki
from .samples import is_numeric, leaf_items, single

#: Distinct target values counted at most (more reads as "many").
MAX_UNIQUE = 10001

#: More distinct targets than this (and than half the samples) look like regression:
#: the capacity/balance/CSG measures need class labels.
MAX_CLASSES = 1000


def target_facts(y) -> dict | None:
    """Range, kind and encoding of one output's targets (None for no targets)."""
    if y is None:
        return None
    y = np.asarray(y)
    facts = {"shape": [int(d) for d in y.shape[1:]], "n_samples": int(y.shape[0]),
             "kind": "other", "min": None, "max": None, "mean": None, "std": None,
             "integer_valued": None, "binary_valued": None, "n_unique": None,
             "one_hot": None, "multi_hot": None, "row_sum_min": None, "row_sum_max": None}
    if y.dtype.kind in "US" or y.dtype == object:
        facts["kind"] = "string"
        facts["n_unique"] = int(len(np.unique(y.astype(str).reshape(-1)[:200000])))
        return facts
    if not is_numeric(y) or y.size == 0:
        return facts
    yf = y.astype(np.float64, copy=False)
    finite = yf[np.isfinite(yf)]
    facts["kind"] = "bool" if y.dtype == bool else ("integer" if y.dtype.kind in "iu" else "float")
    if finite.size:
        facts.update(min=float(finite.min()), max=float(finite.max()),
                     mean=float(finite.mean()), std=float(finite.std()))
    facts["integer_valued"] = bool(np.all(np.mod(finite, 1) == 0))
    facts["binary_valued"] = bool(np.all((finite == 0) | (finite == 1)))
    facts["n_unique"] = int(min(len(np.unique(finite[:200000])), MAX_UNIQUE))
    if y.ndim == 2 and y.shape[1] > 1:
        sums = yf.sum(axis=1)
        facts.update(row_sum_min=float(sums.min()), row_sum_max=float(sums.max()))
        if facts["binary_valued"]:
            facts["one_hot"] = bool(np.all(sums == 1))
            facts["multi_hot"] = not facts["one_hot"]
        else:
            facts["one_hot"], facts["multi_hot"] = False, False
    return facts


def not_class_labels(y) -> str | None:
    """Why ``y`` cannot be measured as class labels (None if it can)."""
    if y is None:
        return "the data has no targets"
    y = np.asarray(y)
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] > 1 and not is_numeric(y)):
        return (f"targets have shape {tuple(y.shape[1:])} per sample (masks, images, "
                "sequences): the capacity, balance and CSG measures need one class label per "
                "sample")
    if y.ndim == 2 and y.shape[1] > 1:
        sums = y.astype(np.float64, copy=False).sum(axis=1)
        if np.all((y == 0) | (y == 1)) and not np.allclose(sums, 1):
            return ("targets are multi-label (0/1 rows summing to "
                    f"{sums.min():g}..{sums.max():g}): the capacity, balance and CSG measures "
                    "need one class label per sample")
        if not np.allclose(sums, 1, atol=1e-3):
            return ("targets are rows of continuous values, not one-hot or probabilities: the "
                    "capacity, balance and CSG measures need class labels")
        return None  # one-hot / probability rows
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    if not is_numeric(flat):
        return None  # strings: class names
    n_unique = len(np.unique(flat))
    if np.issubdtype(flat.dtype, np.floating) and not np.all(np.mod(flat, 1) == 0):
        return (f"targets look continuous ({n_unique} distinct non-integer values): the "
                "capacity, balance and CSG measures need class labels")
    if n_unique > MAX_CLASSES:
        return (f"{n_unique} distinct targets: too many for class labels (more than "
                f"{MAX_CLASSES}); the capacity, balance and CSG measures need class labels")
    return None


def labelled_output(y) -> tuple[str | None, object, str | None]:
    """``(output name, labels, why not)`` of the targets the dataset measures read: the
    one array of a single-output model, else the first output holding class labels."""
    items = leaf_items(y, prefix="y")
    if not items:
        return None, None, "the data has no targets"
    if len(items) == 1:
        name, arr = items[0]
        return name, arr, not_class_labels(arr)
    reasons = []
    for name, arr in items:
        why = not_class_labels(arr)
        if why is None:
            return name, arr, None
        reasons.append(f"{name}: {why}")
    return None, None, "no output has class labels (" + "; ".join(reasons) + ")"


def labelled_outputs(y) -> list[tuple[str, object]]:
    """``(output name, labels)`` of every output holding class labels (a multi-output
    model's heads, each measured in its own dataset record)."""
    return [(name, arr) for name, arr in leaf_items(y, prefix="y")
            if not_class_labels(arr) is None]


def measurable_inputs(x) -> tuple[np.ndarray | None, list[str]]:
    """``(X, skipped)``: the numeric inputs as one (n, d) float32 array (several inputs
    side by side, each flattened), and a sentence per input that could not be used."""
    items = leaf_items(x, prefix="x")
    parts, skipped = [], []
    for name, arr in items:
        label = f"input '{name}'" if name else "the input"
        if not is_numeric(arr):
            skipped.append(f"{label} holds {arr.dtype.kind in 'US' and 'strings' or arr.dtype} "
                           "(the model turns it into numbers itself)")
            continue
        flat = arr.reshape(arr.shape[0], -1)
        if flat.shape[1] == 0:
            continue
        if np.issubdtype(flat.dtype, np.inexact) and not np.isfinite(flat).all():
            skipped.append(f"{label} contains NaN or infinite values")
            continue
        parts.append(flat.astype(np.float32, copy=False))
    if not parts:
        return None, skipped
    return (parts[0] if len(parts) == 1 else np.hstack(parts)), skipped


def input_stats(arrays) -> dict | None:
    """min/max/mean/std over the numeric values of ``arrays`` (None if none)."""
    vals = [np.asarray(a) for a in arrays]
    vals = [a.astype(np.float64, copy=False).reshape(-1) for a in vals if is_numeric(a) and a.size]
    if not vals:
        return None
    v = np.concatenate(vals)
    v = v[np.isfinite(v)]
    if not v.size:
        return None
    return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
            "std": float(v.std())}


def weight_facts(model) -> list[dict]:
    """Spread of each trainable kernel-like variable (see ``initial_weights``)."""
    out = []
    for path, v in ki.kernel_variables(model):
        if str(path).endswith("bias"):  # 2-D biases (GRU reset_after, attention heads)
            continue
        w = np.asarray(ops.convert_to_numpy(v), dtype=np.float64)
        shape = [int(d) for d in w.shape]
        fan_in = int(np.prod(shape[:-1])) if len(shape) >= 2 else 1
        std = float(w.std()) if w.size else 0.0
        out.append({"layer": ki.layer_path(model, v), "variable": str(path), "shape": shape,
                    "fan_in": fan_in, "std": std,
                    "max_abs": float(np.abs(w).max()) if w.size else 0.0,
                    "all_zero": bool(w.size and not np.any(w)), "constant": bool(std == 0.0)})
    return out


def output_facts(pred) -> dict | None:
    """Range and spread across samples of one batch of predictions."""
    arr = single(pred) if not isinstance(pred, np.ndarray) else pred
    if arr is None:
        items = leaf_items(pred)
        arr = items[0][1] if items else None
    if arr is None:
        return None
    a = np.asarray(arr, dtype=np.float64).reshape(len(arr), -1)
    if not a.size or not np.isfinite(a).all():
        return None
    return {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean()),
            "std_across_samples": float(a.std(axis=0).mean())}

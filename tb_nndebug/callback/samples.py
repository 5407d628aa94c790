"""Samples of the data ``fit`` trains on, in every form ``fit`` takes, without changing training.

``train_data`` / ``validation_data`` of :class:`DebuggerCallback` may be what
``model.fit`` accepts: ``(x, y[, sample_weight])`` with ``x`` an array, a
list of arrays or a dict of named arrays (``y`` likewise, for multi-output
models), ``x`` alone, a batched ``tf.data.Dataset``, a
``keras.utils.PyDataset`` or a Python generator/iterator of batches.
:func:`take_samples` reads at most ``max_samples`` samples and at most a
byte budget of them into numpy arrays, keeping the structure.

Reading must not change what ``fit`` computes. A ``tf.data`` pipeline with
``shuffle(reshuffle_each_iteration=True)`` draws each iteration's order from
a seed generator the dataset object owns, so iterating it here would shift
every epoch's order in ``fit``. It is read through a copy of its graph in
which each shuffle has its own fixed seeds (:func:`_detached_copy`). A
``PyDataset`` is indexed (no state); a generator is consumed, so the user
passes a separate one.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: Bytes of samples the callback holds at most (inputs and targets together).
SAMPLE_BUDGET_BYTES = 256 * 2**20


class Samples(NamedTuple):
    """What was read from one ``train_data`` / ``validation_data`` argument.

    Attributes
    ----------
    x : ndarray, list or dict of ndarray
        Inputs, in the structure the model takes; every leaf has ``n`` rows.
    y : ndarray, list or dict of ndarray, or None
        Targets (None when the data has none, e.g. ``fit(x)`` with a custom
        ``train_step``).
    sample_weight : ndarray or None
    n : int
        Samples read.
    source : str
        ``"arrays"``, ``"tf.data"``, ``"PyDataset"`` or ``"generator"``.
    whole : bool
        Every sample of the data was read (so ``n`` is the data's size).
    limited_by : str or None
        Why reading stopped early: ``"max_samples"`` or ``"memory budget"``.
    """

    x: Any
    y: Any
    sample_weight: Any
    n: int
    source: str
    whole: bool
    limited_by: str | None


def _tree():
    import keras

    return keras.tree


def _to_numpy(value, *, name: str):
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must hold arrays with one row per sample: {exc}") from None
    if arr.ndim == 0:
        raise ValueError(f"{name} must hold arrays with one row per sample, got a scalar "
                         f"({arr!r}); a tf.data.Dataset must be batched (call .batch(...))")
    return arr


def _leaves(tree) -> list:
    return [leaf for leaf in _tree().flatten(tree) if leaf is not None]


def _as_arrays(tree, *, name: str):
    """``tree`` with every leaf a numpy array (lists of numbers become arrays)."""
    if tree is None:
        return None
    if isinstance(tree, (list, tuple)) and tree and not isinstance(tree[0], (list, tuple, dict)) \
            and np.ndim(tree[0]) == 0:
        return _to_numpy(tree, name=name)  # a plain list of numbers/strings is one array
    return _tree().map_structure(lambda leaf: None if leaf is None else
                                 _to_numpy(leaf, name=name), tree)


def _length(tree, *, name: str) -> int:
    lengths = {int(leaf.shape[0]) for leaf in _leaves(tree)}
    if not lengths:
        raise ValueError(f"{name} holds no arrays")
    if len(lengths) > 1:
        raise ValueError(f"{name}: inputs and targets have different lengths: "
                         f"{sorted(lengths)} (every array needs one row per sample)")
    return lengths.pop()


def _check_finite(tree, *, name: str):
    for leaf in _leaves(tree):
        if leaf.dtype.kind in "fc" and not np.isfinite(leaf).all():
            raise ValueError(f"{name} contains NaN or infinite values")


def _split_element(element, *, name: str):
    """``(x, y, sample_weight)`` of one ``fit`` element: a tuple ``(x,)``/``(x, y)``/
    ``(x, y, w)`` or ``x`` alone (a dict or an array)."""
    if isinstance(element, tuple):
        if not 1 <= len(element) <= 3:
            raise ValueError(f"{name} must give (x,), (x, y) or (x, y, sample_weight), got a "
                             f"tuple of {len(element)}")
        x, y, w = (tuple(element) + (None, None))[:3]
        return x, y, w
    return element, None, None


def _per_sample_bytes(tree) -> float:
    total = 0.0
    for leaf in _leaves(tree):
        if leaf.shape[0]:
            total += leaf.nbytes / leaf.shape[0]
    return total


def _how_many(n: int, per_sample: float, max_samples: int, budget_bytes: int) -> int:
    """Samples kept of ``n``: at most ``max_samples`` and the byte budget, at least one."""
    return min(n, max_samples, max(1, int(budget_bytes // max(per_sample, 1))))


def _subset(tree, idx):
    from ..measures._chunks import take_rows

    if tree is None:
        return None
    take = take_rows if isinstance(idx, np.ndarray) else (lambda leaf, sl: leaf[sl])
    return _tree().map_structure(lambda leaf: None if leaf is None else take(leaf, idx), tree)


def _concatenate(batches):
    return _tree().map_structure(lambda *leaves: None if leaves[0] is None
                                 else np.concatenate(leaves), *batches)


def _detached_copy(ds):
    """``ds`` rebuilt from its graph with every reshuffling shuffle made a fixed-seed
    shuffle, so iterating it leaves ``ds``'s own seed generator alone (None if the
    graph cannot be copied, e.g. a ``py_function`` inside)."""
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    try:
        graph = graph_pb2.GraphDef()
        graph.ParseFromString(ds._as_serialized_graph().numpy())  # noqa: SLF001 - no public way
        for node in graph.node:
            if node.op in ("ShuffleDatasetV2", "ShuffleDatasetV3"):
                inputs = list(node.input)
                # V1 takes (input, buffer_size, seed, seed2) and no seed-generator resource
                seeds = inputs[2:4] if node.op == "ShuffleDatasetV3" else None
                if seeds is None:
                    return None
                node.op = "ShuffleDataset"
                del node.input[:]
                node.input.extend(inputs[:2] + seeds)
                for key in list(node.attr):
                    if key not in ("output_types", "output_shapes", "metadata"):
                        del node.attr[key]
                node.attr["reshuffle_each_iteration"].b = False
        variant = tf.raw_ops.DatasetFromGraph(graph_def=graph.SerializeToString())
        return tf.data.experimental.from_variant(variant, structure=ds.element_spec)
    except Exception:  # noqa: BLE001 - any failure: the caller says the data was not read
        return None


def _batches(data, *, name: str):
    """``(source, iterator of fit elements)``."""
    import keras
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        copy = _detached_copy(data)
        if copy is None:
            raise ValueError(
                f"{name}: this tf.data.Dataset cannot be copied (it holds Python code such as "
                "a py_function), and reading the dataset itself would change the order fit "
                "sees; pass (x, y) arrays of a sample instead")
        return "tf.data", iter(copy)
    if isinstance(data, keras.utils.PyDataset):
        n = data.num_batches
        if n is None:
            raise ValueError(f"{name}: this PyDataset has no length (num_batches is None); "
                             "pass (x, y) arrays of a sample instead")
        return "PyDataset", (data[i] for i in range(n))
    if hasattr(data, "__next__"):
        return "generator", data
    raise TypeError(f"{name} must be (x, y) / (x, y, sample_weight) arrays, x alone, a batched "
                    f"tf.data.Dataset, a keras.utils.PyDataset or a generator of batches; got "
                    f"{type(data).__name__}")


def _read_batches(data, *, name, max_samples, budget_bytes):
    source, it = _batches(data, name=name)
    parts, n, limited, whole = [], 0, None, True
    for element in it:
        x, y, w = _split_element(element, name=name)
        x, y, w = (_as_arrays(x, name=f"{name} x"), _as_arrays(y, name=f"{name} y"),
                   _as_arrays(w, name=f"{name} sample_weight"))
        m = _length((x, y, w), name=name)
        parts.append((x, y, w))
        n += m
        if n >= max_samples:
            limited = "max_samples"
        elif n * _per_sample_bytes((x, y, w)) >= budget_bytes:
            limited = "memory budget"
        if limited:
            whole = False
            break
    if not parts:
        raise ValueError(f"{name} is empty")
    try:
        x, y, w = _concatenate(parts) if len(parts) > 1 else parts[0]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: its batches differ in structure or shape: {exc}") from None
    keep = _how_many(n, _per_sample_bytes((x, y, w)), max_samples, budget_bytes)
    if keep < n:
        x, y, w = _subset(x, slice(keep)), _subset(y, slice(keep)), _subset(w, slice(keep))
    _check_finite(x, name=f"{name} x")
    _check_finite(y, name=f"{name} y")
    return Samples(x, y, w, keep, source, whole and keep == n, limited)


def _read_arrays(data, *, name, max_samples, budget_bytes, random_state):
    from .._validation import check_random_state

    x, y, w = _split_element(data, name=name)
    x, y, w = (_as_arrays(x, name=f"{name} x"), _as_arrays(y, name=f"{name} y"),
               _as_arrays(w, name=f"{name} sample_weight"))
    n = _length((x, y, w), name=name)
    if n == 0:
        raise ValueError(f"{name} is empty (0 samples)")
    keep = _how_many(n, _per_sample_bytes((x, y, w)), max_samples, budget_bytes)
    limited = None
    if keep < n:
        limited = "max_samples" if keep == max_samples else "memory budget"
        rng = check_random_state(random_state)
        idx = np.sort(rng.choice(n, size=keep, replace=False))
        x, y, w = _subset(x, idx), _subset(y, idx), _subset(w, idx)
    _check_finite(x, name=f"{name} x")
    _check_finite(y, name=f"{name} y")
    return Samples(x, y, w, keep, "arrays", keep == n, limited)


def take_samples(data, *, name: str, max_samples: int, budget_bytes: int = SAMPLE_BUDGET_BYTES,
                 random_state=0) -> Samples | None:
    """Read up to ``max_samples`` samples (and ``budget_bytes``) of ``data``.

    Parameters
    ----------
    data : tuple, ndarray, dict, tf.data.Dataset, keras.utils.PyDataset, iterator or None
        What ``fit`` would take (see the module docstring).
    name : str
        The argument's name, for error messages.
    max_samples : int
    budget_bytes : int, default=SAMPLE_BUDGET_BYTES
    random_state : int, default=0
        Draws the subset of in-memory arrays larger than the limits (batches
        from a pipeline are read in order, as it gives them).

    Returns
    -------
    Samples or None
        None for ``data=None``.

    Raises
    ------
    TypeError, ValueError
        Naming ``name`` and what was expected.
    """
    if data is None:
        return None
    if isinstance(data, (tuple, np.ndarray, dict)) or _is_tensor(data):
        return _read_arrays(data, name=name, max_samples=max_samples, budget_bytes=budget_bytes,
                            random_state=random_state)
    if isinstance(data, list):
        raise TypeError(f"{name} must be a tuple (x, y): a list is read by Keras as x alone "
                        "(several inputs); pass (x, y) with x the list")
    return _read_batches(data, name=name, max_samples=max_samples, budget_bytes=budget_bytes)


def _is_tensor(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type)


def leaf_items(tree, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    """``(name, array)`` of each leaf: dict keys, list positions (``"x[1]"``), or ``prefix``."""
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [(str(k), v) for k, v in tree.items() if v is not None]
    if isinstance(tree, (list, tuple)):
        return [(f"{prefix}[{i}]", v) for i, v in enumerate(tree) if v is not None]
    return [(prefix, tree)]


def single(tree):
    """The one array of ``tree`` (an array, or a 1-element list/dict), else None."""
    items = leaf_items(tree)
    return items[0][1] if len(items) == 1 else None


def is_numeric(arr) -> bool:
    return arr.dtype != object and (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)


#: Most samples one whole pass reads from a stream (16 bytes each are kept: 160 MB); a
#: longer stream is measured on its first this-many samples.
WHOLE_PASS_MAX_SAMPLES = 10_000_000


class Whole(NamedTuple):
    """The measures of all of a ``train_data`` (:func:`measure_whole`)."""

    complexity: Any
    classes: tuple
    class_counts: tuple
    n: int


def measure_whole(data, *, name: str, progress: bool = False) -> tuple[Whole | None, str | None]:
    """``(Whole, None)``: the complexity and class counts of *all* of ``data``, read without
    changing what ``fit`` computes and keeping about 16 bytes per sample; or ``(None, why
    not)``.

    Arrays are measured in place (a memory-mapped one is read with ``pread`` in 16 MB
    chunks, never mapped whole); a ``tf.data.Dataset`` is streamed through its fixed-seed
    copy (as :func:`take_samples` reads it); a ``PyDataset`` is indexed. A generator cannot
    be read twice, an endless ``tf.data`` pipeline has no end, and several inputs or targets
    have no single ``(x, y)``: each gives ``None`` and why.
    """
    import keras
    import tensorflow as tf

    from ..measures.streaming import scan

    if isinstance(data, (tuple, np.ndarray, dict)) or _is_tensor(data):
        return _whole_arrays(data, name=name)
    if isinstance(data, tf.data.Dataset):
        if int(data.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
            return None, "the tf.data pipeline repeats forever"
        copy = _detached_copy(data)
        if copy is None:
            return None, "the tf.data pipeline cannot be copied"
        elements = copy.as_numpy_iterator()
    elif isinstance(data, keras.utils.PyDataset) and data.num_batches is not None:
        elements = (data[i] for i in range(data.num_batches))
    else:
        return None, "a generator cannot be read a second time"

    def pairs():
        n = 0
        for element in elements:
            x, y, _ = _split_element(element, name=name)
            if y is None or len(_leaves(x)) != 1 or len(_leaves(y)) != 1:
                raise _NotOnePair(_SEVERAL)
            x, y = np.asarray(_leaves(x)[0]), np.asarray(_leaves(y)[0])
            yield x, y
            n += len(x)
            if n >= WHOLE_PASS_MAX_SAMPLES:
                return

    batches = pairs()
    if progress:  # a bar only when the pass takes over a second
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=f"tb_nndebug: {name}", unit="batch", leave=False,
                       delay=1.0)
    try:
        result = scan(batches, samples_per_class=0, name=name)
    except _NotOnePair as exc:
        return None, str(exc)
    return Whole(result.complexity, result.classes, result.class_counts,
                 result.n_samples), None


_SEVERAL = "the inputs or targets are several arrays"


def _whole_arrays(data, *, name):
    from .. import measures
    from ..measures.streaming import encode_labels

    x, y, _ = _split_element(data, name=name)
    if y is None or len(_leaves(x)) != 1 or len(_leaves(y)) != 1:
        return None, _SEVERAL
    x, y = np.asarray(_leaves(x)[0]), np.asarray(_leaves(y)[0])
    classes, codes = encode_labels([y], name=f"y of {name}")
    counts = np.bincount(codes, minlength=len(classes))
    return Whole(measures.dataset_complexity(x.reshape(len(x), -1), codes),
                 tuple(c.item() if hasattr(c, "item") else c for c in classes),
                 tuple(int(v) for v in counts), int(len(x))), None


class _NotOnePair(ValueError):
    """A batch of a stream holds several inputs or targets (no single ``(x, y)``)."""

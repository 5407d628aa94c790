"""Network capacity in bits (paper 3.2, Algorithm 1) and its match to a dataset (3.1 + 3.2).

Two parts, kept apart so another framework's graph can reuse the arithmetic:

- an adapter turns a model into a framework-neutral list of :class:`GraphNode`
  in topological order (:func:`keras_graph` for Keras 3; ``keras`` is imported
  only inside it);
- :func:`capacity_from_graph` applies Friedland's engineering rules to that
  list (pure arithmetic, no framework).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

from .._values import finite_or_none

#: Verdicts of :func:`capacity_match`.
VERDICTS = ("too_small", "matched", "oversized")


@dataclass(frozen=True)
class GraphNode:
    """One call of a layer in a model's graph, framework-neutral.

    Attributes
    ----------
    name : str
        Unique in the graph (nested models prefix their layers ``outer/``).
    kind : str
        Layer class name (``"Dense"``, ``"Conv2D"``, ``"Add"``, ...).
    params : int
        Trainable parameters this node adds (0 for a repeated call of a
        shared layer: its weights are counted once).
    inbound : tuple
        Names of the nodes feeding this one; ``None`` stands for a model
        input. Empty also means "fed by a model input".
    output_units : int or float
        Output elements per sample (product of the output shape without the
        batch axis; ``math.inf`` when a dimension is unknown).
    is_concat : bool
        Concatenation: its inputs' information adds up instead of the max.
    n_params : int
        All parameters (trainable or not), for the totals.
    parts : tuple of (int, float)
        The layer's parameter groups as ``(params, cap)`` pairs, when they do
        not all see the same information: each group's bits are
        ``min(params, input_bits, cap)``. Empty means one group,
        ``(params, inf)``. A recurrent cell's recurrent kernel (fed by its own
        state) and an attention layer's output projection (fed by the
        attention mix) are groups with their own cap; a normalisation layer
        has one group, its shifts. See ``docs/capacity-rules.md``.
    input_cap : float
        Most information (bits) the layer can take in whatever feeds it: a
        lookup table fed ``n`` ids of a ``V``-row table takes in at most
        ``n * ceil(log2 V)`` bits. ``math.inf`` for no such bound.
    passes_raw : bool
        The layer keeps raw (unbounded) input unbounded even though it has
        trainable parameters: a normalisation layer right after the input is
        preprocessing, not a layer of thresholding neurons.
    rule : str
        Which rule of ``docs/capacity-rules.md`` counted the layer
        (``"dense"``, ``"shared"``, ``"embedding"``, ``"recurrent"``,
        ``"attention"``, ``"normalization"``, ``"opaque"``, or ``""`` for a
        layer without parameters).
    """

    name: str
    kind: str
    params: int
    inbound: tuple
    output_units: float
    is_concat: bool = False
    n_params: int = 0
    parts: tuple = ()
    input_cap: float = math.inf
    passes_raw: bool = False
    rule: str = ""


@dataclass(frozen=True)
class LayerCapacity:
    """Per-layer row of a capacity estimate (bits; ``math.inf`` = unbounded)."""

    name: str
    kind: str
    params: int
    input_bits: float
    capacity_bits: int
    output_bits: float
    rule: str = ""

    def to_dict(self) -> dict:
        """JSON-ready dict; an unbounded bit count becomes ``None``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "params": self.params,
            "input_bits": finite_or_none(self.input_bits),
            "capacity_bits": self.capacity_bits,
            "output_bits": finite_or_none(self.output_bits),
            "rule": self.rule,
        }


@dataclass(frozen=True)
class ModelCapacity:
    """Memory-equivalent capacity of a network, layer by layer.

    Attributes
    ----------
    bits : int
        Sum of the layers' ``capacity_bits``.
    layers : tuple of LayerCapacity
        In topological order.
    n_params, trainable_params : int
    name : str or None
        The model's name, when the adapter knows it.
    """

    bits: int
    layers: tuple
    n_params: int
    trainable_params: int
    name: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (fields of the ``model`` record)."""
        return {
            "name": self.name,
            "bits": self.bits,
            "n_params": self.n_params,
            "trainable_params": self.trainable_params,
            "layers": [layer.to_dict() for layer in self.layers],
        }


@dataclass(frozen=True)
class CapacityMatch:
    """How a model's capacity compares with a dataset's requirement (algorithms.md §4).

    Attributes
    ----------
    verdict : {"too_small", "matched", "oversized"}
    ratio : float
        ``model_bits / expected_bits`` (``inf`` when nothing is expected).
    log2_ratio : float
        The same on a log scale (0 = exactly the expected capacity).
    model_bits, expected_bits, max_bits : int
    """

    verdict: str
    ratio: float
    log2_ratio: float
    model_bits: int
    expected_bits: int
    max_bits: int

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "ratio": finite_or_none(self.ratio),
            "log2_ratio": finite_or_none(self.log2_ratio),
            "model_bits": self.model_bits,
            "expected_bits": self.expected_bits,
            "max_bits": self.max_bits,
        }


def _int_if_finite(v):
    return int(v) if math.isfinite(v) else v


# --------------------------------------------------------------------------- #
# the arithmetic (pure)
# --------------------------------------------------------------------------- #
def capacity_from_graph(nodes: Sequence[GraphNode], *, name: str | None = None) -> ModelCapacity:
    """Apply Friedland's rules to a topologically ordered node list.

    Per node: ``input_bits`` is ∞ when fed by a model input, else the max of
    the inbound ``output_bits`` (their sum for a concatenation), and never
    more than the node's own ``input_cap`` (the ids a lookup table reads);
    ``capacity_bits`` is the sum over its parameter groups of
    ``min(params, input_bits, cap)`` (one group, ``min(params, input_bits)``,
    for a plain layer); ``output_bits = min(output_units, input_bits)``,
    except that a layer without trainable parameters fed by raw input
    (``Flatten``, ``Reshape``, ``Rescaling``, pooling right after the input)
    or a normalisation layer there passes the unbounded input on, so
    ``Input((28, 28)) → Flatten → Dense`` measures the same as
    ``Input((784,)) → Dense``. The model's capacity is the sum of
    ``capacity_bits``. The rule for each layer kind is in
    ``docs/capacity-rules.md``.

    Parameters
    ----------
    nodes : sequence of GraphNode
        Each node's inbound names must appear earlier in the sequence.
    name : str, optional
        Carried into the result.

    Returns
    -------
    ModelCapacity

    Examples
    --------
    >>> from tb_nndebug.measures.capacity import GraphNode, capacity_from_graph
    >>> g = [GraphNode("h", "Dense", 9, (None,), 3), GraphNode("o", "Dense", 4, ("h",), 1)]
    >>> capacity_from_graph(g).bits          # 2 inputs -> 3 -> 1
    12
    """
    out_bits: dict[str, float] = {}
    rows = []
    for node in nodes:
        if not isinstance(node, GraphNode):
            raise TypeError(f"nodes must hold GraphNode items, got {type(node).__name__}")
        if node.name in out_bits:
            raise ValueError(f"nodes: duplicate node name {node.name!r}")
        incoming = []
        for src in node.inbound:
            if src is None:
                incoming.append(math.inf)
            elif src in out_bits:
                incoming.append(out_bits[src])
            else:
                raise ValueError(
                    f"nodes: {node.name!r} is fed by {src!r}, which is not earlier in the list"
                )
        if not incoming:
            input_bits = math.inf
        elif node.is_concat:
            input_bits = sum(incoming)
        else:
            input_bits = max(incoming)
        input_bits = min(input_bits, node.input_cap)
        parts = node.parts or ((node.params, math.inf),)
        capacity = sum(int(min(p, input_bits, cap)) for p, cap in parts if p > 0)
        if (node.params == 0 or node.passes_raw) and math.isinf(input_bits):
            # Raw real-valued input reshaped, pooled, rescaled or normalised is
            # still raw input: no neuron has thresholded it yet, so no 1-bit cap.
            output_bits = math.inf
        else:
            output_bits = min(node.output_units, input_bits)
        out_bits[node.name] = output_bits
        rows.append(LayerCapacity(
            name=node.name,
            kind=node.kind,
            params=int(node.params),
            input_bits=_int_if_finite(input_bits),
            capacity_bits=capacity,
            output_bits=_int_if_finite(output_bits),
            rule=node.rule or ("dense" if node.params > 0 else ""),
        ))
    return ModelCapacity(
        bits=sum(r.capacity_bits for r in rows),
        layers=tuple(rows),
        n_params=sum(n.n_params for n in nodes),
        trainable_params=sum(n.params for n in nodes),
        name=name,
    )


# --------------------------------------------------------------------------- #
# the Keras 3 adapter
# --------------------------------------------------------------------------- #
def _units(shape) -> float:
    dims = tuple(shape)[1:]
    if any(d is None for d in dims):
        return math.inf
    return math.prod(int(d) for d in dims)


def _count(weights) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def keras_graph(model) -> list[GraphNode]:
    """Walk a built Keras 3 model into a list of :class:`GraphNode`.

    Functional models are walked through their graph (branches, skip
    connections, concatenations, non-layer ops such as ``x + 1``); nested
    models (a Sequential inside a functional model, ``keras.applications``
    backbones) are expanded, their layers named ``<model>/<layer>``. Input
    layers are not nodes: whatever they feed gets ``None`` as inbound.

    Raises
    ------
    TypeError
        ``model`` is not a Keras model, or a subclassed model with no graph.
    ValueError
        ``model`` is not built (no input shape yet).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras 3 model, got {type(model).__name__}")
    walker = _GraphWalker(keras)
    g = _graph_of(model, keras)
    walker.walk(model, [None] * len(keras.tree.flatten(g.inputs)), "")
    return walker.nodes


def _graph_of(m, keras):
    """The functional graph of ``m`` (a Sequential's inner functional model)."""
    if isinstance(m, keras.Sequential):
        if not m.built or getattr(m, "_functional", None) is None:
            raise ValueError(
                f"model {m.name!r} is not built: give it an input shape "
                "(keras.Input(...) as first layer, model.build(shape), or call it once)"
            )
        return m._functional
    if hasattr(m, "_nodes_by_depth") and hasattr(m, "inputs"):
        return m
    if not m.built:
        raise ValueError(f"model {m.name!r} is not built: call it on data first")
    raise TypeError(
        f"model {m.name!r} is a subclassed model ({type(m).__name__}); capacity needs "
        "the layer graph of a Sequential or functional model"
    )


class _GraphWalker:
    """Collects the :class:`GraphNode` list of a model, expanding nested models."""

    def __init__(self, keras):
        self.keras = keras
        self.nodes: list[GraphNode] = []
        self.seen_ops: set[int] = set()
        self.used_names: dict[str, int] = {}

    def unique(self, name):
        n = self.used_names.get(name, 0)
        self.used_names[name] = n + 1
        return name if n == 0 else f"{name}:{n}"

    def walk(self, m, input_sources, prefix):
        """Add ``m``'s layers (fed by ``input_sources``); return its outputs' node names."""
        keras = self.keras
        g = _graph_of(m, keras)
        src: dict[int, str | None] = {}
        for t, s in zip(keras.tree.flatten(g.inputs), input_sources):
            src[id(t)] = s
        for depth in sorted(g._nodes_by_depth, reverse=True):
            for node in g._nodes_by_depth[depth]:
                self._visit(node, src, prefix)
        return [src.get(id(t)) for t in keras.tree.flatten(g.outputs)]

    def _visit(self, node, src, prefix):
        keras = self.keras
        op = node.operation
        if isinstance(op, keras.layers.InputLayer):
            for t in node.outputs:
                src.setdefault(id(t), None)
            return
        inbound = tuple(src.get(id(t)) for t in node.input_tensors)
        if isinstance(op, keras.Model) and _has_graph(op, keras):
            inner_out = self.walk(op, inbound, f"{prefix}{self.unique(op.name)}/")
            for t, s in zip(node.outputs, inner_out):
                src[id(t)] = s
            return
        first_call = id(op) not in self.seen_ops
        self.seen_ops.add(id(op))
        name = self.unique(prefix + op.name)
        trainable = _count(getattr(op, "trainable_weights", [])) if first_call else 0
        total = _count(getattr(op, "weights", [])) if first_call else 0
        parts, input_cap, passes_raw, rule = _layer_rule(op, node, keras, trainable)
        self.nodes.append(GraphNode(
            name=name,
            kind=type(op).__name__,
            params=trainable,
            inbound=inbound,
            output_units=sum(_units(t.shape) for t in node.outputs),
            is_concat=isinstance(op, keras.layers.Concatenate),
            n_params=total,
            parts=parts,
            input_cap=input_cap,
            passes_raw=passes_raw,
            rule=rule,
        ))
        for t in node.outputs:
            src[id(t)] = name


def _has_graph(m, keras) -> bool:
    """A nested model that can be walked (Sequential or functional), not a subclassed one."""
    try:
        _graph_of(m, keras)
    except (TypeError, ValueError):
        return False
    return True


#: Normalisation layers (their ``beta`` is the one shift per feature they add).
_NORMALIZATION_KINDS = ("BatchNormalization", "SyncBatchNormalization", "LayerNormalization",
                        "GroupNormalization", "RMSNormalization", "UnitNormalization")


def _ids_bits(tensors, vocab) -> float:
    """Information of the ids a lookup of ``vocab`` rows reads: ``n_ids * ceil(log2 vocab)``."""
    per_id = math.ceil(math.log2(vocab)) if vocab > 1 else 0
    n_ids = sum(_units(t.shape) for t in tensors) if tensors else math.inf
    if per_id == 0:
        return 0.0
    return n_ids * per_id


def _is_integer(t) -> bool:
    dtype = str(getattr(t, "dtype", "") or "")
    return "int" in dtype or "bool" in dtype


def _steps(t) -> float:
    """Time steps of a ``(batch, steps, ...)`` tensor; ``math.inf`` when unknown."""
    shape = tuple(t.shape)
    if len(shape) < 3 or shape[1] is None:
        return math.inf
    return int(shape[1])


def _layer_rule(op, node, keras, trainable):
    """``(parts, input_cap, passes_raw, rule)`` of one layer call (docs/capacity-rules.md)."""
    if trainable == 0:
        return (), math.inf, False, ""
    L = keras.layers
    kind = type(op).__name__
    inputs = list(node.input_tensors)
    if isinstance(op, L.Embedding):
        return (), _ids_bits(inputs, int(op.input_dim)), False, "embedding"
    if kind in _NORMALIZATION_KINDS or isinstance(op, L.BatchNormalization) \
            or isinstance(op, L.LayerNormalization):
        shifts = _count([w for w in op.trainable_weights if _var_name(w) == "beta"])
        return ((shifts, math.inf),), math.inf, True, "normalization"
    if isinstance(op, L.MultiHeadAttention):
        out_dense = getattr(op, "_output_dense", None)
        out_ids = {id(w) for w in getattr(out_dense, "trainable_weights", [])}
        p_out = _count([w for w in op.trainable_weights if id(w) in out_ids])
        steps = _units(inputs[0].shape[:2]) if inputs and len(inputs[0].shape) >= 2 \
            else math.inf
        heads = getattr(op, "num_heads", None) or 1
        width = getattr(op, "value_dim", None) or getattr(op, "key_dim", None)
        mix = steps * heads * width if width else math.inf
        return ((trainable - p_out, math.inf), (p_out, mix)), math.inf, False, "attention"
    recurrent = [w for w in op.trainable_weights if _var_name(w) == "recurrent_kernel"]
    if recurrent:
        steps = _steps(inputs[0]) if inputs else math.inf
        parts = [(trainable - _count(recurrent), math.inf)]
        for w in recurrent:
            # a 2-D recurrent kernel is fed by the (steps - 1) states of width shape[0]
            # before each step (the first state is a constant); a convolutional one
            # (ConvLSTM) by whole feature maps, which is not bounded here
            cap = (max(steps - 1, 0) * int(w.shape[0])) if len(w.shape) == 2 else math.inf
            parts.append((_count([w]), cap))
        return tuple(parts), math.inf, False, "recurrent"
    nested = [layer for layer in _sublayers(op) if isinstance(layer, L.Embedding)]
    if nested and inputs and all(_is_integer(t) for t in inputs):
        vocab = max(int(e.input_dim) for e in nested)
        return (), _ids_bits(inputs, vocab), False, "embedding"
    if "Conv" in kind:
        return (), math.inf, False, "shared"
    if isinstance(op, keras.Model):
        return (), math.inf, False, "opaque"
    return (), math.inf, False, "dense"


def _var_name(w) -> str:
    """A variable's own name (``kernel``, ``beta``), without its layer path."""
    return str(getattr(w, "name", "") or "").split("/")[-1].split(":")[0]


def _sublayers(op) -> list:
    try:
        return list(op._flatten_layers(include_self=False))
    except Exception:  # noqa: BLE001 - a layer without the tracker: no sub-layers known
        return []


def model_capacity(model) -> ModelCapacity:
    """Memory-equivalent capacity (bits) of a network, layer by layer (paper Algorithm 1).

    Parameters
    ----------
    model : keras.Model or sequence of GraphNode
        A built Keras 3 Sequential or functional model (nested models and
        ``keras.applications`` models included), or a node list from another
        framework's adapter.

    Returns
    -------
    ModelCapacity

    Raises
    ------
    ValueError
        ``model`` is not built.
    TypeError
        ``model`` is neither a Keras model nor a node list.

    Examples
    --------
    >>> import keras, tb_nndebug as nd
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3),
    ...                       keras.layers.Dense(1)])
    >>> nd.model_capacity(m).bits
    12
    """
    if isinstance(model, (list, tuple)):
        return capacity_from_graph(model)
    return capacity_from_graph(keras_graph(model), name=getattr(model, "name", None))


def capacity_match(model_bits, complexity) -> CapacityMatch:
    """Compare a model's capacity with a dataset's requirement (algorithms.md §4).

    ``too_small`` below ``expected_bits`` (expect underfitting), ``matched``
    from ``expected_bits`` to ``max_bits``, ``oversized`` above ``max_bits``
    (it can memorise every label: expect overfitting).

    Parameters
    ----------
    model_bits : int or ModelCapacity
        The model's capacity in bits.
    complexity : DatasetComplexity
        From :func:`tb_nndebug.dataset_complexity`.

    Returns
    -------
    CapacityMatch

    Examples
    --------
    >>> import numpy as np, tb_nndebug as nd
    >>> c = nd.dataset_complexity(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), [0, 1, 1, 0])
    >>> nd.capacity_match(6, c).verdict        # 4 expected, 8 max
    'matched'
    """
    if isinstance(model_bits, ModelCapacity):
        model_bits = model_bits.bits
    if isinstance(model_bits, bool) or not isinstance(model_bits, numbers.Real):
        raise TypeError(f"model_bits must be a number of bits, got {type(model_bits).__name__}")
    if not math.isfinite(model_bits) or model_bits < 0:
        raise ValueError(f"model_bits must be a finite number >= 0, got {model_bits!r}")
    try:
        expected, max_bits = int(complexity.expected_bits), int(complexity.max_bits)
    except AttributeError:
        raise TypeError(
            "complexity must be a DatasetComplexity (with expected_bits and max_bits), "
            f"got {type(complexity).__name__}"
        ) from None
    if model_bits < expected:
        verdict = "too_small"
    elif model_bits <= max_bits:
        verdict = "matched"
    else:
        verdict = "oversized"
    if expected > 0:
        ratio = model_bits / expected
    else:
        ratio = math.inf if model_bits > 0 else 1.0
    log2_ratio = math.log2(ratio) if ratio > 0 else -math.inf
    return CapacityMatch(
        verdict=verdict,
        ratio=float(ratio),
        log2_ratio=float(log2_ratio),
        model_bits=int(model_bits),
        expected_bits=expected,
        max_bits=max_bits,
    )

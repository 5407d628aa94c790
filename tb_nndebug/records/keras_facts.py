"""Read facts off a Keras 3 model: output activation, loss, stochastic layers.

Shared by ``summary.model`` and the callback's static checks. Everything
here only reads the model; nothing is changed or built.
"""
from __future__ import annotations

import math

STOCHASTIC_KINDS = (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout", "RandomFlip",
    "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
    "RandomCrop", "RandomBrightness",
)


def check_model(model, *, name: str = "model"):
    """Raise ``TypeError``/``ValueError`` unless ``model`` is a built Keras model."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"{name} must be a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError(
            f"{name} is not built: give it an Input (keras.Input(shape=...)) or call it on "
            "a batch before logging it"
        )
    return model


def flat_layers(model):
    """All leaf layers of ``model`` in order, walking nested models."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(flat_layers(layer))
        else:
            out.append(layer)
    return out


def activation_name(layer) -> str | None:
    """Name of a layer's activation ('relu', 'softmax', 'linear'), or None."""
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    if kind == "ReLU":
        return "relu"
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    if isinstance(act, str):
        return act
    return getattr(act, "__name__", None) or type(act).__name__.lower()


def output_activation(model) -> str | None:
    """Activation applied by the last layer that has one (e.g. a trailing
    ``Activation('softmax')`` after a linear ``Dense``); None if unknown."""
    for layer in reversed(flat_layers(model)):
        act = activation_name(layer)
        if act is not None:
            return act
        if type(layer).__name__ not in ("Dropout", "Flatten", "Reshape", "Identity"):
            return None
    return None


def shape_without_batch(shape):
    """``(None, 8, 8)`` → ``[8, 8]``; a list of shapes → list of lists."""
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [shape_without_batch(s) for s in shape]
    if isinstance(shape, dict):
        return {k: shape_without_batch(v) for k, v in shape.items()}
    return [None if d is None else int(d) for d in list(shape)[1:]]


def n_outputs(model) -> int | None:
    try:
        shape = model.output_shape
    except (AttributeError, ValueError):  # subclassed or not yet called
        return None
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return None
    last = shape[-1] if shape else None
    return int(last) if last is not None else None


def loss_info(model) -> dict | None:
    """``{"name", "from_logits"}`` of a compiled model's loss, or None (``"multiple"``
    for a dict or list of losses: see :func:`losses_by_output`)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple, dict)):
        return {"name": "multiple", "from_logits": None}
    return _single_loss_info(loss)


def stochastic_layers(model) -> list[str]:
    return [layer.name for layer in flat_layers(model) if type(layer).__name__ in STOCHASTIC_KINDS
            or (type(layer).__name__ not in ("Dense",)
                and "dropout" in type(layer).__name__.lower())]


def learning_rate(model) -> float | None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    try:
        value = float(opt.learning_rate.numpy() if hasattr(opt.learning_rate, "numpy")
                      else opt.learning_rate)
    except (TypeError, ValueError):  # a schedule object that cannot be read as a number
        return None
    return value if math.isfinite(value) else None


def relu_layers(model) -> list:
    """The model's own layers whose output is a ReLU (``Dense(..., activation='relu')``,
    ``ReLU()``, ``Activation('relu')``): those a tap on the model's graph can reach
    (a nested model's inner layers belong to its own graph)."""
    return [layer for layer in model.layers if activation_name(layer) == "relu"]


def variable_path(model, variable) -> str:
    """A variable's path inside ``model`` (``"dense/kernel"``, ``"encoder/dense/kernel"``):
    Keras prefixes a Sequential model's own name, which says nothing here."""
    import keras

    path = str(getattr(variable, "path", None) or variable.name)
    prefix = f"{model.name}/"
    if isinstance(model, keras.Sequential) and path.startswith(prefix):
        return path[len(prefix):]
    return path


def kernel_variables(model) -> list:
    """``(variable path, variable)`` of each trainable kernel-like variable (2 or more
    dimensions: Dense/Conv kernels, embedding tables, recurrent and attention
    weights), input side first."""
    return [(variable_path(model, v), v) for v in model.trainable_variables if len(v.shape) >= 2]


def layer_path(model, variable) -> str:
    """The layer a variable belongs to: its path without the last part
    (``"encoder/dense/kernel"`` -> ``"encoder/dense"``)."""
    path = variable_path(model, variable)
    return path.rsplit("/", 1)[0] if "/" in path else path


def variable_groups(model) -> list[tuple[str, list, bool]]:
    """``(layer path, trainable variables, weighted)`` per layer, input side first;
    ``weighted`` when the layer has a kernel-like (2-D or more) variable."""
    groups: dict[str, list] = {}
    for v in model.trainable_variables:
        groups.setdefault(layer_path(model, v), []).append(v)
    return [(path, vs, any(len(v.shape) >= 2 for v in vs)) for path, vs in groups.items()]


#: Layers whose kernel looks up rows by index instead of multiplying the input.
INDEX_LAYERS = ("Embedding",)
#: Preprocessing that turns raw input into what the first weighted layer should see.
PREPROCESSING_KINDS = ("Rescaling", "Normalization", "TextVectorization", "StringLookup",
                       "IntegerLookup", "Hashing", "CategoryEncoding", "Discretization",
                       "HashedCrossing", "Resizing", "CenterCrop")


def is_index_layer(layer) -> bool:
    """An ``Embedding``, or a custom layer built around one (token + position
    embeddings): it looks rows up by id instead of multiplying its input."""
    if type(layer).__name__ in INDEX_LAYERS:
        return True
    subs = getattr(layer, "_layers", None) or []
    return bool(subs) and not hasattr(layer, "layers") and any(is_index_layer(s) for s in subs)


def is_weighted(layer) -> bool:
    """A leaf layer with a trainable kernel-like variable (or a nested model)."""
    try:
        return any(len(v.shape) >= 2 for v in layer.trainable_weights)
    except (AttributeError, TypeError, ValueError):
        return False


def _parents(layer) -> list:
    nodes = getattr(layer, "_inbound_nodes", None) or []
    return [p.operation for n in nodes for p in getattr(n, "parent_nodes", [])]


def _children(layer) -> list:
    return [n.operation for n in getattr(layer, "_outbound_nodes", None) or []]


def entry_layers(model) -> list:
    """The weighted layers the input reaches first: no weighted layer before them
    on any path from an input (e.g. the first Conv of each branch). Empty when
    the model has no graph to walk (subclassed models)."""
    import keras

    if not getattr(model, "_inbound_nodes", None) and not isinstance(model, keras.Model):
        return []
    try:
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    except AttributeError:
        return []
    out = []
    for layer in layers:
        if not is_weighted(layer):
            continue
        stack, seen, blocked = list(_parents(layer)), set(), False
        while stack:
            op = stack.pop()
            if id(op) in seen:
                continue
            seen.add(id(op))
            if is_weighted(op):
                blocked = True
                break
            stack.extend(_parents(op))
        if not blocked:
            out.append(layer)
    return out


def preprocessing_before_weights(model) -> list[str]:
    """Preprocessing layers (Rescaling, Normalization, lookups...) met before the
    first weighted layer, in layer order (also for models without a graph)."""
    out = []
    for layer in flat_layers(model):
        if is_weighted(layer):
            break
        if type(layer).__name__ in PREPROCESSING_KINDS:
            out.append(layer.name)
    return out


_NONLINEAR_FOLLOWERS = ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
                        "BatchNormalization", "LayerNormalization", "GroupNormalization")


def dropout_rates(model) -> dict:
    """``{layer name: rate}`` of the dropout layers."""
    out = {}
    for layer in flat_layers(model):
        rate = getattr(layer, "rate", None)
        if "dropout" in type(layer).__name__.lower() and isinstance(rate, (int, float)):
            out[layer.name] = float(rate)
    return out


#: Layers that keep a map linear (or affine at inference): a linear weighted layer
#: through only these into another weighted layer composes into one linear map.
_LINEAR_THROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                   "GaussianDropout", "GaussianNoise", "AlphaDropout", "Flatten", "Reshape",
                   "Permute", "Identity", "BatchNormalization", "ActivityRegularization",
                   "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
                   "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
                   "RepeatVector", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D")
_LINEAR_KINDS = ("Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
                 "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D",
                 "DepthwiseConv1D", "DepthwiseConv2D")


def _composes_linearly(layer) -> bool:
    """Some path from ``layer`` reaches another weighted layer through only layers
    that keep the map linear (a merge such as ``Add``, an activation, a custom
    layer or an output ends the path)."""
    stack, seen = list(_children(layer)), set()
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        kind = type(op).__name__
        if kind == "Activation" and activation_name(op) == "linear":
            stack.extend(_children(op))
        elif kind in _LINEAR_THROUGH:
            stack.extend(_children(op))
        elif kind in _LINEAR_KINDS:
            return True
    return False


def linear_hidden_layers(model) -> list[str]:
    """Dense/Conv layers with a linear activation whose output reaches another
    Dense/Conv layer with nothing non-linear between them: the two compose into
    one linear map (UMLAUT's heuristic, read off the model's graph). Projection
    shortcuts merged by ``Add``, heads feeding a custom layer (a VAE's
    ``z_mean``), outputs and ``Dense -> BatchNorm -> Activation`` are not flagged."""
    out = []
    for layer in flat_layers(model):
        if type(layer).__name__ not in _LINEAR_KINDS or activation_name(layer) != "linear":
            continue
        if _composes_linearly(layer):
            out.append(layer.name)
    return out


def has_layer_graph(model) -> bool:
    """A Sequential or functional model (a graph of layers to walk); False for a
    subclassed model, whose ``call`` is Python code."""
    import keras

    if isinstance(model, keras.Sequential):
        return True
    return hasattr(model, "_nodes_by_depth") and hasattr(model, "inputs")


def _single_loss_info(loss) -> dict | None:
    """``{"name", "from_logits"}`` of one loss (a string, a Loss object or a function).
    Keras string losses take probabilities (from_logits=False)."""
    if loss is None:
        return None
    if isinstance(loss, str):
        is_ce = "crossentropy" in loss or loss in ("bce", "cce", "scce")
        return {"name": loss, "from_logits": False if is_ce else None}
    config = {}
    if callable(getattr(loss, "get_config", None)):
        try:
            config = loss.get_config() or {}
        except NotImplementedError:
            config = {}
    name = config.get("name") or getattr(loss, "name", None) or getattr(loss, "__name__", None) \
        or type(loss).__name__
    from_logits = config.get("from_logits")
    if from_logits is None and hasattr(loss, "from_logits"):
        from_logits = bool(loss.from_logits)
    return {"name": str(name), "from_logits": from_logits}


def output_heads(model) -> list[dict]:
    """``{"output", "activation", "units"}`` of each output of a functional model
    (empty for one output or no graph)."""
    try:
        outputs = list(model.outputs)
    except (AttributeError, ValueError, TypeError):
        return []
    if len(outputs) < 2:
        return []
    heads = []
    for t in outputs:
        layer = getattr(getattr(t, "_keras_history", None), "operation", None)
        if layer is None:
            return []
        shape = getattr(t, "shape", None)
        heads.append({"output": layer.name, "activation": activation_name(layer),
                      "units": int(shape[-1]) if shape and shape[-1] is not None else None})
    return heads


def losses_by_output(model) -> list[dict]:
    """Each output's head with the loss compiled for it (a dict or list of losses);
    empty for a single loss."""
    loss = getattr(model, "loss", None)
    heads = output_heads(model)
    if not heads or not isinstance(loss, (dict, list, tuple)):
        return []
    out = []
    for i, head in enumerate(heads):
        if isinstance(loss, dict):
            one = loss.get(head["output"])
        else:
            one = loss[i] if i < len(loss) else None
        out.append(dict(head, loss=_single_loss_info(one)))
    return out

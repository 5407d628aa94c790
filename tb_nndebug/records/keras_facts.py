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
    """``{"name", "from_logits"}`` of a compiled model's loss, or None."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, (list, tuple, dict)):
        return {"name": "multiple", "from_logits": None}
    if isinstance(loss, str):
        # Keras string losses take probabilities (from_logits=False).
        is_ce = "crossentropy" in loss or loss in ("bce", "cce", "scce")
        return {"name": loss, "from_logits": False if is_ce else None}
    config = {}
    if callable(getattr(loss, "get_config", None)):
        try:
            config = loss.get_config() or {}
        except NotImplementedError:  # custom losses without a config
            config = {}
    name = config.get("name") or getattr(loss, "name", None) or getattr(loss, "__name__", None) \
        or type(loss).__name__
    from_logits = config.get("from_logits")
    if from_logits is None and hasattr(loss, "from_logits"):
        from_logits = bool(loss.from_logits)
    return {"name": str(name), "from_logits": from_logits}


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
    """Leaf layers whose output is a ReLU (``Dense(..., activation='relu')``,
    ``ReLU()``, ``Activation('relu')``)."""
    return [layer for layer in flat_layers(model) if activation_name(layer) == "relu"]


def kernel_variables(model) -> list:
    """``(layer name, kernel variable)`` for each layer with a trainable kernel."""
    out = []
    for layer in flat_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and getattr(kernel, "trainable", True) and layer.trainable:
            out.append((layer.name, kernel))
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


def linear_hidden_layers(model) -> list[str]:
    """Hidden Dense/Conv layers with a linear activation and no activation or
    normalisation layer right after them: stacked, they collapse into one
    linear map (UMLAUT's heuristic, minus the Dense→BatchNorm→Activation idiom)."""
    layers = [layer for layer in flat_layers(model) if type(layer).__name__ != "InputLayer"]
    weighted = [i for i, layer in enumerate(layers) if getattr(layer, "kernel", None) is not None]
    if len(weighted) < 2:
        return []
    out = []
    for i in weighted[:-1]:  # the last weighted layer is the output
        if activation_name(layers[i]) not in ("linear", None):
            continue
        following = layers[i + 1] if i + 1 < len(layers) else None
        if following is not None and type(following).__name__ in _NONLINEAR_FOLLOWERS:
            continue
        out.append(layers[i].name)
    return out

"""The model under attack seen as ``x -> logits``, and the checks that it can be attacked."""
from __future__ import annotations

import numpy as np

from .._validation import check_option

__all__ = ["Classifier", "backend_op", "margin_loss", "gradient", "probe_model", "detect_output",
           "check_gradient"]

#: Added inside the log of probability outputs; float32 keeps it (> 1.2e-38),
#: so a competitor's log-probability keeps its gradient down to ~1e-30.
_LOG_FLOOR = 1e-30


class Classifier:
    """The model seen as ``x -> logits`` with a ``(n, K>=2)`` output.

    Built once per :func:`robustness` call: CleverHans' ``compute_gradient``
    is a module-level ``tf.function`` keyed on the ``model_fn`` object, so a
    fresh lambda per attack call would retrace every time. A Keras model of the JAX or
    PyTorch backend is wrapped by :func:`backend_op` (the attacks stay TensorFlow's).
    """

    def __init__(self, model, output: str, n_outputs: int):
        import tensorflow as tf

        self._model = model
        self.output = output
        single = n_outputs == 1
        try:
            import keras

            is_keras = isinstance(model, keras.layers.Layer)
        except Exception:  # pragma: no cover - keras always present with TF 2.21
            is_keras = False
        call = model
        if is_keras:
            backend = keras.backend.backend()
            call = (lambda x: model(x, training=False)) if backend == "tensorflow" \
                else backend_op(model, backend)

        def logits(x):
            z = tf.cast(call(x), tf.float32)
            if single:
                z = tf.reshape(z, [-1, 1])
                if output == "probabilities":
                    # sigmoid p -> log-probabilities of (class 0, class 1)
                    return tf.concat([tf.math.log(1.0 - z + _LOG_FLOOR),
                                      tf.math.log(z + _LOG_FLOOR)], axis=1)
                return tf.concat([tf.zeros_like(z), z], axis=1)
            if output == "probabilities":
                return tf.math.log(z + _LOG_FLOOR)
            return z

        self.model_fn = logits
        self.predict_fn = tf.function(logits, reduce_retracing=True)
        self.n_classes = 2 if single else n_outputs

    def predict(self, x) -> np.ndarray:
        # argmax ties go to the lowest index (numpy), the same everywhere here
        return np.argmax(self.predict_fn(x).numpy(), axis=1)


def _jax_vjp(model):
    import jax
    import jax.numpy as jnp

    @jax.jit
    def vjp(x, dz):
        z, back = jax.vjp(lambda t: model(t, training=False), x)
        return back(dz.astype(z.dtype))[0]

    return lambda x, dz: np.asarray(vjp(jnp.asarray(x), jnp.asarray(dz)), np.float32)


def _torch_vjp(model):
    import keras
    import torch

    def vjp(x, dz):
        t = keras.ops.convert_to_tensor(x).requires_grad_(True)
        with torch.enable_grad():
            z = model(t, training=False)
            (dx,) = torch.autograd.grad(z, t, grad_outputs=torch.as_tensor(
                dz, dtype=z.dtype, device=z.device))
        return dx.detach().cpu().numpy().astype(np.float32)

    return vjp


#: The input gradient (``(x, dz) -> dz·∂model/∂x``) of a Keras model per non-TF backend.
_VJPS = {"jax": _jax_vjp, "torch": _torch_vjp}


def backend_op(model, backend: str):
    """``x -> model(x)`` as a differentiable TensorFlow op for a Keras model of the JAX or
    PyTorch backend: the attacks (CleverHans, TensorFlow) run unchanged, the model's
    forward pass and input gradient are computed by its own backend.

    Raises
    ------
    NotImplementedError
        For a backend the attacks have no implementation for.
    """
    import keras
    import tensorflow as tf

    if backend not in _VJPS:
        raise NotImplementedError(
            f"the adversarial attacks have no implementation for the Keras backend {backend!r} "
            f"(they run under tensorflow, {', '.join(_VJPS)}): set KERAS_BACKEND to one of them")
    vjp = _VJPS[backend](model)

    def forward(x):
        return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)), np.float32)

    @tf.custom_gradient
    def call(x):
        z = tf.numpy_function(forward, [x], tf.float32)

        def grad(dz):
            dx = tf.numpy_function(vjp, [x, dz], tf.float32)
            dx.set_shape(x.shape)
            return dx

        return z, grad

    return call


def margin_loss(labels, logits):
    """Untargeted CW margin: best other logit minus the true one (> 0 = fooled)."""
    import tensorflow as tf

    onehot = tf.one_hot(labels, tf.shape(logits)[1], dtype=logits.dtype)
    true = tf.reduce_sum(onehot * logits, axis=1)
    other = tf.reduce_max(logits - onehot * 1e30, axis=1)
    return other - true


def gradient(clf: Classifier, x, y):
    from cleverhans.tf2.utils import compute_gradient

    return compute_gradient(clf.model_fn, margin_loss, x, y, False)


def probe_model(model, X, batches):
    """Run the model once on X, batch by batch; return its outputs as a (n, K) float array."""
    if not callable(model):
        raise TypeError(f"model must be a callable Keras model, got {type(model).__name__}")
    import keras

    outs = []
    for b in batches:
        try:
            out = model(X[b], training=False) if isinstance(model, keras.layers.Layer) \
                else model(X[b])
        except Exception as exc:
            raise ValueError(f"model could not be called on X: {type(exc).__name__}: {exc}") \
                from None
        if isinstance(out, (list, tuple, dict)):
            raise ValueError("model must have a single output tensor (n_samples, n_classes)")
        out = keras.ops.convert_to_numpy(out) if isinstance(model, keras.layers.Layer) \
            else np.asarray(out)
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != X[b].shape[0]:
            raise ValueError(
                f"model output must have shape (n_samples, n_classes), got {out.shape}")
        outs.append(out)
    out = np.concatenate(outs)
    if not np.isfinite(out).all():
        raise ValueError("model outputs NaN or infinite values on X")
    return out.astype(np.float64)


def detect_output(out: np.ndarray, output: str) -> str:
    check_option(output, name="output", options=("auto", "logits", "probabilities"))
    if output != "auto":
        return output
    in_unit = out.min() >= 0.0 and out.max() <= 1.0
    if out.shape[1] == 1:
        return "probabilities" if in_unit else "logits"
    sums_to_one = np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    return "probabilities" if in_unit and sums_to_one else "logits"


def check_gradient(clf, x, labels, batches):
    """Raise unless the attack loss has a non-zero input gradient on some batch."""
    import tensorflow as tf

    for b in batches:
        try:
            grad = gradient(clf, tf.constant(x[b]), tf.constant(labels[b], tf.int32))
        except Exception as exc:
            raise ValueError("model is not differentiable with respect to its input: "
                             f"{type(exc).__name__}: {exc}") from None
        if grad is None:
            raise ValueError(
                "model has no gradient with respect to its input (a non-differentiable op "
                "such as argmax, round or a cast?); gradient attacks need a differentiable model"
            )
        if np.any(grad.numpy()):
            return
    raise ValueError(
        "model's gradient with respect to its input is zero for every sample "
        "(non-differentiable op or fully saturated outputs); gradient attacks cannot run"
    )

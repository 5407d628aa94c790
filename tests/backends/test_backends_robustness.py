"""The robustness measure under the JAX and PyTorch backends: the attacks (CleverHans,
TensorFlow) run unchanged on a differentiable TensorFlow op whose forward pass and input
gradient the model's own backend computes; same weights, same result as TensorFlow."""
from __future__ import annotations

import keras
import numpy as np
import pytest
from backend_runner import run_scenario

from tb_nndebug.adversarial.classifier import backend_op

pytestmark = pytest.mark.training


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_robustness_equals_tensorflows_on_the_same_weights(backend):
    ref = run_scenario("tensorflow", "robustness")["robustness"]
    got = run_scenario(backend, "robustness")["robustness"]
    assert got["backend"] == backend
    assert got["status"] == ref["status"]
    assert "fooled" in got["status"]  # a test that can fail: some samples are attacked
    assert got["pixels"] == ref["pixels"]
    eps = np.array([np.nan if e is None else e for e in got["min_eps"]])
    want = np.array([np.nan if e is None else e for e in ref["min_eps"]])
    np.testing.assert_allclose(eps, want, rtol=1e-4, equal_nan=True)


def test_a_backend_without_attacks_is_named_in_the_error():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(NotImplementedError, match="Keras backend 'numpy'"):
        backend_op(model, "numpy")

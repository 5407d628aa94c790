"""The callback under the TensorFlow, JAX and PyTorch backends of Keras 3: a clean run is
quiet and fully measured, a planted bug is named, on every backend (real fits, one
subprocess per backend)."""
from __future__ import annotations

import pytest
from backend_runner import BACKENDS, run_scenario

pytestmark = pytest.mark.training

SCENARIOS = ("clean_mlp", "clean_cnn", "lr50", "unreached_head", "summary_api")


def results(backend):
    return run_scenario(backend, *SCENARIOS)


def serious(run):
    return [f"{f['severity']}:{f['id']}" for f in run["findings"]
            if f["severity"] in ("error", "warning")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_subprocess_runs_the_backend_it_was_given(backend):
    assert results(backend)["backend"] == backend


@pytest.mark.parametrize("scenario", ["clean_mlp", "clean_cnn"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_run_has_every_record_and_no_error_or_warning(backend, scenario):
    run = results(backend)[scenario]
    assert {"model", "training", "dataset", "checks"} <= set(run["kinds"])
    assert serious(run) == []


@pytest.mark.parametrize("scenario", ["clean_mlp", "clean_cnn"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_run_measures_gradients_of_every_weighted_layer(backend, scenario):
    run = results(backend)[scenario]
    norms = {g["layer"]: g["norm"] for g in run["grad_norms"]}
    assert set(run["weighted_layers"]) <= set(norms)
    assert all(norms[layer] is not None and norms[layer] > 0 for layer in run["weighted_layers"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_run_measures_the_other_probe_signals(backend):
    run = results(backend)["clean_mlp"]
    assert run["initial_loss"] == pytest.approx(2.3, abs=0.3)  # ~ln(10) before training
    assert run["inference_deterministic"] is True
    assert 0 < run["weight_update_ratio"] < 1
    (dense,) = run["dead_units"]
    assert dense["units"] == 32 and 0 <= dense["fraction"] < 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_clean_runs_agree_across_backends_on_the_initial_loss(backend):
    """Same seed, same data: the initial loss (before any update) is within float noise
    of TensorFlow's, whatever backend computes it."""
    ref = results("tensorflow")["clean_mlp"]["initial_loss"]
    # Keras seeds each backend's initialisers differently: the same scale, not the same draw
    assert results(backend)["clean_mlp"]["initial_loss"] == pytest.approx(ref, rel=0.15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_at_learning_rate_50_is_flagged(backend):
    run = results(backend)["lr50"]
    found = serious(run)
    assert found and found[0] == "error:training.lr_too_high", found  # its NaN case too


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_layer_the_loss_does_not_reach_has_no_gradient_norm(backend):
    """Only head ``a`` has a loss and ``b`` reads a stop-gradient: ``b`` is unmonitored on
    every backend (JAX gives zeros there, not None: its jaxpr says it is not reached)."""
    run = results(backend)["unreached_head"]
    norms = {g["layer"]: g["norm"] for g in run["grad_norms"]}
    assert norms["b"] is None
    assert norms["hidden"] > 0 and norms["a"] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_summary_api_writes_model_and_training_records_that_read_back(backend):
    run = results(backend)["summary_api"]
    assert run["wrote"] == [True, True] and run["kinds"] == ["model", "training"]
    assert run["n_params"] == 64 * 32 + 32 + 32 * 10 + 10
    assert run["model_bits"] == results("tensorflow")["summary_api"]["model_bits"]
    assert len(run["history"]["loss"]) == 2

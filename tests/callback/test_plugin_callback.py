"""The Debugger plugin on a logdir written by real Keras training with
``keras.callbacks.TensorBoard`` and ``DebuggerCallback`` side by side."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytestmark = pytest.mark.training

ROUTE = "/data/plugin/nndebug"
EPOCHS = 4


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from tb_nndebug.callback import DebuggerCallback

    keras.utils.set_random_seed(0)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype("float32")
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    logdir = tmp_path_factory.mktemp("keras")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    run = logdir / "digits"
    debugger = DebuggerCallback(run, train_data=(X_tr, y_tr), validation_data=(X_val, y_val),
                                verbose=0, csg=False, random_state=0)
    model.fit(X_tr, y_tr, validation_data=(X_val, y_val), epochs=EPOCHS, batch_size=64,
              verbose=0, callbacks=[keras.callbacks.TensorBoard(log_dir=str(run)), debugger])
    return logdir, debugger


@pytest.fixture(scope="module")
def client(trained):
    from plugin_client import make_client

    return make_client(trained[0])[0]


def get(client, url):
    resp = client.get(url)
    assert resp.status_code == 200, resp.data[:300]
    return json.loads(resp.data)


def test_runs_list_the_callbacks_run_in_the_group_of_keras_runs(client):
    runs = {r["run"]: r for r in get(client, ROUTE + "/runs")["runs"]}
    assert set(runs) == {"digits/debugger"}
    entry = runs["digits/debugger"]
    assert entry["group"] == "digits" and entry["last_step"] == EPOCHS - 1
    assert {"dataset", "model", "checks", "training"} <= set(entry["kinds"])


def test_report_joins_keras_curves_records_and_the_callbacks_own_findings(client, trained):
    rep = get(client, ROUTE + "/report?run=digits/debugger")
    assert rep["warnings"] == []
    curves = rep["curves"]
    assert curves["source"] == "scalars"
    by_key = {(s["metric"], s["split"]): s for s in curves["series"]}
    assert {("loss", "train"), ("loss", "validation"), ("accuracy", "train"),
            ("accuracy", "validation")} <= set(by_key)
    assert by_key[("loss", "train")]["run"] == "digits/train"
    assert [p[0] for p in by_key[("loss", "validation")]["points"]] == list(range(EPOCHS))
    history = rep["records"]["training"][0]["value"]["history"]
    assert [p[1] for p in by_key[("loss", "validation")]["points"]] == pytest.approx(
        history["val_loss"], rel=1e-5)
    dataset = rep["records"]["dataset"][0]["value"]
    assert dataset["n_classes"] == 10
    # the tab and the callback's console reach the same verdicts on the same records
    debugger = trained[1]
    assert sorted(f["id"] for f in rep["findings"]) == sorted(f.id for f in debugger.findings)


def test_compare_row_of_the_trained_run_has_its_numbers(client):
    (row,) = get(client, ROUTE + "/compare")["rows"]
    assert row["model_bits"] > 0 and row["expected_bits"] > 0
    assert row["ratio"] == pytest.approx(row["model_bits"] / row["expected_bits"])
    assert row["verdict"] in ("too_small", "matched", "oversized")
    assert 0 <= row["train_accuracy"] <= 1 and 0 <= row["val_accuracy"] <= 1
    assert np.isfinite(row["train_loss"]) and row["epochs"] == EPOCHS

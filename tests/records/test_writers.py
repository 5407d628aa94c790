"""Every writer of tb_nndebug.summary keeps the same tf.summary-style conventions.

One case per record kind: how to write it, how to build its document with the
pure builder, its default step and the scalar mirrors and pictures it promises
(docs/data-contract.md). Each convention is one test run over every case.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing import event_accumulator

import tb_nndebug as nd
from tb_nndebug import summary
from tb_nndebug.records import contract
from tb_nndebug.records.reading import read_records

CHECKS = {"optimizer": "Adam", "learning_rate": 0.001,
          "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
          "batch_size": 32, "epochs_planned": 3}
TRAINING = {"epoch": 2, "epochs_planned": 3, "history": {"loss": [1.0, 0.8, 0.6]},
            "learning_rate": 0.001, "probe_loss": 0.6, "weight_update_ratio": 0.01,
            "grad_norms": [{"layer": "dense", "norm": 0.2}, {"layer": "dense_1", "norm": 0.1}],
            "dead_units": [{"layer": "dense", "fraction": 0.25, "units": 8}]}
RUN_INFO = {"architecture": "mlp", "capacity_level": 0.5, "target_bits": 1200}


@dataclass
class Case:
    kind: str
    write: Callable[..., bool]          # write(name, step=..., description=...)
    build: Callable[[str], dict]        # the pure builder's document for tag ``name``
    default_step: int                   # the step without step= and without a global step
    scalars: set                        # promised mirrors nndebug/<name>/<field>
    images: set                         # promised pictures nndebug/<name>/<picture>


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16.0).astype("float32"), y[:300]


@pytest.fixture(scope="module")
def small_model():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")], name="small")


@pytest.fixture(scope="module")
def robustness_result(digits):
    X, y = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=5, batch_size=32, verbose=0, shuffle=False)
    return nd.robustness(model, X[:12], y[:12], eps_max=0.5, bisection_steps=4,
                         attack_steps=5, max_pixels=10, random_state=0, n_examples=2)


def _resampling_data(X, y):
    """Classes 0 (24 rows) and 1 (8 rows), the minority topped up with 16 interpolations."""
    X0, X1 = X[y == 0][:24], X[y == 1][:8]
    before, y_before = np.concatenate([X0, X1]), np.array([0] * 24 + [1] * 8)
    extra = np.concatenate([X1 + w * (np.roll(X1, 1, axis=0) - X1) for w in (0.25, 0.5)])
    return before, y_before, np.concatenate([before, extra]), np.array([0] * 24 + [1] * 24)


def make_case(kind, request) -> Case:  # noqa: C901 - one branch per kind, nothing else
    X, y = request.getfixturevalue("digits")
    if kind == "dataset":
        return Case(kind, lambda name, **kw: summary.dataset(name, X, y, **kw),
                    lambda name: summary.dataset_document(name, X, y), 0,
                    {"expected_bits", "max_bits", "csg", "imbalance_ratio"}, {"projection"})
    if kind == "model":
        model, cx = request.getfixturevalue("small_model"), nd.dataset_complexity(X, y)
        return Case(kind, lambda name, **kw: summary.model(name, model, complexity=cx, **kw),
                    lambda name: summary.model_document(name, model, complexity=cx), 0,
                    {"bits", "ratio"}, {"capacity"})
    if kind == "balance":
        return Case(kind, lambda name, **kw: summary.balance(name, y, stage="after", **kw),
                    lambda name: summary.balance_document(name, y, stage="after"), 0,
                    {"imbalance_ratio", "minority_fraction"}, {"balance"})
    if kind == "checks":
        return Case(kind, lambda name, **kw: summary.checks(name, CHECKS, **kw),
                    lambda name: summary.checks_document(CHECKS), 0, {"learning_rate"}, set())
    if kind == "training":
        return Case(kind, lambda name, **kw: summary.training(name, TRAINING, **kw),
                    lambda name: summary.training_document(TRAINING), TRAINING["epoch"],
                    {"learning_rate", "probe_loss", "weight_update_ratio", "max_dead_fraction",
                     "grad_norm_ratio"}, set())
    if kind == "run_info":
        return Case(kind, lambda name, **kw: summary.run_info(name, RUN_INFO, **kw),
                    lambda name: summary.run_info_document(RUN_INFO), 0,
                    {"capacity_level", "target_bits"}, set())
    if kind == "diagnostic_error":
        args = ("dead_units", ValueError("no ReLU"))
        opts = {"epoch": 1, "errors": [("gradients", "boom", 0)]}
        return Case(kind, lambda name, **kw: summary.diagnostic_error(*args, name=name, **opts,
                                                                      **kw),
                    lambda name: summary.diagnostic_error_document(*args, **opts), 1, set(),
                    set())
    if kind == "resampling":
        data = _resampling_data(X, y)
        return Case(kind, lambda name, **kw: summary.resampling(name, *data, method="mid",
                                                                **kw),
                    lambda name: summary.resampling_document(name, *data, method="mid"), 0,
                    {"expected_bits_before", "expected_bits_after", "n_synthetic", "n_removed",
                     "imbalance_ratio_before", "imbalance_ratio_after"},
                    {"class_counts", "projection"})
    result = request.getfixturevalue("robustness_result")
    doc = summary.robustness_document(result, examples=2)
    return Case(kind, lambda name, **kw: summary.robustness(name, result, examples=2, **kw),
                lambda name: summary.robustness_document(result, examples=2), 0,
                {f for f in ("median_eps", "median_pixels", "pixel_fraction", "clean_accuracy",
                             "censored_fraction") if doc[f] is not None},
                {"adversarial_examples"} if doc["examples"] else set())


KINDS = [pytest.param(k, marks=pytest.mark.training) if k == "robustness" else k
         for k in contract.KINDS]


@pytest.fixture(params=KINDS)
def case(request):
    return make_case(request.param, request)


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path / "run"


def _write_with(run_dir, fn):
    writer = tf.summary.create_file_writer(str(run_dir))
    try:
        with writer.as_default():
            return fn()
    finally:
        tf.summary.experimental.set_step(None)
        writer.close()


def _events(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def _records(run_dir, kind):
    return {r["tag"]: r for r in read_records(run_dir).get(kind, [])}


def test_record_reads_back_as_its_document_with_its_mirrors(case, run_dir):
    name, description = f"my_{case.kind}", f"about **{case.kind}**"
    assert _write_with(run_dir, lambda: case.write(name, step=3, description=description)) is True
    (record,) = _records(run_dir, case.kind).values()
    assert record["tag"] == name and record["step"] == 3
    assert record["value"] == json.loads(contract.encode_record(case.kind, case.build(name)))
    acc = _events(run_dir)
    meta = acc.SummaryMetadata(name)
    assert meta.summary_description == description
    assert json.loads(meta.plugin_data.content) == {"kind": case.kind, "version": 1}
    by_plugin: dict = {}
    for tag in acc.Tags()["tensors"]:
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        by_plugin.setdefault(plugin, set()).add(tag)
    prefix = f"{contract.SCALAR_PREFIX}{name}/"
    assert by_plugin.pop(contract.PLUGIN_NAME) == {name}
    assert by_plugin.pop("scalars", set()) == {prefix + f for f in case.scalars}
    assert by_plugin.pop("images", set()) == {prefix + p for p in case.images}
    assert not by_plugin
    for tag in {prefix + f for f in case.scalars}:
        (event,) = acc.Tensors(tag)
        assert event.step == 3 and event.tensor_proto.dtype == tf.float32.as_datatype_enum


def test_step_defaults_to_the_global_step_then_the_kinds_default(case, run_dir):
    def write_both():
        tf.summary.experimental.set_step(5)
        assert case.write("global")
        tf.summary.experimental.set_step(None)
        assert case.write("default")

    _write_with(run_dir, write_both)
    steps = {tag: r["step"] for tag, r in _records(run_dir, case.kind).items()}
    assert steps == {"global": 5, "default": case.default_step}


def test_without_a_default_writer_nothing_is_written(case, run_dir):
    writer = tf.summary.create_file_writer(str(run_dir))  # exists, but is not the default
    assert not tf.summary.should_record_summaries()
    assert case.write(case.kind, step=0) is False
    writer.close()
    assert read_records(run_dir) == {}
    assert not _events(run_dir).Tags()["tensors"]


@pytest.mark.parametrize("bad", ["", None, 3])
def test_bad_name_is_a_value_error_naming_name(case, bad):
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        case.write(bad, step=0)

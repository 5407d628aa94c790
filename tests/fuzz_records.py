"""Hostile ``nndebug`` records for the fuzz test: seeded, each one what a buggy,
old, new or malicious writer could leave in an event file.

:func:`hostile_run` writes one run of ``n`` records; each is one of
:data:`CASES`: a good document of some kind with fields replaced by values of
the wrong type (a string where a list is expected, lists where dicts are,
negative or ``None`` epochs, NaN/Infinity literals, 5,000-digit integers,
3,000-deep nesting), random bytes as the tensor or as the plugin content, a
document of another kind than its series, a tensor of the wrong shape or
dtype. The writing goes through ``tf.summary.write`` with the plugin's
``SummaryMetadata``, below the project's writers, which refuse such documents.
"""
from __future__ import annotations

import json
import os

import nndebug_logdirs as L
import numpy as np

KINDS = ("dataset", "model", "balance", "checks", "training", "resampling", "robustness",
         "run_info", "diagnostic_error")

#: The cases :func:`hostile_record` picks from (weights: mutated documents dominate, so the
#: rules get past their first field more often than not).
CASES = {"mutated": 10, "wrong_kind": 2, "deep": 1, "huge_int": 1, "nan_literals": 2,
         "random_bytes": 1, "random_content": 1, "not_an_object": 1, "odd_tensor": 1}

_DEEP = "__DEEP__"
_HUGE = "__HUGE__"
_NAN = ("__NAN__", "__INF__", "__NINF__")
_RAW = {_DEEP: "[" * 3000 + "]" * 3000, _HUGE: "9" * 5000,
        "__NAN__": "NaN", "__INF__": "Infinity", "__NINF__": "-Infinity"}


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def template(kind: str, rng) -> dict:
    """A well-formed document of ``kind`` (the shapes of ``docs/data-contract.md``)."""
    if kind == "dataset":
        return L.dataset_doc(rng, n_points=20)
    if kind == "model":
        return L.model_doc()
    if kind == "checks":
        doc = L.checks_doc()
        doc.update(targets={"shape": [100], "kind": "integer", "min": 0, "max": 9, "mean": 4.5,
                            "std": 2.8, "integer_valued": True, "binary_valued": False,
                            "n_unique": 10, "one_hot": False, "multi_hot": False,
                            "n_samples": 100},
                   initial_weights=[{"layer": "dense", "variable": "kernel", "shape": [64, 32],
                                     "fan_in": 64, "std": 0.1, "max_abs": 0.3,
                                     "all_zero": False, "constant": False}],
                   initial_output={"min": 0.0, "max": 1.0, "mean": 0.1,
                                   "std_across_samples": 0.01},
                   initial_loss=2.3, dropout_rates={"dropout": 0.7},
                   linear_hidden_layers=["dense"], skipped=[{"what": "x", "reason": "y"}],
                   input_kind="values", steps_per_epoch=10, n_train_samples=320)
        return doc
    if kind == "training":
        epoch = int(rng.integers(0, 8))
        doc = L.training_doc(epoch, 8, rng, overfit=bool(rng.integers(2)))
        doc.update(probe_loss=1.0, probe_loss_finite=True, grad_norm_total=0.3,
                   probe_output_std=0.2, history_epochs=list(range(epoch + 1)))
        return doc
    if kind == "robustness":
        return L.robustness_doc(rng, n=10)
    if kind == "balance":
        return {"name": "y", "stage": "before", "counts": {"0": 95, "1": 5},
                "proportions": {"0": 0.95, "1": 0.05}, "imbalance_ratio": 19.0,
                "minority_fraction": 0.05, "rare_classes": ["1"], "normalized_entropy": 0.29,
                "n_samples": 100, "n_classes": 2}
    if kind == "resampling":
        return {"name": "resampling", "method": "smote", "classes": ["0", "1"],
                "before": {"0": 95, "1": 5}, "after": {"0": 95, "1": 95}, "n_before": 100,
                "n_after": 190, "n_synthetic": 90, "n_removed": 0,
                "imbalance_ratio_before": 19.0, "imbalance_ratio_after": 1.0,
                "expected_bits_before": 30, "expected_bits_after": 33,
                "trials": [{"index": 0, "seed": 1, "counts": {"0": 95, "1": 95},
                            "n_samples": 190, "expected_bits": 33}], "chosen": 0,
                "projection_before": [[0.1, 0.2, 0]],
                "projection": {"method": "pca", "points": [[0.1, 0.2, 1, True]]}}
    if kind == "run_info":
        return {"architecture": "mlp", "capacity_level": 0.5, "target_bits": 1000,
                "experiment": "sweep"}
    return {"diagnostic": "dead_units", "error": "ValueError: x", "epoch": 2, "detail": "trace",
            "errors": [{"diagnostic": "dead_units", "error": "ValueError: x", "epoch": 2,
                        "detail": "trace"}]}


def hostile_value(rng):
    """A value of a random wrong type (or a special literal) for some field."""
    choices = [
        lambda: "text", lambda: "<b>html</b>" * int(rng.integers(1, 50)), lambda: "",
        lambda: [], lambda: [1, "a", None, {"b": []}], lambda: ["x"] * int(rng.integers(1, 30)),
        lambda: {}, lambda: {"a": "b", "c": [1, 2]}, lambda: {"0": {"0": {"0": "deep"}}},
        lambda: None, lambda: -1, lambda: -(10 ** 9), lambda: 0, lambda: True, lambda: False,
        lambda: 1e308, lambda: -1e308, lambda: 5e-324, lambda: 2 ** 63, lambda: 3.5,
        lambda: str(rng.choice(_NAN)), lambda: [[["s"]]], lambda: [None] * 5,
        lambda: {"id": "s", "started": "yesterday"},
    ]
    return choices[int(rng.integers(len(choices)))]()


def mutate(value, rng, rate: float, depth: int = 0):
    """``value`` with each field, at any depth, replaced by a hostile one with
    probability ``rate``; dict fields may also be dropped, keys added."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("kind", "version"):  # mutated as their own case
                out[k] = v
            elif rng.random() < rate / 4:
                continue  # the field is absent
            elif rng.random() < rate:
                out[k] = hostile_value(rng)
            else:
                out[k] = mutate(v, rng, rate, depth + 1)
        if rng.random() < rate:
            out[rng.choice(["session", "history_epochs", "epoch", "extra", "errors"])] = (
                hostile_value(rng))
        return out
    if isinstance(value, list):
        if rng.random() < rate:
            return hostile_value(rng)
        return [hostile_value(rng) if rng.random() < rate else mutate(v, rng, rate, depth + 1)
                for v in value]
    return value


def encode(doc) -> bytes:
    """``doc`` as JSON text, the placeholder strings replaced by what ``json`` cannot
    write itself (3,000-deep lists, 5,000-digit integers, NaN/Infinity literals)."""
    text = json.dumps(doc)
    for key, raw in _RAW.items():
        text = text.replace(json.dumps(key), raw)
    return text.encode()


def hostile_record(rng, rate: float):
    """``(case, kind, plugin_content bytes, tensor)`` for one hostile record."""
    tf = _tf()
    names, weights = zip(*CASES.items())
    case = rng.choice(names, p=np.asarray(weights) / sum(weights))
    kind = str(rng.choice(KINDS))
    doc = dict(template(kind, rng), kind=kind, version=1)
    content = json.dumps({"kind": kind, "version": 1}).encode()
    if case == "mutated":
        doc = mutate(doc, rng, rate)
    elif case == "wrong_kind":
        other = str(rng.choice([k for k in KINDS if k != kind]))
        doc = dict(template(other, rng), kind=str(rng.choice([kind, other])), version=1)
    elif case in ("deep", "huge_int", "nan_literals"):
        field = str(rng.choice(sorted(doc)))
        doc[field] = {"deep": _DEEP, "huge_int": _HUGE}.get(case) or str(rng.choice(_NAN))
    elif case == "not_an_object":
        doc = [None, "x", 3, [], {"kind": kind}][int(rng.integers(5))]
    elif case == "random_content":
        content = rng.bytes(int(rng.integers(0, 64)))
    payload = rng.bytes(int(rng.integers(0, 256))) if case == "random_bytes" else encode(doc)
    if case == "odd_tensor":
        tensor = [tf.constant(payload), tf.constant([payload, payload]),
                  tf.constant([1.0, 2.0]), tf.constant([[payload]])][int(rng.integers(4))]
    else:
        tensor = tf.constant([payload])
    return str(case), kind, content, tensor


def hostile_run(run_dir, rng, n: int) -> list[str]:
    """Write ``n`` hostile records into ``run_dir`` (tags by kind, steps 0–7, so a
    run's rules see several kinds at once and training tags get a history); return
    the case of each."""
    tf = _tf()
    from tensorboard.compat.proto import summary_pb2

    rate = float(rng.uniform(0.05, 0.5))
    cases = []
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        for i in range(n):
            case, kind, content, tensor = hostile_record(rng, rate)
            cases.append(case)
            md = summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="nndebug",
                                                                   content=content),
                data_class=summary_pb2.DATA_CLASS_TENSOR)
            # a tag's first metadata wins: odd plugin content needs a tag of its own
            tag = kind if rng.random() < 0.7 and case != "random_content" else f"{kind}_{i}"
            tf.summary.write(tag, tensor, step=int(rng.integers(0, 8)), metadata=md)
    writer.close()
    return cases

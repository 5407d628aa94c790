"""A field of the wrong type is read as absent: every rule gives the findings it gives
without the field, and none fails (cases the records fuzz test found, issue #15)."""
from __future__ import annotations

import copy

import pytest

from tb_nndebug.diagnosis import diagnose


def entry(value, tag, step=0):
    return {"tag": tag, "step": step, "value": value}


def records():
    """A small run: checks, a dataset with CSG, a balance record and three epochs."""
    k = 3
    overlap = [[0.0 if i == j else 0.3 + 0.1 * (i + j) for j in range(k)] for i in range(k)]
    checks = {"optimizer": "Adam", "learning_rate": 0.001,
              "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
              "output_activation": "softmax", "n_outputs": k, "label_range": [0, 2],
              "linear_hidden_layers": ["dense"], "initial_loss": 1.1,
              "targets": {"kind": "integer", "integer_valued": True, "min": 0, "max": 2}}
    dataset = {"name": "train", "n_classes": k, "classes": ["a", "b", "c"],
               "complexity": {"expected_bits": 50, "max_bits": 400},
               "csg": {"score": 1.2, "overlap": overlap},
               "balance": {"counts": {"a": 500, "b": 480, "c": 20},
                           "proportions": {"a": 0.5, "b": 0.48, "c": 0.02},
                           "imbalance_ratio": 25.0, "rare_classes": ["c"]}}
    balance = dict(dataset["balance"], name="y", stage=None)
    history = {"loss": [1.1, 1.0, 0.9], "accuracy": [0.4, 0.5, 0.6]}
    training = [{"epoch": e, "epochs_planned": 3, "learning_rate": 0.001,
                 "history": {k: v[:e + 1] for k, v in history.items()},
                 "grad_norms": [{"layer": "dense", "norm": 1e-6}, {"layer": "out", "norm": 1.0}],
                 "dead_units": [{"layer": "dense", "fraction": 0.9, "units": 16}],
                 "weight_update_ratio": 0.01} for e in range(3)]
    last = entry(training[-1], "training", 2)
    last["history"] = [{"step": e, "value": d} for e, d in enumerate(training)]
    return {"checks": [entry(checks, "checks")], "dataset": [entry(dataset, "train")],
            "balance": [entry(balance, "y")], "training": [last]}


def _set(recs, path, value):
    """``recs`` with ``path`` (kind, then keys) set to ``value`` (deleted for ``...``),
    in the latest entry and every history entry of the kind."""
    out = copy.deepcopy(recs)
    kind, *keys = path
    e = out[kind][0]
    for doc in [e["value"]] + [h["value"] for h in e.get("history", [])]:
        for key in keys[:-1]:
            doc = doc[key]
        if value is ...:
            doc.pop(keys[-1], None)
        else:
            doc[keys[-1]] = value
    return out


def _outcome(recs):
    findings = diagnose(recs)
    failed = [f.title for f in findings if f.title.startswith("Rule ")]
    return failed, sorted((f.id, f.severity) for f in findings)


FIELDS = [
    ("training", "grad_norms"), ("training", "dead_units"), ("training", "history", "loss"),
    ("checks", "linear_hidden_layers"), ("balance", "rare_classes"),
    ("dataset", "balance", "rare_classes"), ("dataset", "classes"),
    ("dataset", "csg", "overlap"),
]
WRONG = [3.5, 7, True, {"0": {"1": 0.5}, "1": {"0": 0.5}}, "text"]


@pytest.mark.parametrize("path", FIELDS, ids=".".join)
@pytest.mark.parametrize("value", WRONG, ids=repr)
def test_a_wrong_typed_field_reads_as_absent(path, value):
    absent = _outcome(_set(records(), path, ...))
    assert absent[0] == []
    assert _outcome(_set(records(), path, value)) == absent


def test_a_loss_history_holding_text_or_objects_reads_as_absent():
    for bad in (["x", 1.0, 0.9], [{"v": 1}, 1.0, 0.9]):
        assert _outcome(_set(records(), ("training", "history", "loss"), bad)) == _outcome(
            _set(records(), ("training", "history", "loss"), ...))


def test_fractional_labels_without_their_range_still_give_the_error():
    recs = _set(records(), ("checks", "targets"), {"kind": "float", "integer_valued": False})
    recs = _set(recs, ("checks", "label_range"), None)
    failed, found = _outcome(recs)
    assert failed == []
    assert ("data.labels_not_labels", "error") in found


def test_the_base_records_fire_what_the_wrong_types_are_tried_against():
    _, found = _outcome(records())
    ids = {i for i, _ in found}
    assert {"training.vanishing_gradients", "training.dead_units", "model.linear_hidden",
            "balance.rare_class", "csg.high_overlap"} <= ids

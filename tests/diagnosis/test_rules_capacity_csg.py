"""Capacity and CSG verdicts tempered by the run (issue #13, defects 5 and 6): pure records."""
from __future__ import annotations

import json

from tb_nndebug.diagnosis import diagnose


def entry(value, tag, step=0):
    return {"tag": tag, "step": step, "value": value}


def dataset(expected, max_bits, *, k=10, csg=None, csg_error=None, input_shape=None, dim=None):
    props = {str(i): 1.0 / k for i in range(k)}
    return entry({"name": "train", "n_classes": k, "classes": list(props),
                  "input_shape": input_shape, "dim": dim,
                  "complexity": {"expected_bits": expected, "max_bits": max_bits},
                  "balance": {"counts": {c: 100 for c in props}, "proportions": props,
                              "imbalance_ratio": 1.0, "rare_classes": []},
                  "csg": csg, "csg_error": csg_error}, "train")


def model(bits, kinds=("Dense",)):
    return entry({"bits": bits, "n_outputs": 10, "output_activation": "softmax",
                  "layers": [{"name": k.lower(), "kind": k} for k in kinds]}, "model")


def training(acc, val_acc=None, *, loss=None, val_loss=None, planned=None):
    n = len(acc)
    hist = {"loss": loss or [1.0 / (i + 1) for i in range(n)], "accuracy": acc}
    if val_acc is not None:
        hist["val_accuracy"] = val_acc
        hist["val_loss"] = val_loss or [1.1 / (i + 1) for i in range(n)]
    return entry({"epoch": n - 1, "epochs_planned": planned or n, "history": hist},
                 "training", step=n - 1)


def find(findings, fid):
    return [f for f in findings if f.id == fid]


def one(findings, fid):
    (f,) = find(findings, fid)
    return f


MNIST = dict(expected=12544, max_bits=50_000_000, input_shape=[28, 28, 1], dim=784)
CONVNET = ("Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense")


# ------------------------------------------------------------------ capacity.too_small
def test_too_small_is_withdrawn_to_info_when_the_network_fits_its_training_set():
    # mnist_convnet: 7,328 bits against 12,544 expected, 96 % training accuracy
    recs = {"dataset": [dataset(**MNIST)], "model": [model(7328, CONVNET)],
            "training": [training([0.88, 0.94, 0.96], [0.95, 0.97, 0.98])]}
    f = one(diagnose(recs), "capacity.too_small")
    assert f.severity == "info"
    assert "96.0%" in f.evidence["tempered_by"] and "fits its training set" in f.title
    assert f.evidence["run"]["best_train_accuracy"] == 0.96
    assert [x.id for x in diagnose(recs) if x.severity in ("warning", "error")] == []
    json.dumps(f.evidence)


def test_too_small_is_a_warning_when_the_run_confirms_it():
    recs = {"dataset": [dataset(**MNIST)], "model": [model(66, ["Dense"])],
            "training": [training([0.12, 0.15, 0.155, 0.155, 0.156],
                                  loss=[2.3, 2.25, 2.24, 2.24, 2.239])]}
    f = one(diagnose(recs), "capacity.too_small")
    # the same accuracies while the loss still falls steeply: not converged, not confirmed
    near = [model(7328, ["Dense"])]
    flat = dict(recs, model=near)
    assert one(diagnose(flat), "capacity.too_small").severity == "warning"
    falling = dict(flat, training=[training([0.12, 0.15, 0.155, 0.155, 0.156])])
    assert one(diagnose(falling), "capacity.too_small").severity == "info"
    assert f.severity == "warning" and "15.6%" in f.evidence["confirmed_by"]
    assert "Grow to at least 12,544 bits" in f.advice
    under = one(diagnose(recs), "training.underfitting")
    assert under.evidence["likely_cause"] == "capacity.too_small"


def test_too_small_before_any_run_evidence_is_a_warning_only_when_far_short():
    near = {"dataset": [dataset(**MNIST)], "model": [model(7328, CONVNET)]}
    f = one(diagnose(near), "capacity.too_small")
    assert f.severity == "info" and f.evidence["estimate_only"]
    far = {"dataset": [dataset(**MNIST)], "model": [model(1000, CONVNET)]}
    assert one(diagnose(far), "capacity.too_small").severity == "warning"
    # early epochs are no evidence either way: the estimate alone decides
    early = dict(near, training=[training([0.5], planned=10)])
    assert one(diagnose(early), "capacity.too_small").severity == "info"
    # nor is an accuracy still rising at the end of a short fit (90 % after 3 epochs)
    rising = dict(near, training=[training([0.80, 0.88, 0.90])])
    g = one(diagnose(rising), "capacity.too_small")
    assert g.severity == "info" and g.evidence["run"]["plateau"] is False


def test_too_small_on_token_ids_is_info_and_never_advises_an_mlp():
    text = ("Embedding", "GlobalAveragePooling1D", "Dense")
    recs = {"dataset": [dataset(2800, 2_500_000, k=2, input_shape=[200], dim=200)],
            "model": [model(100, text)]}
    f = one(diagnose(recs), "capacity.too_small")
    assert f.severity == "info" and "token ids" in f.evidence["not_confirmed"]
    assert "tb_nndebug.models.mlp" not in f.advice and "embedding size" in f.advice


def test_too_small_stays_silent_when_the_capacity_matches():
    recs = {"dataset": [dataset(**MNIST)], "model": [model(20000, CONVNET)],
            "training": [training([0.2, 0.3])]}
    assert find(diagnose(recs), "capacity.too_small") == []


# ------------------------------------------------------------------ capacity.oversized
XOR = dict(expected=4, max_bits=8, k=2, input_shape=[2], dim=2)


def test_oversized_at_high_validation_accuracy_without_overfitting_is_info():
    recs = {"dataset": [dataset(**XOR)], "model": [model(12)],
            "training": [training([0.5, 0.75, 1.0, 1.0], [0.5, 0.75, 1.0, 1.0],
                                  loss=[0.7, 0.5, 0.2, 0.1], val_loss=[0.7, 0.5, 0.25, 0.12])]}
    f = one(diagnose(recs), "capacity.oversized")
    assert f.severity == "info" and "100.0%" in f.evidence["tempered_by"]
    assert "generalises" in f.title


def test_oversized_is_a_warning_when_the_run_overfits():
    recs = {"dataset": [dataset(**XOR)], "model": [model(12)],
            "training": [training([0.6, 0.8, 0.95, 1.0, 1.0, 1.0], [0.6, 0.7, 0.75, 0.7, 0.7, 0.7],
                                  loss=[0.7, 0.5, 0.2, 0.1, 0.05, 0.02],
                                  val_loss=[0.7, 0.5, 0.45, 0.5, 0.6, 0.7])]}
    f = diagnose(recs)
    over = one(f, "capacity.oversized")
    assert over.severity == "warning" and "training.overfitting" in over.evidence["confirmed_by"]
    assert one(f, "training.overfitting").evidence["likely_cause"] == "capacity.oversized"


def test_oversized_before_any_run_evidence_is_info():
    recs = {"dataset": [dataset(**XOR)], "model": [model(12)]}
    f = one(diagnose(recs), "capacity.oversized")
    assert f.severity == "info" and f.evidence["estimate_only"]
    assert "tb_nndebug.models.mlp((2,), 2, target_bits=4)" in f.advice


def test_oversized_advice_fits_the_input_family():
    lstm = {"dataset": [dataset(100, 200, k=2, input_shape=[20, 8], dim=160)],
            "model": [model(5000, ("LSTM", "Dense"))]}
    f = one(diagnose(lstm), "capacity.oversized")
    assert "tb_nndebug.models.mlp" not in f.advice and "recurrent units" in f.advice
    img = {"dataset": [dataset(100, 200, input_shape=[32, 32, 3], dim=3072)],
           "model": [model(9000, ("Conv2D", "Dense"))]}
    assert "alexnet_like((32, 32, 3), 10" in one(diagnose(img), "capacity.oversized").advice


def test_oversized_stays_silent_when_the_capacity_matches():
    assert find(diagnose({"dataset": [dataset(**XOR)], "model": [model(6)]}),
                "capacity.oversized") == []


# ------------------------------------------------------------------ csg.not_measured
REASON = "inputs are token ids feeding an Embedding: distances between ids mean nothing"


def test_a_skipped_csg_is_an_info_naming_the_reason():
    recs = {"dataset": [dataset(10, 20, k=2, csg_error=f"skipped: {REASON}")]}
    f = one(diagnose(recs), "csg.not_measured")
    assert f.severity == "info" and f.panel == "csg" and f.evidence["reason"] == REASON
    assert REASON in f.title and "not measured" in f.title


def test_an_undefined_csg_is_an_info_with_the_dropped_points():
    csg = {"score": None, "embedding": "raw", "dropped_points": 495, "n_sampled": 497}
    recs = {"dataset": [dataset(10, 20, k=2, csg=csg,
                                csg_error="undefined: every Parzen volume overflowed")]}
    f = one(diagnose(recs), "csg.not_measured")
    assert f.severity == "info" and "undefined" in f.title
    assert f.evidence["dropped_points"] == 495


def test_csg_not_measured_stays_silent_when_measured_or_turned_off():
    measured = {"dataset": [dataset(10, 20, k=2, csg={"score": 0.01})]}
    off = {"dataset": [dataset(10, 20, k=2)]}
    assert find(diagnose(measured), "csg.not_measured") == []
    assert find(diagnose(off), "csg.not_measured") == []


# ------------------------------------------------------------------ csg.high_overlap
def test_high_overlap_warning_is_refuted_by_a_high_validation_accuracy():
    csg = {"score": 0.91, "embedding": "raw", "dropped_points": 0, "n_sampled": 500}
    recs = {"dataset": [dataset(10, 20, k=2, csg=csg)],
            "training": [training([0.9, 1.0, 1.0], [0.95, 1.0, 1.0])]}
    f = one(diagnose(recs), "csg.high_overlap")
    assert f.severity == "info" and f.evidence["accuracy_of"] == "validation"
    assert "100.0%" in f.evidence["tempered_by"]
    low = dict(recs, training=[training([0.55, 0.6, 0.62], [0.5, 0.52, 0.51])])
    assert one(diagnose(low), "csg.high_overlap").severity == "warning"


def test_high_overlap_on_mostly_dropped_points_is_info_and_says_so():
    csg = {"score": 0.91, "embedding": "raw", "dropped_points": 319, "n_sampled": 500}
    f = one(diagnose({"dataset": [dataset(10, 20, k=2, csg=csg)]}), "csg.high_overlap")
    assert f.severity == "info"
    assert f.evidence["dropped_points"] == 319 and "319 of 500" in f.evidence["tempered_by"]
    few = dict(csg, dropped_points=3)
    g = one(diagnose({"dataset": [dataset(10, 20, k=2, csg=few)]}), "csg.high_overlap")
    assert g.severity == "warning" and g.evidence["dropped_points"] == 3


def test_high_overlap_stays_silent_on_separable_classes():
    recs = {"dataset": [dataset(10, 20, k=2, csg={"score": 0.01, "dropped_points": 0,
                                                  "n_sampled": 500})]}
    assert find(diagnose(recs), "csg.high_overlap") == []

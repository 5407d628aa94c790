"""Each diagnosis rule on hand-made records (pure: no TensorFlow, no files)."""
from __future__ import annotations

import json
import math

import pytest

from tb_nndebug import diagnosis
from tb_nndebug.diagnosis import (
    CAUSES,
    RULE_ORDER,
    THRESHOLDS,
    Finding,
    count_by_severity,
    diagnose,
    worst_severity,
)


def entry(value, tag=None, step=0):
    return {"tag": tag or value.get("kind", "x"), "step": step, "value": value}


def dataset(expected=576, max_bits=17226, *, props=None, stats=None, csg=None, k=10, tag="train"):
    props = props or {str(i): 1.0 / k for i in range(k)}
    counts = {c: int(p * 1000) for c, p in props.items()}
    vals = list(counts.values())
    return entry({"name": tag, "n_classes": len(props), "classes": list(props),
                  "complexity": {"expected_bits": expected, "max_bits": max_bits},
                  "balance": {"counts": counts, "proportions": props,
                              "imbalance_ratio": max(vals) / min(vals),
                              "rare_classes": [c for c, p in props.items() if p < 0.05]},
                  "input_stats": stats or {"min": 0.0, "max": 1.0, "mean": 0.3, "std": 0.3},
                  "csg": csg}, tag=tag)


def model(bits, n_outputs=10, act="softmax"):
    return entry({"bits": bits, "n_outputs": n_outputs, "output_activation": act}, tag="model")


def checks(**kw):
    doc = {"optimizer": "Adam", "learning_rate": 1e-3,
           "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
           "output_activation": "softmax", "n_outputs": 10, "label_range": [0, 9],
           "input_range": [0.0, 1.0], "input_mean": 0.3, "input_std": 0.3,
           "inference_deterministic": True, "inference_max_diff": 0.0, "initial_loss": 2.3,
           "epochs_planned": 10, "train_data_given": True}
    doc.update(kw)
    return entry(doc, tag="checks")


def training(loss, val_loss=None, acc=None, val_acc=None, *, grads=None, dead=None, **kw):
    hist = {"loss": loss}
    if val_loss is not None:
        hist["val_loss"] = val_loss
    if acc is not None:
        hist["accuracy"] = acc
    if val_acc is not None:
        hist["val_accuracy"] = val_acc
    doc = {"epoch": len(loss) - 1, "epochs_planned": len(loss), "history": hist,
           "learning_rate": 1e-3, "grad_norms": grads, "dead_units": dead}
    doc.update(kw)
    return entry(doc, tag="training", step=len(loss) - 1)


def ids(findings, severities=("error", "warning")):
    return [f.id for f in findings if f.severity in severities]


def by_id(findings, fid):
    return next(f for f in findings if f.id == fid)


HEALTHY_LOSS = [1.9, 1.1, 0.6, 0.4, 0.3, 0.24, 0.2]
HEALTHY_VAL = [1.5, 0.8, 0.5, 0.37, 0.3, 0.25, 0.22]
HEALTHY_ACC = [0.4, 0.8, 0.88, 0.92, 0.94, 0.95, 0.96]
HEALTHY_VACC = [0.5, 0.8, 0.87, 0.9, 0.92, 0.93, 0.94]


def healthy(**over):
    rec = {"dataset": [dataset()], "model": [model(2112)], "checks": [checks()],
           "training": [training(HEALTHY_LOSS, HEALTHY_VAL, HEALTHY_ACC, HEALTHY_VACC,
                                 grads=[{"layer": "d0", "norm": 0.1},
                                        {"layer": "d1", "norm": 0.09}],
                                 dead=[{"layer": "d0", "fraction": 0.1, "units": 32}],
                                 weight_update_ratio=0.03, probe_loss=0.2,
                                 probe_loss_finite=True)]}
    rec.update(over)
    return rec


def test_healthy_run_has_no_error_or_warning_and_a_matched_capacity():
    f = diagnose(healthy())
    assert ids(f) == []
    assert by_id(f, "capacity.matched").severity == "ok"


def test_capacity_verdicts_follow_expected_and_max_bits():
    # before any run evidence, just under the requirement is info; far under it a warning
    assert by_id(diagnose({"dataset": [dataset(576, 17226)], "model": [model(575)]}),
                 "capacity.too_small").severity == "info"
    assert by_id(diagnose({"dataset": [dataset(576, 17226)], "model": [model(100)]}),
                 "capacity.too_small").severity == "warning"
    assert by_id(diagnose({"dataset": [dataset(576, 17226)], "model": [model(576)]}),
                 "capacity.matched").severity == "ok"
    f = by_id(diagnose({"dataset": [dataset(576, 17226)], "model": [model(68608)]}),
              "capacity.oversized")
    assert f.evidence["memorise_ratio"] == pytest.approx(68608 / 17226)
    assert f.severity == "info"  # no sign of overfitting yet: the estimate alone
    assert "shrink to about 576 bits" in f.advice
    assert "tb_nndebug.models.mlp(input_shape, n_classes, target_bits=576)" in f.advice
    shaped = dataset(576, 17226)
    shaped["value"].update(input_shape=[8, 8], dim=64)
    g = by_id(diagnose({"dataset": [shaped], "model": [model(68608)]}), "capacity.oversized")
    assert "tb_nndebug.models.mlp((64,), 10, target_bits=576)" in g.advice
    shaped["value"].update(input_shape=[32, 32, 3], dim=3072)
    g = by_id(diagnose({"dataset": [shaped], "model": [model(9e6)]}), "capacity.oversized")
    assert "tb_nndebug.models.mlp((32, 32, 3), 10, target_bits=576)" in g.advice
    for kinds, family in [(["Conv2D", "Dense"], "alexnet_like"),
                          (["Add", "Conv2D", "Dense"], "resnet_like")]:
        cnn = model(9e6)
        cnn["value"]["layers"] = [{"name": k.lower(), "kind": k} for k in kinds]
        g = by_id(diagnose({"dataset": [shaped], "model": [cnn]}), "capacity.oversized")
        assert f"tb_nndebug.models.{family}((32, 32, 3), 10, target_bits=576)" in g.advice
    small = by_id(diagnose({"dataset": [dataset(576, 17226)], "model": [model(66)]}),
                  "capacity.too_small")
    assert "Grow to at least 576 bits" in small.advice
    assert small.panel == "capacity"


def test_capacity_needs_both_records_and_says_when_the_dataset_is_missing():
    assert diagnose({"model": [model(10)]}) == []
    f = diagnose({"model": [model(10)], "checks": [checks(train_data_given=False)]})
    assert [x.id for x in f] == ["dataset.not_measured"]
    assert f[0].severity == "info"


def test_capacity_prefers_the_train_tag_over_validation():
    recs = {"dataset": [dataset(5000, 9000, tag="validation"), dataset(576, 17226)],
            "model": [model(2000)]}
    assert by_id(diagnose(recs), "capacity.matched").evidence["dataset"] == "train"


def test_overfitting_with_oversized_capacity_names_the_cause():
    recs = healthy(model=[model(68608)],
                   training=[training([1.7, 0.6, 0.25, 0.1, 0.05, 0.03, 0.02],
                                      [1.0, 0.45, 0.30, 0.22, 0.26, 0.29, 0.33])])
    f = diagnose(recs)
    assert ids(f)[:2] == ["capacity.oversized", "training.overfitting"]
    over = by_id(f, "training.overfitting")
    assert over.evidence["likely_cause"] == "capacity.oversized"
    assert over.evidence["target_bits"] == 576
    assert over.advice.startswith("Likely cause: Model can memorise")
    assert "Shrink to about 576 bits" in over.advice
    assert over.evidence["best_epoch"] == 3


def test_overfitting_without_a_capacity_record_advises_early_stopping():
    recs = {"training": [training([1.7, 0.6, 0.25, 0.1, 0.05, 0.03],
                                  [1.0, 0.45, 0.30, 0.33, 0.36, 0.40])]}
    f = by_id(diagnose(recs), "training.overfitting")
    assert "likely_cause" not in f.evidence
    assert "EarlyStopping" in f.advice


def test_overfitting_on_a_huge_gap_after_val_loss_stalls():
    loss = [1.7, 0.6, 0.2, 0.05, 0.01, 0.005, 0.003]
    val = [1.0, 0.45, 0.30, 0.20, 0.21, 0.205, 0.205]
    assert "training.overfitting" in ids(diagnose({"training": [training(loss, val)]}))
    # the same gap while val loss still improves is not overfitting (yet)
    val2 = [1.0, 0.45, 0.30, 0.25, 0.22, 0.21, 0.20]
    assert "training.overfitting" not in ids(diagnose({"training": [training(loss, val2)]}))


def test_underfitting_with_too_small_model_advises_growing():
    recs = healthy(model=[model(66)],
                   training=[training([2.3, 2.29, 2.28, 2.28], acc=[0.1, 0.11, 0.12, 0.12])])
    f = diagnose(recs)
    under = by_id(f, "training.underfitting")
    assert under.evidence["likely_cause"] == "capacity.too_small"
    assert "Grow to at least 576 bits" in under.advice
    assert ids(f)[0] == "capacity.too_small"


def test_underfitting_chance_level_is_the_majority_share():
    props = {"0": 0.95, "1": 0.05}
    recs = {"dataset": [dataset(props=props, k=2)],
            "training": [training([0.3, 0.2, 0.2], acc=[0.95, 0.95, 0.951])]}
    f = diagnose(recs)
    assert by_id(f, "training.underfitting").evidence["chance"] == pytest.approx(0.95)
    assert ids(f)[0] == "balance.imbalanced"
    assert by_id(f, "training.underfitting").evidence["likely_cause"] == "balance.imbalanced"


def test_lr_too_high_on_nan_divergence_and_oscillation():
    nan = diagnose({"training": [training([2.0, None, None])]})
    assert by_id(nan, "training.lr_too_high").severity == "error"
    assert by_id(nan, "training.lr_too_high").evidence["nonfinite_epochs"] == [1, 2]
    probe = diagnose({"training": [training([2.0, 1.9], probe_loss_finite=False)]})
    assert by_id(probe, "training.lr_too_high").severity == "error"
    div = diagnose({"checks": [checks(initial_loss=2.3)],
                    "training": [training([729.0, 13.9, 13.5])]})
    assert "diverging" in by_id(div, "training.lr_too_high").title
    osc = diagnose({"training": [training([1.0, 1.3, 0.9, 1.2, 0.8, 1.1])]})
    f = by_id(osc, "training.lr_too_high")
    assert f.severity == "warning" and f.evidence["rises"] == 3


def test_lr_too_low_when_the_loss_barely_moves_early():
    f = diagnose({"checks": [checks(initial_loss=2.371)],
                  "training": [training([2.368] * 5)]})
    assert ids(f) == ["training.lr_too_low"]
    assert by_id(f, "training.lr_too_low").evidence["progress"] < 0.01
    # a converged run late in training is not "too low": only the first epochs count
    late = [2.0, 1.0, 0.5] + [0.2] * 10
    assert "training.lr_too_low" not in ids(diagnose({"training": [training(late)]}))
    # a model that is already good (fine-tuning, resumed training) may barely move
    good = diagnose({"checks": [checks(initial_loss=0.1)],
                     "training": [training([0.099] * 5, acc=[0.97] * 5)]})
    assert "training.lr_too_low" not in ids(good)
    tiny = diagnose({"checks": [checks(learning_rate=1e-9)]})
    assert ids(tiny) == ["training.lr_too_low"]


def test_lr_too_low_stays_silent_on_a_loss_that_rises():
    # 8.7 % up in small steps: below the divergence ratio and no swings, but it moved
    rising = diagnose({"checks": [checks(initial_loss=2.3)],
                       "training": [training([2.35, 2.40, 2.45, 2.48, 2.50])]})
    assert "training.lr_too_low" not in ids(rising)


def test_dropout_at_inference_from_a_non_deterministic_check():
    f = diagnose({"checks": [checks(inference_deterministic=False, inference_max_diff=0.4,
                                    stochastic_layers=["always_dropout"])]})
    assert ids(f) == ["training.dropout_at_inference"]
    # a warning: deliberate Monte-Carlo dropout is stochastic at inference too
    assert f[0].severity == "warning" and f[0].panel == "checks"


@pytest.mark.parametrize("act,from_logits,fires", [
    ("softmax", True, True), ("sigmoid", True, True), ("linear", False, True),
    ("softmax", False, False), ("linear", True, False)])
def test_logits_mismatch(act, from_logits, fires):
    loss = {"name": "sparse_categorical_crossentropy", "from_logits": from_logits}
    f = diagnose({"checks": [checks(output_activation=act, loss=loss)]})
    assert ("training.logits_mismatch" in ids(f)) is fires


def test_labels_out_of_range_for_sparse_and_binary_losses():
    f = diagnose({"checks": [checks(label_range=[1, 10])]})
    assert ids(f) == ["training.labels_out_of_range"]
    b = diagnose({"checks": [checks(label_range=[0, 3], n_outputs=1, output_activation="sigmoid",
                                    loss={"name": "binary_crossentropy",
                                          "from_logits": False})]})
    assert ids(b) == ["training.labels_out_of_range"]
    assert ids(diagnose({"checks": [checks(label_range=[0, 9])]})) == []


def test_linear_hidden_layers_and_high_dropout_rates():
    f = diagnose({"checks": [checks(linear_hidden_layers=["dense", "dense_1"],
                                    dropout_rates={"dropout": 0.8, "dropout_1": 0.3})]})
    assert ids(f) == ["model.linear_hidden", "training.dropout_rate_high"]
    assert by_id(f, "training.dropout_rate_high").evidence["dropout_rates"] == {"dropout": 0.8}
    assert ids(diagnose({"checks": [checks(dropout_rates={"d": 0.5})]})) == []


def test_not_normalized_pixels_but_standardised_data_passes():
    f = diagnose({"checks": [checks(input_range=[0.0, 255.0], input_mean=33.0, input_std=78.0)]})
    assert ids(f) == ["data.not_normalized"]
    z = diagnose({"checks": [checks(input_range=[-30.0, 40.0], input_mean=0.0, input_std=1.0)]})
    assert ids(z) == []
    # from the dataset record when there is no checks record
    d = diagnose({"dataset": [dataset(stats={"min": 0, "max": 16, "mean": 4.9, "std": 6.0})]})
    assert "data.not_normalized" in ids(d)


def test_not_normalized_is_ranked_above_the_instability_it_causes():
    recs = {"checks": [checks(input_range=[0.0, 255.0], input_mean=33.0, input_std=78.0,
                              initial_loss=2.3)],
            "training": [training([500.0, 40.0, 30.0],
                                  grads=[{"layer": "a", "norm": 500.0},
                                         {"layer": "b", "norm": 2.0}])]}
    f = diagnose(recs)
    assert f[0].id == "data.not_normalized" and f[0].severity == "error"
    assert by_id(f, "training.lr_too_high").evidence["likely_cause"] == "data.not_normalized"
    assert by_id(f, "training.exploding_gradients").evidence["likely_cause"] == \
        "data.not_normalized"


def test_vanishing_and_exploding_gradients_from_norm_ratios():
    grads = [{"layer": f"d{i}", "norm": 10.0 ** (i - 7)} for i in range(7)]
    f = diagnose({"training": [training([2.3, 2.3], grads=grads)]})
    assert by_id(f, "training.vanishing_gradients").evidence["ratio"] == pytest.approx(1e-6)
    assert by_id(f, "training.lr_too_low").evidence["likely_cause"] == \
        "training.vanishing_gradients"
    assert ids(f)[0] == "training.vanishing_gradients"
    boom = [{"layer": "a", "norm": 100.0}, {"layer": "b", "norm": 1.0}]
    assert "training.exploding_gradients" in ids(diagnose({"training": [training([1, 0.5],
                                                                                 grads=boom)]}))
    nan = [{"layer": "a", "norm": None}, {"layer": "b", "norm": 1.0}]
    e = by_id(diagnose({"training": [training([1, 0.5], grads=nan)]}),
              "training.exploding_gradients")
    assert e.severity == "error" and e.evidence["nonfinite_layers"] == ["a"]


def test_dead_units_above_half_a_layer():
    dead = [{"layer": "a", "fraction": 0.4, "units": 10},
            {"layer": "b", "fraction": 1.0, "units": 8}]
    f = by_id(diagnose({"training": [training([1, 0.9], dead=dead)]}), "training.dead_units")
    assert [x["layer"] for x in f.evidence["layers"]] == ["b"]
    assert f.panel == "layers"


def test_suspicious_validation_from_epoch_three():
    acc = [0.5, 0.6, 0.7, 0.75]
    val = dataset(tag="validation")
    val["value"]["n_samples"] = 1000
    f = diagnose({"dataset": [dataset(), val],
                  "training": [training([1, 0.8, 0.7, 0.6], acc=acc,
                                        val_acc=[0.5, 0.6, 0.8, 0.85])]})
    assert "training.suspicious_validation" in ids(f)
    # dropout models: not in the first epochs (train accuracy measured with dropout on) ...
    drop = {"dataset": [dataset(), val], "checks": [checks(stochastic_layers=["dropout"])],
            "training": [training([1, 0.8, 0.7, 0.6], acc=acc, val_acc=[0.5, 0.6, 0.8, 0.85])]}
    assert "training.suspicious_validation" not in ids(diagnose(drop), ("error", "warning", "info"))
    # ... and info later
    drop["training"] = [training([1, 0.8, 0.7, 0.6, 0.5], acc=acc + [0.78],
                                 val_acc=[0.5, 0.6, 0.8, 0.85, 0.88])]
    assert by_id(diagnose(drop), "training.suspicious_validation").severity == "info"
    early = diagnose({"training": [training([1, 0.8], acc=[0.5, 0.6], val_acc=[0.7, 0.8])]})
    assert "training.suspicious_validation" not in ids(early)


def test_balance_imbalanced_and_rare_class():
    props = {"a": 0.9, "b": 0.07, "c": 0.03}
    f = diagnose({"dataset": [dataset(props=props, k=3)]})
    assert ids(f) == ["balance.imbalanced", "balance.rare_class"]
    assert by_id(f, "balance.rare_class").evidence["rare_classes"] == ["c"]
    assert ids(diagnose({"dataset": [dataset()]})) == []


def test_balance_after_resampling_is_what_counts():
    before = entry({"imbalance_ratio": 19.0, "counts": {"0": 950, "1": 50}, "stage": "before",
                    "proportions": {"0": 0.95, "1": 0.05}, "rare_classes": []}, tag="before")
    after = entry({"imbalance_ratio": 1.0, "counts": {"0": 950, "1": 950}, "stage": "after",
                   "proportions": {"0": 0.5, "1": 0.5}, "rare_classes": []}, tag="after")
    assert ids(diagnose({"balance": [before, after]})) == []
    assert ids(diagnose({"balance": [before]})) == []  # "before" alone is just a record
    assert ids(diagnose({"balance": [dict(before, value=dict(before["value"], stage=None))]})) \
        == ["balance.imbalanced"]


def test_csg_overlap_levels_name_the_most_confused_pair():
    overlap = [[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.05, 0.25, 0.7]]
    hi = diagnose({"dataset": [dataset(csg={"score": 1.6, "overlap": overlap}, k=3)]})
    f = by_id(hi, "csg.high_overlap")
    assert f.severity == "warning" and f.evidence["most_confused"] == ["2", "1"]
    for score in (0.2, 1.0):  # 1.0 of 2 = CIFAR-10's raw-pixel level: hard, not broken
        mid = by_id(diagnose({"dataset": [dataset(csg={"score": score}, k=3)]}),
                    "csg.high_overlap")
        assert mid.severity == "info"
    assert diagnose({"dataset": [dataset(csg={"score": 0.05}, k=3)]}) == []


def test_robustness_and_resampling_findings():
    rob = entry({"median_eps": 0.004, "median_pixels": 3, "clean_accuracy": 0.9, "n": 100},
                tag="robustness")
    f = diagnose({"robustness": [rob]})
    assert [x.id for x in f] == ["robustness.fragile"]
    ok = entry({"median_eps": 0.08, "median_pixels": 40}, tag="robustness")
    assert [(x.id, x.severity) for x in diagnose({"robustness": [ok]})] == [
        ("robustness.summary", "info")]
    res = entry({"method": "smote", "expected_bits_before": 300, "expected_bits_after": 210},
                tag="resampling")
    r = diagnose({"resampling": [res]})
    assert r[0].id == "resampling.applied" and "300 → 210" in r[0].title


def test_diagnostic_errors_and_unreadable_records_become_warnings():
    err = entry({"diagnostic": "dead_units", "error": "ValueError: x", "epoch": 2,
                 "errors": [{"diagnostic": "dead_units", "error": "ValueError: x"},
                            {"diagnostic": "gradients", "error": "RuntimeError: y"}]},
                tag="diagnostic_error", step=2)
    f = diagnose({"diagnostic_error": [err],
                  "_errors": [{"tag": "t", "kind": "model", "step": 3, "error": "too new"}]})
    assert [x.id for x in f] == ["diagnostic.failed", "diagnostic.failed", "record.unsupported"]
    assert f[1].evidence["diagnostic"] == "gradients"
    assert f[2].evidence["kind"] == "model"


@pytest.mark.parametrize("records", [
    {}, {"training": None}, {"training": "nope"}, {"training": [{"value": 3}]},
    {"training": [entry({"history": {"loss": "abc", "accuracy": [None, "x"]},
                         "grad_norms": [{"norm": "big"}, 5], "dead_units": {"a": 1}})]},
    {"dataset": [entry({"complexity": [], "balance": {"proportions": {"a": "x"}},
                        "csg": {"score": "high"}, "n_classes": None})], "model": [model("x")]},
    {"checks": [entry({"label_range": ["a"], "loss": "mse", "input_range": [None, 300]})]},
    {"_errors": "bad", "robustness": [entry({"median_eps": float("nan")})]},
])
def test_odd_records_never_raise(records):
    findings = diagnose(records)
    json.dumps([f.to_dict() for f in findings], allow_nan=False)


def test_thresholds_override_and_validation():
    props = {"0": 0.85, "1": 0.15}
    recs = {"dataset": [dataset(props=props, k=2)]}
    assert ids(diagnose(recs)) == []
    assert ids(diagnose(recs, thresholds={"balance.imbalance_ratio": 5})) == [
        "balance.imbalanced"]
    with pytest.raises(ValueError, match="unknown name 'balance.ratio'"):
        diagnose(recs, thresholds={"balance.ratio": 5})
    with pytest.raises(TypeError, match="thresholds\\['balance.imbalance_ratio'\\]"):
        diagnose(recs, thresholds={"balance.imbalance_ratio": "5"})
    with pytest.raises(TypeError, match="records must be a mapping"):
        diagnose([1, 2])


def test_every_threshold_has_a_source_and_every_cause_ranks_above_its_symptom():
    for name, (value, source) in THRESHOLDS.items():
        assert isinstance(value, (int, float)) and math.isfinite(value), name
        assert isinstance(source, str) and len(source) > 10, name
    for symptom, causes in CAUSES.items():
        for c in causes:
            assert RULE_ORDER.index(c) < RULE_ORDER.index(symptom)


def test_finding_helpers_and_validation():
    f = [Finding("a", "warning", "t"), Finding("b", "error", "t"), Finding("c", "ok", "t")]
    assert count_by_severity(f) == {"error": 1, "warning": 1, "info": 0, "ok": 1}
    assert worst_severity(f) == "error" and worst_severity([]) is None
    assert f[0].to_dict()["panel"] == "checks"
    assert f[1].line().startswith("ERROR")
    with pytest.raises(ValueError, match="severity"):
        Finding("a", "fatal", "t")
    with pytest.raises(ValueError, match="panel"):
        Finding("a", "info", "t", panel="nowhere")
    assert diagnosis.SEVERITIES == ("error", "warning", "info", "ok")

"""Rules about what the model is fed and what could not be measured (pure records)."""
from __future__ import annotations

from tb_nndebug.diagnosis import diagnose


def _checks(**kw):
    doc = {"optimizer": "Adam", "learning_rate": 1e-3,
           "loss": {"name": "sparse_categorical_crossentropy", "from_logits": False},
           "output_activation": "softmax", "n_outputs": 10, "label_range": [0, 9],
           "input_range": [0.0, 255.0], "input_mean": 120.0, "input_std": 80.0,
           "initial_loss": 2.3, "train_data_given": True}
    doc.update(kw)
    return {"checks": [{"tag": "checks", "step": 0, "value": doc}]}


def _ids(findings, severities=("error", "warning")):
    return [f.id for f in findings if f.severity in severities]


def test_not_normalized_fires_on_what_reaches_the_first_weighted_layer():
    f = diagnose(_checks(input_source="first weighted layer: conv2d"))
    (nn,) = [x for x in f if x.id == "data.not_normalized"]
    assert nn.evidence["source"] == "first weighted layer: conv2d"
    assert "pixels / 255" in nn.advice


def test_not_normalized_stays_silent_on_token_ids_and_in_model_preprocessing():
    """Token ids feeding an Embedding and a model that starts with Rescaling are not raw
    pixels, even though the raw input spans 0..19999 or 0..255."""
    dataset = {"dataset": [{"tag": "train", "step": 0, "value": {
        "name": "train", "input_stats": {"min": 0, "max": 19999, "mean": 900, "std": 3000}}}]}
    ids = dict(_checks(input_kind="index", input_range=None), **dataset)
    assert "data.not_normalized" not in _ids(diagnose(ids))
    pre = _checks(input_source="raw input", input_preprocessing=["rescaling"])
    assert "data.not_normalized" not in _ids(diagnose(pre))
    tapped_scaled = _checks(input_source="first weighted layer: conv2d", input_range=[0, 1],
                            input_mean=0.4, input_std=0.3)
    assert "data.not_normalized" not in _ids(diagnose(tapped_scaled))


def test_diagnostic_skipped_says_once_what_cannot_be_measured():
    recs = _checks(input_range=[0, 1], input_mean=0.4, input_std=0.3, skipped=[
        {"what": "gradients", "reason": "the model is compiled without a loss"},
        {"what": "dataset inputs", "reason": "input 'city' holds strings"}])
    skipped = [x for x in diagnose(recs) if x.id == "diagnostic.skipped"]
    assert [x.severity for x in skipped] == ["info", "info"]
    assert "compiled without a loss" in skipped[0].title


def test_diagnostic_skipped_stays_silent_when_everything_was_measured():
    recs = _checks(input_range=[0, 1], input_mean=0.4, input_std=0.3, skipped=[])
    assert not [x for x in diagnose(recs) if x.id == "diagnostic.skipped"]


def _training(grads):
    return {"training": [{"tag": "training", "step": 3, "value": {
        "epoch": 3, "history": {"loss": [2.3, 2.2, 2.2, 2.2]}, "grad_norms": grads}}]}


def test_vanishing_gradients_reads_weighted_layers_only_and_not_a_zero_gradient():
    """A first layer with exactly no gradient (all its ReLUs dead) is not a vanishing
    gradient; a BatchNorm's scale is not the first layer of weights."""
    tiny = [{"layer": "bn", "norm": 1e-9, "weighted": False, "variables": 2},
            {"layer": "dense", "norm": 1e-7, "weighted": True, "variables": 2},
            {"layer": "out", "norm": 0.5, "weighted": True, "variables": 2}]
    f = diagnose(_training(tiny))
    assert "training.vanishing_gradients" in _ids(f)
    assert [x for x in f if x.id == "training.vanishing_gradients"][0].evidence["first"] == 1e-7
    zero = [dict(tiny[1], norm=0.0), tiny[2]]
    assert "training.vanishing_gradients" not in _ids(diagnose(_training(zero)))
    unreached = [tiny[0], dict(tiny[1], norm=None), {"layer": "out", "norm": 0.5}]
    assert _ids(diagnose(_training(unreached))) == []


def _imbalanced(**checks_kw):
    recs = _checks(input_range=[0, 1], input_mean=0.4, input_std=0.3, **checks_kw)
    recs["dataset"] = [{"tag": "train", "step": 0, "value": {
        "name": "train", "n_classes": 2, "classes": ["0", "1"],
        "balance": {"counts": {"0": 980, "1": 20}, "proportions": {"0": 0.98, "1": 0.02},
                    "imbalance_ratio": 49.0, "rare_classes": ["1"]},
        "csg": {"score": 0.95}}}]
    return recs


def test_imbalance_warns_when_the_loss_is_not_weighted():
    f = diagnose(_imbalanced())
    assert {"balance.imbalanced", "balance.rare_class"} <= set(_ids(f))


def test_imbalance_is_info_once_the_loss_is_weighted_and_csg_needs_a_big_enough_class():
    """class_weight is the advised fix: the imbalance stays in view as info. A CSG from 20
    samples of a class is noise, so its overlap is at most info."""
    f = diagnose(_imbalanced(sample_weighted=True))
    assert _ids(f) == []
    assert {x.id for x in f if x.severity == "info"} >= {"balance.imbalanced",
                                                         "balance.rare_class",
                                                         "csg.high_overlap"}


def test_logits_mismatch_is_checked_per_output_of_a_multi_output_model():
    heads = [{"output": "digit", "activation": "softmax", "units": 10,
              "loss": {"name": "sparse_categorical_crossentropy", "from_logits": True}},
             {"output": "parity", "activation": "sigmoid", "units": 1,
              "loss": {"name": "binary_crossentropy", "from_logits": False}}]
    recs = _checks(input_range=[0, 1], input_mean=0.4, input_std=0.3, n_outputs=None,
                   loss={"name": "multiple", "from_logits": None}, losses_by_output=heads)
    (f,) = [x for x in diagnose(recs) if x.id == "training.logits_mismatch"]
    assert f.severity == "warning" and f.evidence["output"] == "digit"
    assert "JAX and PyTorch" in f.advice


def test_logits_mismatch_stays_silent_when_every_head_is_paired_right():
    heads = [{"output": "digit", "activation": "linear", "units": 10,
              "loss": {"name": "sparse_categorical_crossentropy", "from_logits": True}},
             {"output": "parity", "activation": "sigmoid", "units": 1,
              "loss": {"name": "binary_crossentropy", "from_logits": False}}]
    recs = _checks(input_range=[0, 1], input_mean=0.4, input_std=0.3, n_outputs=None,
                   loss={"name": "multiple", "from_logits": None}, losses_by_output=heads)
    assert "training.logits_mismatch" not in _ids(diagnose(recs))

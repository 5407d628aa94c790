"""The rules for real faults (issue #14) and the fixes that keep correct runs quiet, on
hand-made records (pure: no TensorFlow). Each rule has a fires / stays-silent pair."""
from __future__ import annotations

import math

import pytest

from tb_nndebug.diagnosis import CAUSES, RULE_ORDER, diagnose


def entry(value, tag, step=0):
    return {"tag": tag, "step": step, "value": value}


def targets(**kw):
    """``checks.targets`` facts; the default is 10-class integer labels of shape (n,)."""
    doc = {"shape": [], "kind": "integer", "min": 0.0, "max": 9.0, "mean": 4.5, "std": 2.9,
           "integer_valued": True, "binary_valued": False, "n_unique": 10, "one_hot": None,
           "multi_hot": None, "row_sum_min": None, "row_sum_max": None, "n_samples": 1000}
    doc.update(kw)
    return doc


ONE_HOT = dict(shape=[10], kind="float", min=0.0, max=1.0, mean=0.1, std=0.3,
               integer_valued=True, binary_valued=True, n_unique=2, one_hot=True,
               multi_hot=False, row_sum_min=1.0, row_sum_max=1.0)
BINARY = dict(shape=[], kind="integer", min=0.0, max=1.0, mean=0.4, std=0.49,
              integer_valued=True, binary_valued=True, n_unique=2)


def regression(lo, hi, mean, std, **kw):
    return targets(kind="float", min=lo, max=hi, mean=mean, std=std, integer_valued=False,
                   n_unique=900, **kw)


def checks(loss="sparse_categorical_crossentropy", act="softmax", n_out=10, from_logits=False,
           **kw):
    doc = {"optimizer": "Adam", "learning_rate": 1e-3,
           "loss": {"name": loss, "from_logits": from_logits},
           "output_activation": act, "n_outputs": n_out, "label_range": None,
           "input_range": [0.0, 1.0], "input_mean": 0.3, "input_std": 0.3,
           "inference_deterministic": True, "inference_max_diff": 0.0, "initial_loss": 2.3,
           "epochs_planned": 10, "train_data_given": True, "targets": targets()}
    doc.update(kw)
    return entry(doc, "checks")


def epoch_doc(loss, val_loss=None, acc=None, val_acc=None, *, planned=None, **kw):
    hist = {"loss": list(loss)}
    for key, v in (("val_loss", val_loss), ("accuracy", acc), ("val_accuracy", val_acc)):
        if v is not None:
            hist[key] = list(v)
    doc = {"epoch": len(loss) - 1, "epochs_planned": planned or len(loss), "history": hist,
           "learning_rate": 1e-3, "weight_update_ratio": 0.02, "probe_loss_finite": True,
           "grad_norms": [{"layer": "dense", "norm": 0.1, "weighted": True, "variables": 2},
                          {"layer": "dense_1", "norm": 0.08, "weighted": True, "variables": 2}]}
    doc.update(kw)
    return doc


def training(loss, val_loss=None, acc=None, val_acc=None, **kw):
    return entry(epoch_doc(loss, val_loss, acc, val_acc, **kw), "training", len(loss) - 1)


def run(loss, probe=None, **kw):
    """One training entry per epoch, each with the history so far (as the callback writes)."""
    out = []
    for i in range(len(loss)):
        extra = dict(kw)
        for key in ("val_loss", "acc", "val_acc"):
            if extra.get(key) is not None:
                extra[key] = extra[key][:i + 1]
        if probe is not None:
            extra["probe_loss"] = probe[i]
        out.append(training(loss[:i + 1], extra.pop("val_loss", None), extra.pop("acc", None),
                            extra.pop("val_acc", None), **extra))
    return out


def ids(findings, severities=("error", "warning")):
    return [f.id for f in findings if f.severity in severities]


def by_id(findings, fid):
    return next(f for f in findings if f.id == fid)


def sev(findings, fid):
    return next((f.severity for f in findings if f.id == fid), None)


# ------------------------------------------------------------ model.output_activation

def test_output_activation_softmax_on_one_unit_is_an_error():
    f = diagnose({"checks": [checks("binary_crossentropy", "softmax", 1,
                                    targets=targets(**BINARY))]})
    out = by_id(f, "model.output_activation")
    assert out.severity == "error" and "always 1.0" in out.title
    assert "sigmoid" in out.advice
    assert f[0].id == "model.output_activation"


@pytest.mark.parametrize("act,tg,fires", [
    ("relu", regression(-50.0, 80.0, 3.0, 20.0), True),       # negative targets
    ("sigmoid", regression(0.0, 900.0, 300.0, 90.0), True),   # far above 1
    ("tanh", regression(-5.0, 5.0, 0.0, 1.0), True),
    ("linear", regression(-50.0, 80.0, 3.0, 20.0), False),
    ("relu", regression(0.0, 80.0, 3.0, 20.0), False),
    ("sigmoid", regression(0.0, 1.0, 0.4, 0.2), False),
    ("relu", regression(-0.01, 80.0, 3.0, 20.0), False),     # a rounding-level excursion
])
def test_output_activation_against_regression_targets(act, tg, fires):
    f = diagnose({"checks": [checks("mse", act, 1, targets=tg, initial_loss=None)]})
    assert (sev(f, "model.output_activation") == "warning") is fires
    if fires:
        assert by_id(f, "model.output_activation").evidence["outside_share"] > 0.05


@pytest.mark.parametrize("act,from_logits,loss,fires", [
    ("relu", False, "sparse_categorical_crossentropy", True),
    ("relu", True, "sparse_categorical_crossentropy", True),
    ("tanh", True, "categorical_crossentropy", True),
    ("softmax", False, "sparse_categorical_crossentropy", False),
    ("linear", True, "sparse_categorical_crossentropy", False),
])
def test_output_activation_feeding_cross_entropy(act, from_logits, loss, fires):
    f = diagnose({"checks": [checks(loss, act, 10, from_logits)]})
    assert ("model.output_activation" in ids(f)) is fires


def test_output_activation_relu_logits_under_binary_ce_cannot_predict_negatives():
    f = diagnose({"checks": [checks("binary_crossentropy", "relu", 1, True,
                                    targets=targets(**BINARY))]})
    assert "never below 0.5" in by_id(f, "model.output_activation").advice


# ------------------------------------------------------------ training.loss_mismatch

def test_loss_mismatch_categorical_ce_on_one_unit_is_an_error():
    f = diagnose({"checks": [checks("categorical_crossentropy", "sigmoid", 1,
                                    targets=targets(**BINARY))]})
    assert sev(f, "training.loss_mismatch") == "error"
    assert "always 0" in by_id(f, "training.loss_mismatch").title


@pytest.mark.parametrize("loss,act,n_out,tg,fires", [
    ("mse", "softmax", 10, ONE_HOT, True),
    ("mse", "relu", 10, ONE_HOT, True),
    ("mean_absolute_error", "softmax", 10, targets(), True),      # integer class labels
    ("mse", "sigmoid", 1, BINARY, True),
    ("categorical_crossentropy", "sigmoid", 10, ONE_HOT, True),
    ("sparse_categorical_crossentropy", "sigmoid", 10, targets(), True),
    ("binary_crossentropy", "softmax", 10, ONE_HOT, True),
    # the fixes
    ("categorical_crossentropy", "softmax", 10, ONE_HOT, False),
    ("sparse_categorical_crossentropy", "softmax", 10, targets(), False),
    ("binary_crossentropy", "sigmoid", 1, BINARY, False),
    ("mse", "linear", 1, regression(-3.0, 3.0, 0.0, 1.0), False),
    ("mse", "linear", 1, targets(), False),   # integer-valued regression targets
    # an autoencoder on binarised images: 0/1 targets that are not class labels
    ("mse", "sigmoid", 784, dict(ONE_HOT, shape=[784], one_hot=False, multi_hot=True,
                                 row_sum_min=80.0, row_sum_max=200.0), False),
])
def test_loss_mismatch_pairs(loss, act, n_out, tg, fires):
    tgd = targets(**tg) if isinstance(tg, dict) and "n_samples" not in tg else tg
    f = diagnose({"checks": [checks(loss, act, n_out, targets=tgd)]})
    assert (sev(f, "training.loss_mismatch") == "warning") is fires, ids(f)


def test_loss_mismatch_binary_ce_on_one_hot_names_binary_accuracy():
    f = diagnose({"checks": [checks("binary_crossentropy", "softmax", 10,
                                    targets=targets(**ONE_HOT))]})
    assert "binary accuracy" in by_id(f, "training.loss_mismatch").advice


# ------------------------------------------------------------ data.labels_not_labels

def test_labels_not_labels_fractional_labels_under_sparse_ce():
    tg = targets(kind="float", min=0.0, max=9 / 255, integer_valued=False, n_unique=10)
    f = diagnose({"checks": [checks(targets=tg)]})
    lab = by_id(f, "data.labels_not_labels")
    assert lab.severity == "error" and lab.evidence["max"] == pytest.approx(9 / 255)
    # from the label range when there are no target facts
    old = diagnose({"checks": [checks(targets=None, label_range=[0.0, 0.0353])]})
    assert sev(old, "data.labels_not_labels") == "error"
    assert "data.labels_not_labels" not in ids(diagnose({"checks": [checks()]}))
    assert "data.labels_not_labels" not in ids(
        diagnose({"checks": [checks(targets=None, label_range=[0, 9])]}))


def test_labels_not_labels_multi_hot_under_softmax():
    multi = targets(**dict(ONE_HOT, one_hot=False, multi_hot=True, row_sum_min=1.0,
                           row_sum_max=3.0))
    f = diagnose({"checks": [checks("categorical_crossentropy", "softmax", 10, targets=multi)]})
    assert sev(f, "data.labels_not_labels") == "warning"
    assert "sigmoid" in by_id(f, "data.labels_not_labels").advice
    fixed = diagnose({"checks": [checks("binary_crossentropy", "sigmoid", 10, targets=multi)]})
    assert "data.labels_not_labels" not in ids(fixed, ("error", "warning", "info"))
    empty_rows = targets(**dict(ONE_HOT, one_hot=False, multi_hot=True, row_sum_min=0.0))
    e = diagnose({"checks": [checks("categorical_crossentropy", "softmax", 10,
                                    targets=empty_rows)]})
    assert sev(e, "data.labels_not_labels") == "info"


# ------------------------------------------------------------ training.not_learning

ZERO = [{"layer": "dense", "norm": 0.0, "weighted": True, "variables": 2},
        {"layer": "dense_1", "norm": None, "weighted": True, "variables": 2}]


def test_not_learning_when_no_gradient_reaches_the_weights():
    recs = {"checks": [checks(initial_loss=2.302)],
            "training": run([2.3026] * 4, acc=[0.1] * 4, grad_norms=ZERO, grad_norm_total=0.0,
                            weight_update_ratio=0.0, probe_loss=[2.302] * 4)}
    f = diagnose(recs)
    nl = by_id(f, "training.not_learning")
    assert nl.severity == "error" and nl.evidence["since_epoch"] == 0
    assert "training.lr_too_low" not in ids(f)  # no step size moves weights without gradient
    assert by_id(f, "training.underfitting").evidence["likely_cause"] == "training.not_learning"


@pytest.mark.parametrize("change", [
    {"grad_norms": [dict(ZERO[0], norm=1e-9), ZERO[1]]},     # a gradient, however small
    {"weight_update_ratio": None},                           # unknown update
    {"weight_update_ratio": 1e-6},
    {"grad_norm_total": 1e-4},
])
def test_not_learning_stays_silent_when_anything_moves(change):
    kw = dict(grad_norms=ZERO, grad_norm_total=0.0, weight_update_ratio=0.0)
    kw.update(change)
    f = diagnose({"training": [training([2.3, 2.3, 2.3], **kw)]})
    assert "training.not_learning" not in ids(f)


def test_not_learning_stays_silent_on_a_converged_or_nan_loss():
    kw = dict(grad_norms=ZERO, grad_norm_total=0.0, weight_update_ratio=0.0)
    assert "training.not_learning" not in ids(diagnose({"training": [training([0.1, 0.0],
                                                                              **kw)]}))
    nan = diagnose({"training": [training([2.3, None], **kw)]})
    assert ids(nan) == ["training.lr_too_high"]


def test_not_learning_ranks_after_its_causes():
    f = diagnose({"checks": [checks("binary_crossentropy", "softmax", 1,
                                    targets=targets(**BINARY))],
                  "training": [training([0.69, 0.69], grad_norms=ZERO, grad_norm_total=0.0,
                                        weight_update_ratio=0.0)]})
    assert ids(f)[:2] == ["model.output_activation", "training.not_learning"]
    assert by_id(f, "training.not_learning").evidence["likely_cause"] == \
        "model.output_activation"


# ------------------------------------------------------------ data.targets_not_scaled

PRICES = regression(15000.0, 500000.0, 180000.0, 80000.0)


def test_targets_not_scaled_on_prices_and_no_lr_too_high_while_the_loss_falls():
    loss = [3.9e10, 3.7e10, 3.5e10, 3.3e10, 3.2e10]
    f = diagnose({"checks": [checks("mse", "linear", 1, targets=PRICES, initial_loss=4.0e10,
                                    initial_output={"min": -0.8, "max": 0.9, "mean": 0.0,
                                                    "std_across_samples": 0.3})],
                  "training": [training(loss, [3.8e10, 3.6e10, 3.4e10, 3.3e10, 3.2e10])]})
    t = by_id(f, "data.targets_not_scaled")
    assert t.severity == "warning" and t.evidence["target_std"] == 80000.0
    assert "Rescaling(scale=8e+04, offset=1.8e+05)" in t.advice
    assert "training.lr_too_high" not in ids(f)  # the loss falls: large, not diverging


def test_targets_not_scaled_stays_silent_on_scaled_or_rescaled_targets_and_a_good_fit():
    scaled = regression(-2.0, 3.0, 0.0, 1.0)
    assert "data.targets_not_scaled" not in ids(
        diagnose({"checks": [checks("mse", "linear", 1, targets=scaled)]}))
    # a final Rescaling: the untrained model already outputs on the targets' scale
    rescaled = checks("mse", "linear", 1, targets=PRICES,
                      initial_output={"min": 20000.0, "max": 300000.0, "mean": 1.5e5,
                                      "std_across_samples": 6e4})
    assert "data.targets_not_scaled" not in ids(diagnose({"checks": [rescaled]}))
    # RMSE 8 % of the std: the scale did not stop learning
    good = diagnose({"checks": [checks("mse", "linear", 1, targets=PRICES)],
                     "training": [training([6e9, 1e8, 4e7])]})
    assert "data.targets_not_scaled" not in ids(good)
    # class labels under a cross-entropy are not regression targets
    assert "data.targets_not_scaled" not in ids(
        diagnose({"checks": [checks(targets=targets(max=2000.0, std=500.0))]}))


def test_lr_too_high_on_a_large_loss_that_does_not_fall_names_unscaled_targets():
    f = diagnose({"checks": [checks("mse", "linear", 1, targets=PRICES, initial_loss=4e10)],
                  "training": [training([3.9e10, 4.6e10, 9e10])]})
    hi = by_id(f, "training.lr_too_high")
    assert hi.severity == "warning" and hi.evidence["falling"] is False
    assert hi.evidence["likely_cause"] == "data.targets_not_scaled"
    assert RULE_ORDER.index("data.targets_not_scaled") < RULE_ORDER.index("training.lr_too_high")


def test_lr_too_high_divergence_is_an_error_only_far_above_the_untrained_loss():
    far = diagnose({"checks": [checks(initial_loss=2.37)],
                    "training": [training([729.6, 13.9, 13.5, 14.5])]})
    assert sev(far, "training.lr_too_high") == "error"
    near = diagnose({"checks": [checks(initial_loss=2.3)],
                     "training": [training([2.4, 2.6, 2.7])]})
    assert sev(near, "training.lr_too_high") == "warning"


def test_lr_too_high_compares_like_with_like_under_sample_weights():
    # weighted Keras loss above the unweighted untrained probe loss, but falling
    weighted = {"checks": [checks(initial_loss=0.40, sample_weighted=True)],
                "training": [training([0.62, 0.55, 0.50], probe_loss=0.30)]}
    assert "training.lr_too_high" not in ids(diagnose(weighted))
    unweighted = {"checks": [checks(initial_loss=0.40, sample_weighted=False)],
                  "training": [training([0.62, 0.55, 0.50], probe_loss=0.30)]}
    assert "training.lr_too_high" in ids(diagnose(unweighted))
    rising = {"checks": [checks(initial_loss=0.40, sample_weighted=True)],
              "training": [training([0.62, 0.70, 0.80], probe_loss=0.9)]}
    assert sev(diagnose(rising), "training.lr_too_high") == "warning"


# ------------------------------------------------------------ model.initialisation

def weights(*gains, fan_in=64, **kw):
    return [dict({"layer": f"dense_{i}", "variable": f"dense_{i}/kernel", "shape": [fan_in, 32],
                  "fan_in": fan_in, "std": g / math.sqrt(fan_in), "max_abs": 3 * g,
                  "all_zero": False, "constant": False}, **kw) for i, g in enumerate(gains)]


def test_initialisation_huge_weights_confirmed_by_a_confidently_wrong_start():
    f = diagnose({"checks": [checks(initial_weights=weights(8.0, 8.0, 8.0), initial_loss=40.0)]})
    init = by_id(f, "model.initialisation")
    assert init.severity == "warning" and init.evidence["layers"][0]["gain"] == pytest.approx(8)
    # the same weights, but the untrained model looks fine (a BatchNorm after them): info
    quiet = diagnose({"checks": [checks(initial_weights=weights(8.0, 1.0), initial_loss=2.4,
                                        initial_output={"min": 0.02, "max": 0.4, "mean": 0.1,
                                                        "std_across_samples": 0.05})]})
    assert sev(quiet, "model.initialisation") == "info"


def test_initialisation_stays_silent_on_glorot_weights_and_embedding_tables():
    emb = weights(4.1, fan_in=20000)
    emb[0].update(layer="embedding", variable="embedding/embeddings")
    recs = {"checks": [checks(initial_weights=emb + weights(1.4, 1.0), initial_loss=2.3)]}
    assert "model.initialisation" not in ids(diagnose(recs), ("error", "warning", "info"))


def test_initialisation_constant_kernels():
    zeros = weights(0.0, 0.0, 0.0, all_zero=True, constant=True)
    f = diagnose({"checks": [checks(initial_weights=zeros)]})
    assert sev(f, "model.initialisation") == "warning"
    # a zero output layer on random hidden layers is fine (and common)
    last_zero = weights(1.4, 1.0) + weights(0.0, all_zero=True, constant=True)
    assert "model.initialisation" not in ids(diagnose({"checks": [checks(
        initial_weights=last_zero)]}), ("error", "warning", "info"))
    # one zero hidden kernel before a random one that still gets gradient: info (Fixup-style)
    mid = weights(1.4) + weights(0.0, all_zero=True, constant=True) + weights(1.0)
    mid[1]["layer"] = "res_out"
    assert sev(diagnose({"checks": [checks(initial_weights=mid)]}), "model.initialisation") \
        == "info"


# ------------------------------------------------------------ training.too_few_epochs

def test_too_few_epochs_at_the_last_planned_epoch():
    f = diagnose({"checks": [checks()],
                  "training": [training([2.2, 1.6, 1.1, 0.75], [2.0, 1.4, 1.0, 0.7],
                                        acc=[0.2, 0.3, 0.4, 0.5])]})
    few = by_id(f, "training.too_few_epochs")
    assert few.severity == "warning" and min(few.evidence["recent_falls"]) >= 0.25
    assert by_id(f, "training.too_few_epochs").evidence["epochs"] == 4
    # steep, but accuracy already 80 % of the way: info only
    mid = diagnose({"training": [training([1.0, 0.7, 0.5, 0.36], acc=[0.6, 0.7, 0.8, 0.82])]})
    assert sev(mid, "training.too_few_epochs") == "info"


@pytest.mark.parametrize("rec", [
    training([2.2, 1.6, 1.1, 0.75], acc=[0.2, 0.3, 0.4, 0.5], planned=10),  # still running
    training([2.2, 1.0, 0.9, 0.85], acc=[0.2, 0.3, 0.4, 0.5]),              # flattened
    training([0.6, 0.43, 0.32, 0.26], acc=[0.5, 0.5, 0.5, 0.5]),            # accuracy stuck
    training([2.2, 1.6, 1.1, 0.75], [2.0, 1.4, 1.3, 1.4], acc=[0.2, 0.3, 0.4, 0.5]),  # val up
    training([1.9, 1.1, 0.6, 0.4, 0.3, 0.24, 0.2], acc=[0.4, 0.8, 0.88, 0.92, 0.94, 0.95, 0.96]),
])
def test_too_few_epochs_stays_silent(rec):
    assert "training.too_few_epochs" not in ids(diagnose({"training": [rec]}),
                                                ("error", "warning", "info"))


# ------------------------------------------------------------ training.batch_too_small

def test_batch_too_small_with_an_oscillating_loss():
    f = diagnose({"checks": [checks(batch_size=1, steps_per_epoch=1000, initial_loss=2.3)],
                  "training": [training([1.2, 0.9, 1.1, 0.8, 1.0])]})
    b = by_id(f, "training.batch_too_small")
    assert b.severity == "warning" and b.evidence["batch_size"] == 1
    assert by_id(f, "training.lr_too_high").evidence["likely_cause"] == "training.batch_too_small"
    smooth = diagnose({"checks": [checks(batch_size=1)],
                       "training": [training([1.2, 0.9, 0.7, 0.6])]})
    assert sev(smooth, "training.batch_too_small") == "info"


@pytest.mark.parametrize("batch", [32, 8, None])
def test_batch_too_small_stays_silent_on_ordinary_batches(batch):
    f = diagnose({"checks": [checks(batch_size=batch)],
                  "training": [training([1.2, 0.9, 1.1, 0.8, 1.0])]})
    assert "training.batch_too_small" not in ids(f, ("error", "warning", "info"))


# ------------------------------------------------------------ lr_too_low: withdrawn, exclusive

def diagnose_each_epoch(checks_entry, entries):
    """Findings after each epoch, as the callback's console shows them."""
    return [diagnose({"checks": [checks_entry], "training": entries[:i + 1]})
            for i in range(len(entries))]


def test_lr_too_low_is_withdrawn_once_the_loss_has_fallen():
    loss = [2.300, 2.299, 2.298, 2.297, 2.296, 1.5, 0.6, 0.2, 0.11]
    per_epoch = diagnose_each_epoch(checks(initial_loss=2.301), run(loss))
    low = ["training.lr_too_low" in ids(f) for f in per_epoch]
    assert low[4] and not low[-1]
    # stable: once raised it stays until the evidence changes (the loss halves), then it goes
    first, last = low.index(True), len(low) - 1 - low[::-1].index(True)
    assert all(low[first:last + 1]) and not any(low[last + 1:])
    assert by_id(per_epoch[4], "training.lr_too_low").evidence["moved"]["history"] < 0.01


def test_lr_too_low_compares_probe_with_probe():
    # the Keras losses barely move after a first epoch that learnt everything, but the
    # untrained and trained probe losses (same batch, inference mode) say it moved
    f = diagnose({"checks": [checks(initial_loss=2.3)],
                  "training": run([0.35, 0.349, 0.348, 0.348, 0.347],
                                  probe=[0.33, 0.33, 0.33, 0.33, 0.33])})
    assert "training.lr_too_low" not in ids(f)


def test_lr_too_low_and_lr_too_high_are_never_reported_together():
    # epoch 0 looks diverging against the untrained loss, later epochs are flat
    loss = [2.6, 2.59, 2.59, 2.58, 2.58, 2.58]
    for f in diagnose_each_epoch(checks(initial_loss=2.3), run(loss)):
        assert not {"training.lr_too_high", "training.lr_too_low"} <= set(ids(f))
    tiny = diagnose({"checks": [checks(learning_rate=1e-9, initial_loss=2.3)],
                     "training": [training([2.0, None])]})
    assert ids(tiny) == ["training.lr_too_high"]


# ------------------------------------------------------------ overfitting, mode gap

def test_overfitting_not_on_a_noisy_validation_curve():
    loss = [1.7, 0.9, 0.6, 0.45, 0.35, 0.3, 0.26]
    noisy = [1.0, 0.5, 0.40, 0.36, 0.45, 0.37, 0.44]
    assert "training.overfitting" not in ids(diagnose({"training": [training(loss, noisy)]}))
    rising = [1.0, 0.5, 0.40, 0.36, 0.42, 0.45, 0.48]
    assert "training.overfitting" in ids(diagnose({"training": [training(loss, rising)]}))


def test_overfitting_not_while_validation_loss_is_below_training_loss():
    loss = [2.0, 1.6, 1.4, 1.3, 1.25, 1.2]      # heavy dropout: train loss stays high
    val = [0.9, 0.5, 0.40, 0.46, 0.50, 0.55]
    assert "training.overfitting" not in ids(diagnose({"training": [training(loss, val)]}))


def test_overfitting_told_apart_from_a_train_inference_mode_gap():
    loss = [1.0, 0.5, 0.25, 0.12, 0.06, 0.03]
    val = [1.1, 0.8, 0.62, 0.66, 0.72, 0.78]
    bn = {"checks": [checks(stochastic_layers=[])],
          "training": [training(loss, val, probe_loss=0.74)]}   # inference mode ≈ val
    f = diagnose(bn)
    assert "training.overfitting" not in ids(f)
    gap = by_id(f, "training.mode_gap")
    assert gap.severity == "info" and "BatchNormalization" in gap.advice
    assert gap.evidence["probe_loss"] == 0.74
    memorised = {"training": [training(loss, val, probe_loss=0.035)]}  # inference ≈ train
    f = diagnose(memorised)
    assert "training.overfitting" in ids(f)
    assert "training.mode_gap" not in ids(f, ("info",))


def test_mode_gap_stays_silent_when_modes_agree():
    f = diagnose({"training": [training([0.5, 0.4, 0.35], [0.52, 0.43, 0.37],
                                        probe_loss=0.34)]})
    assert "training.mode_gap" not in ids(f, ("error", "warning", "info"))


# ------------------------------------------------------------ suspicious_validation: sample size

def val_set(n):
    return entry({"name": "validation", "n_samples": n}, "validation")


def test_suspicious_validation_needs_enough_validation_samples():
    tr = training([1, 0.8, 0.7, 0.6], acc=[0.5, 0.7, 0.78, 0.8], val_acc=[0.6, 0.8, 0.88, 0.9])
    small = by_id(diagnose({"dataset": [val_set(30)], "training": [tr]}),
                  "training.suspicious_validation")
    assert small.severity == "info" and small.evidence["n_val"] == 30
    assert small.evidence["n_needed"] >= 100 and small.evidence["standard_error"] > 0.04
    big = by_id(diagnose({"dataset": [val_set(2000)], "training": [tr]}),
                "training.suspicious_validation")
    assert big.severity == "warning" and big.evidence["n_val"] == 2000
    unknown = diagnose({"training": [tr]})  # no validation size: cannot judge the noise
    assert sev(unknown, "training.suspicious_validation") == "info"


# ------------------------------------------------------------ declarations

def test_new_causes_rank_before_their_symptoms():
    for cause in ("model.output_activation", "training.loss_mismatch", "data.labels_not_labels",
                  "training.not_learning", "model.initialisation", "training.too_few_epochs",
                  "training.batch_too_small"):
        assert cause in CAUSES["training.underfitting"]
    assert "data.targets_not_scaled" in CAUSES["training.lr_too_high"]
    for symptom, causes in CAUSES.items():
        for c in causes:
            assert RULE_ORDER.index(c) < RULE_ORDER.index(symptom), (c, symptom)


def test_a_correct_classifier_with_the_new_facts_is_quiet():
    recs = {"checks": [checks("sparse_categorical_crossentropy", "softmax", 10,
                              initial_weights=weights(1.2, 1.0), batch_size=32,
                              initial_output={"min": 0.05, "max": 0.2, "mean": 0.1,
                                              "std_across_samples": 0.02},
                              sample_weighted=False)],
            "dataset": [val_set(300)],
            "training": run([1.9, 1.1, 0.6, 0.4, 0.3, 0.24, 0.2],
                            probe=[1.2, 0.7, 0.45, 0.33, 0.26, 0.22, 0.19],
                            val_loss=[1.5, 0.8, 0.5, 0.37, 0.3, 0.25, 0.22],
                            acc=[0.4, 0.8, 0.88, 0.92, 0.94, 0.95, 0.96],
                            val_acc=[0.5, 0.8, 0.87, 0.9, 0.92, 0.93, 0.94])}
    assert diagnose(recs) == [] or ids(diagnose(recs)) == []


# ------------------------------------------------------------ found on the fault zoo's runs

def test_not_learning_on_a_model_with_no_trainable_weights():
    flat = [2.3684] * 4
    f = diagnose({"model": [entry({"bits": 2112, "n_outputs": 10, "trainable_params": 0},
                                  "model")],
                  "training": [training(flat, grad_norms=[], grad_norm_total=0.0,
                                        weight_update_ratio=None)]})
    nl = by_id(f, "training.not_learning")
    assert nl.severity == "error" and "no trainable weights" in nl.title
    assert "training.lr_too_low" not in ids(f)
    # no grad_norms at all (no probe) is unknown, not frozen
    assert "training.not_learning" not in ids(diagnose({"training": [training(
        flat, grad_norms=None, weight_update_ratio=None)]}))


def test_lr_too_high_on_a_training_loss_that_climbs_back_above_its_best():
    loss = [1.48, 0.86, 1.36, 1.21, 1.07, 0.95, 0.97, 1.21, 1.26, 1.11]
    f = diagnose({"training": [training(loss)]})
    hi = by_id(f, "training.lr_too_high")
    assert hi.severity == "warning" and hi.evidence["rebound"] == pytest.approx(1.11 / 0.86)
    # a last-epoch wobble near the best is not a rebound
    ok = [1.48, 0.86, 0.7, 0.6, 0.55, 0.5, 0.52]
    assert "training.lr_too_high" not in ids(diagnose({"training": [training(ok)]}))


def test_too_few_epochs_on_two_epochs_with_accuracy_still_climbing():
    f = diagnose({"checks": [checks()],
                  "training": [training([2.245, 1.937], [2.10, 1.74], acc=[0.14, 0.50])]})
    few = by_id(f, "training.too_few_epochs")
    assert few.severity == "warning" and few.evidence["accuracy_rise_per_epoch"] > 0.3


def test_overfitting_is_info_while_validation_accuracy_holds():
    loss = [0.85, 0.27, 0.14, 0.09, 0.074]
    val = [0.42, 0.33, 0.31, 0.35, 0.43]
    holds = diagnose({"dataset": [val_set(1000)],
                      "training": [training(loss, val, acc=[0.76, 0.92, 0.96, 0.976, 0.977],
                                            val_acc=[0.866, 0.899, 0.907, 0.911, 0.898],
                                            probe_loss=0.11)]})
    assert sev(holds, "training.overfitting") == "info"
    worse = diagnose({"dataset": [val_set(1000)],
                      "training": [training(loss, val, acc=[0.76, 0.92, 0.96, 0.976, 0.977],
                                            val_acc=[0.866, 0.899, 0.907, 0.911, 0.86],
                                            probe_loss=0.11)]})
    assert sev(worse, "training.overfitting") == "warning"


def test_lr_too_high_on_a_first_epoch_far_above_the_untrained_loss():
    f = diagnose({"checks": [checks(initial_loss=2.336)],
                  "training": [training([1082.6, 4.6, 2.8, 2.48, 2.43])]})
    assert by_id(f, "training.lr_too_high").evidence["overshoot"] > 400
    # balanced class weights raise epoch 0 about 3×: a weighted loss is not compared
    w = diagnose({"checks": [checks(initial_loss=0.536, sample_weighted=True)],
                  "training": [training([1.54, 0.70, 0.46, 0.36, 0.32])]})
    assert "training.lr_too_high" not in ids(w)
    # Adam at 0.1 on MNIST: epoch 0 averages 1.29× the untrained loss; correct runs <= 0.92×
    adam = diagnose({"checks": [checks(initial_loss=2.30)],
                     "training": [training([2.97, 1.10, 0.78, 0.66, 0.62])]})
    assert by_id(adam, "training.lr_too_high").severity == "warning"
    sound = diagnose({"checks": [checks(initial_loss=2.32)],
                      "training": [training([2.14, 1.9, 1.8, 1.75, 1.7])]})
    assert "training.lr_too_high" not in ids(sound)


def test_initialisation_ignores_two_dimensional_biases():
    bias = [{"layer": "gru/gru_cell", "variable": "gru/gru_cell/bias", "shape": [2, 96],
             "fan_in": 2, "std": 0.0, "max_abs": 0.0, "all_zero": True, "constant": True}]
    recs = {"checks": [checks(initial_weights=weights(1.2) + bias + weights(1.0))]}
    assert "model.initialisation" not in ids(diagnose(recs), ("error", "warning", "info"))

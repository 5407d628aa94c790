"""Fitting and generalising: over- and underfitting, and a validation set that looks wrong."""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import acc_key, num, series, train_accuracies

_UNDER = "training.underfitting."
_OVER = "training.overfitting."


def _overfit_signal(R, T):
    """The Keras curves' case for overfitting, or None: the best of the last ``patience``
    epochs' validation losses is still above the earlier best (by ``rise``, or ``gap`` times
    the training loss) while the training loss kept falling. A best-of-window comparison, so
    one noisy epoch neither raises nor clears it."""
    t, hist, step = R.training()
    if t is None:
        return None
    pairs = [(i, num(a), num(b)) for i, (a, b) in
             enumerate(zip(series(hist, "loss"), series(hist, "val_loss")))]
    pairs = [(i, a, b) for i, a, b in pairs if a is not None and b is not None]
    w = max(int(T[_OVER + "patience"]), 1)
    if len(pairs) < max(3, w + 1):
        return None
    best_i, train_at_best, best_val = min(pairs[:-w], key=lambda p: p[2])
    recent = min(b for _, _, b in pairs[-w:])
    last_i, last_train, last_val = pairs[-1]
    rise = (recent - best_val) / best_val if best_val > 0 else 0.0
    gap = (last_val - last_train) / last_train if last_train > 0 else math.inf
    if not (recent >= best_val and last_train < train_at_best
            and (rise > T[_OVER + "rise"] or gap > T[_OVER + "gap"])):
        return None
    return {"best_epoch": R.epoch_at(best_i), "best_val_loss": best_val, "val_loss": last_val,
            "recent_best_val_loss": recent, "rise": rise, "train_loss": last_train,
            "train_loss_at_best": train_at_best, "gap": gap, "step": step,
            "probe_loss": num(t["value"].get("probe_loss"))}


def _mode_gap(R, T):
    """Evidence that training and validation loss differ by mode, not memorisation: the
    inference-mode loss on training samples (the probe) is close to the validation loss."""
    t, hist, step = R.training()
    if t is None:
        return None
    probe = num(t["value"].get("probe_loss"))
    val = [v for v in (num(x) for x in series(hist, "val_loss")) if v is not None]
    train = [v for v in (num(x) for x in series(hist, "loss")) if v is not None]
    if probe is None or not val or not train or val[-1] <= 0:
        return None
    close = abs(val[-1] - probe) <= T[_OVER + "close"] * val[-1]
    # a validation loss that still jumps by more than the margin cannot be matched by chance
    steady = len(val) < 2 or abs(val[-1] - val[-2]) <= T[_OVER + "close"] * val[-1]
    return {"steady": steady, "probe_loss": probe, "val_loss": val[-1], "train_loss": train[-1],
            "close": close, "train_over_probe": train[-1] / probe if probe > 0 else None,
            "step": step}


def _val_accuracy_holds(R, T, ev) -> bool:
    """The validation accuracy is still within noise of its best: the loss rise is growing
    over-confidence on the errors, not (yet) worse predictions."""
    _, hist, _ = R.training()
    key = acc_key(hist)
    va = [v for v in (num(x) for x in series(hist, "val_" + key))] if key else []
    va = [v for v in va if v is not None]
    if len(va) < 2:
        return False
    drop = max(va) - va[-1]
    n = validation_size(R)
    noise = T["training.suspicious_validation.z"] * math.sqrt(
        max(va[-1] * (1 - va[-1]), 1e-4) / n) if n else 0.0
    ev.update(val_accuracy_drop=drop, val_accuracy_noise=noise)
    return drop < max(T[_OVER + "acc_drop"], noise)


@rule("training.overfitting", severities=("warning", "info"), panel="training", order=160,
      fires_when="the best val loss of the last 2 epochs is 10 % above its earlier best (or "
                 "3× the train loss after it stalled) while train loss fell; not when val "
                 "loss is below train loss, nor when the inference-mode loss on training "
                 "samples is within 20 % of the val loss (a train/inference-mode gap); info "
                 "while val accuracy stays within 2 points / 2 SE of its best",
      causes=("capacity.oversized",),
      thresholds=[
          Threshold("rise", 0.1, "tb_nndebug: val loss 10 % above its best (UMLAUT: any rise)",
                    "relative rise of the validation loss over its best",
                    alias="overfitting.rise"),
          Threshold("patience", 2, "tb_nndebug: the rise has lasted 2 epochs since the best "
                    "(the best of those epochs is compared: one noisy epoch is not a trend)",
                    "epochs the rise must last", alias="overfitting.patience"),
          Threshold("gap", 3.0, "tb_nndebug: (val - train)/train loss > 3 once val loss stopped "
                    "improving (SageMaker warns at 0.1, which every healthy run passes)",
                    "(val - train) / train loss that is a gap", alias="overfitting.gap"),
          Threshold("acc_drop", 0.02, "tb_nndebug: val accuracy 2 points (and 2 binomial SE) "
                    "below its best — under that, a rising val loss is over-confidence (info)",
                    "fall of the val accuracy from its best that makes it a warning"),
          Threshold("close", 0.2, "tb_nndebug: a model whose inference-mode loss on training "
                    "samples is within 20 % of its validation loss has not memorised them "
                    "(issue #13: a BatchNorm model's probe loss equalled its val loss)",
                    "|val - probe| / val loss below which there is no memorisation")])
def overfitting(R, T):
    sig = _overfit_signal(R, T)
    if sig is None or sig["val_loss"] <= sig["train_loss"]:
        return  # validation below training loss: nothing memorised that the curves show
    gap = _mode_gap(R, T)
    if gap is not None and (gap["close"] or gap["probe_loss"] > gap["val_loss"]):
        return  # training samples are no easier than new ones in inference mode
    step = sig.pop("step")
    if gap is not None:
        sig["probe_loss"] = gap["probe_loss"]
    title = (f"Validation loss rose {sig['rise']:.0%} since epoch {sig['best_epoch']} while "
             "training loss fell" if sig["rise"] > T["rise"] else
             f"Validation loss stopped improving at epoch {sig['best_epoch']} and is "
             f"{sig['val_loss'] / max(sig['train_loss'], 1e-12):.0f}× the training loss")
    holds = _val_accuracy_holds(R, T, sig)
    yield Found(
        "info" if holds else "warning", title + (" (validation accuracy holds)" if holds else ""),
        sig,
        "Stop at the best epoch (keras.callbacks.EarlyStopping(restore_best_weights="
        "True)) and regularise (dropout, weight decay, augmentation) or get more data: "
        "the model is fitting noise in the training set.",
        step)


@rule("training.mode_gap", severities=("info",), panel="training", order=175,
      fires_when="the Keras training loss differs ≥ 2× from the inference-mode loss on "
                 "training samples while that one is within 20 % of a steady val loss",
      thresholds=[Threshold("ratio", 2.0, "tb_nndebug: a 2× difference between the same "
                            "samples' loss in training and inference mode is more than "
                            "learning within one epoch explains", "train-mode / inference-"
                            "mode loss (either way) that is a mode gap")])
def mode_gap(R, T):
    gap = _mode_gap(R, T)
    r = gap["train_over_probe"] if gap else None
    if not gap or not gap["close"] or not gap.pop("steady") or not r or \
            max(r, 1 / r) < T["ratio"]:
        return
    c = R.checks()
    stochastic = (c["value"].get("stochastic_layers") or []) if c else []
    layers = ", ".join(map(str, stochastic[:4])) if isinstance(stochastic, list) else ""
    step = gap.pop("step")
    gap["stochastic_layers"] = list(stochastic) if isinstance(stochastic, list) else []
    yield Found(
        "info",
        f"Training loss {gap['train_loss']:.3g} (training mode) vs {gap['probe_loss']:.3g} on "
        f"the same kind of samples in inference mode ≈ validation {gap['val_loss']:.3g}",
        gap,
        "Not overfitting: the model does as well on training samples as on validation ones "
        "when both run in inference mode; the training loss differs because layers behave "
        "differently while training — BatchNormalization uses the batch's statistics "
        "(its moving averages lag with a high momentum or few steps), Dropout/noise "
        + (f"({layers}) " if layers else "") + "thin the network. Compare "
        "model.evaluate on the training data with the validation loss; for BatchNorm lower "
        "its momentum (e.g. 0.9) or train longer.",
        step)


@rule("training.underfitting", severities=("warning",), panel="training", order=170,
      fires_when="train accuracy within 10 % of chance (majority share)",
      causes=("training.labels_out_of_range", "data.labels_not_labels",
              "model.output_activation", "training.loss_mismatch", "training.logits_mismatch",
              "model.linear_hidden", "training.dropout_rate_high", "data.not_normalized",
              "model.initialisation", "capacity.too_small", "balance.imbalanced",
              "training.vanishing_gradients", "training.batch_too_small",
              "training.lr_too_high", "training.dead_units", "training.not_learning",
              "training.lr_too_low", "training.too_few_epochs"),
      thresholds=[
          Threshold("margin", 0.1, "tb_nndebug: train accuracy within 10 % of the way from chance "
                    "to perfect", "share of the way from chance to perfect accuracy that is "
                    "still underfitting", alias="underfitting.margin"),
          Threshold("after", 0.3, "AUTOTRAINER: judge convergence after 30 % of planned epochs",
                    "share of the planned epochs before judging", alias="underfitting.after")])
def underfitting(R, T):
    t, hist, step = R.training()
    if t is None:
        return
    acc = train_accuracies(hist)
    chance = R.chance_level()
    if not acc or chance is None:
        return
    planned = num(t["value"].get("epochs_planned"))
    n_epochs = R.epochs_trained() or len(acc)
    enough = n_epochs >= 2 and (planned is None or n_epochs >= T["after"] * planned)
    limit = chance + T["margin"] * (1 - chance)
    if enough and max(acc) <= limit:
        yield Found(
            "warning", f"Training accuracy {max(acc):.1%} is near chance ({chance:.1%})",
            {"train_accuracy": max(acc), "chance": chance, "limit": limit, "epochs": n_epochs},
            "The model does not even fit the training data: check the learning rate, the "
            "loss/output pairing and the labels first, then grow the model.",
            step)


def validation_size(R) -> int | None:
    """Samples in the validation set, from its ``dataset`` record (None when unknown)."""
    for e in R.entries("dataset"):
        name = str(e["value"].get("name") or e["tag"]).lower()
        if e["tag"].lower().startswith("val") or name.startswith("val"):
            n = num(e["value"].get("n_samples"))
            if n is None and isinstance(e["value"].get("balance"), Mapping):
                n = num(e["value"]["balance"].get("n_samples"))
            if n is not None and n > 0:
                return int(n)
    return None


def _noise(val_acc, diff, n, z):
    """Binomial standard error of a validation accuracy measured on ``n`` samples
    (Agresti–Coull: sound at 0 % and 100 %) and the samples a difference ``diff`` needs
    to be ``z`` standard errors."""
    p = (val_acc * n + 2) / (n + 4)
    se = math.sqrt(p * (1 - p) / (n + 4))
    need = math.ceil(z * z * val_acc * (1 - val_acc) / (diff * diff)) if diff > 0 else None
    return se, need


@rule("training.suspicious_validation", severities=("warning", "info"), panel="training",
      order=180,
      fires_when="val accuracy > train accuracy + 0.05 and + 2 binomial standard errors, on "
                 "≥ 100 validation samples, from epoch 3 (info with dropout/noise layers, "
                 "from epoch 5, or when the validation size is unknown)",
      causes=("training.dropout_at_inference",),
      thresholds=[
          Threshold("gap", 0.05, "UMLAUT: val accuracy > train accuracy + 0.05",
                    "validation minus training accuracy that is suspicious",
                    alias="suspicious_validation.gap"),
          Threshold("min_epoch", 3, "UMLAUT: from epoch 3 on", "first epoch judged",
                    alias="suspicious_validation.min_epoch"),
          Threshold("z", 2.0, "tb_nndebug: binomial standard error of the validation accuracy, "
                    "sqrt(p(1-p)/n); a difference under 2 SE (95 %) is sampling noise",
                    "standard errors the difference must exceed"),
          Threshold("min_samples", 100, "tb_nndebug: below 100 samples one sample moves the "
                    "accuracy by > 1 % and the SE at p = 0.9 is > 3 %", "fewest validation "
                    "samples the rule judges"),
          Threshold("dropout_min_epoch", 5, "tb_nndebug: with dropout the training accuracy is "
                    "measured on the thinned network, and lags most in the first epochs",
                    "first epoch judged for models with dropout/noise layers")])
def suspicious_validation(R, T):
    t, hist, step = R.training()
    key = acc_key(hist)
    if t is None or not key or ("val_" + key) not in hist:
        return
    tr = [num(v) for v in series(hist, key)]
    va = [num(v) for v in series(hist, "val_" + key)]
    last = next(((a, b, i) for i, (a, b) in reversed(list(enumerate(zip(tr, va))))
                 if a is not None and b is not None), None)
    chance = R.chance_level()
    if not last or last[2] < T["min_epoch"] - 1 or last[1] <= last[0] + T["gap"]:
        return
    if chance is not None and last[0] <= chance + T[_UNDER + "margin"] * (1 - chance):
        return  # near chance: underfitting's to explain
    c = R.checks()
    stochastic = (c["value"].get("stochastic_layers") or []) if c else []
    stochastic = list(stochastic) if isinstance(stochastic, list) else []
    if stochastic and last[2] < T["dropout_min_epoch"] - 1:
        return  # train accuracy measured with dropout on, early: expected to lag
    n = validation_size(R)
    ev = {"train_accuracy": last[0], "val_accuracy": last[1], "epoch": R.epoch_at(last[2]),
          "stochastic_layers": stochastic, "n_val": n, "min_samples": int(T["min_samples"])}
    small = False
    if n is not None:
        se, need = _noise(last[1], last[1] - last[0], n, T["z"])
        ev.update(standard_error=se, n_needed=max(need or 0, int(T["min_samples"])))
        small = n < T["min_samples"] or last[1] - last[0] <= T["z"] * se
    if small:  # too few validation samples to tell this difference from noise
        yield Found(
            "info", f"Validation accuracy {last[1]:.1%} is above training accuracy "
            f"{last[0]:.1%}, but {n} validation samples cannot tell this from noise", ev,
            f"Use a validation split of at least {ev['n_needed']} samples to judge a "
            f"{last[1] - last[0]:.0%} difference (2 binomial standard errors; "
            f"{ev['standard_error']:.1%} here).",
            step)
        return
    # dropout/noise layers alone can explain it; an unknown size cannot be judged: info
    yield Found(
        "info" if stochastic or n is None else "warning",
        f"Validation accuracy {last[1]:.1%} is well above training accuracy {last[0]:.1%}"
        + (f" ({n} validation samples)" if n is not None else ""),
        ev,
        "Check the split: validation samples duplicated from training, an easier or "
        "leaked validation set, or heavy train-time regularisation (dropout, "
        "augmentation) can explain it."
        + ("" if n is not None else " (The validation set's size is unknown, so whether this "
           "is more than sampling noise could not be judged: pass validation_data to the "
           "callback.)"),
        step)

"""Fitting and generalising: over- and underfitting, and a validation set that looks wrong."""
from __future__ import annotations

import math

from ..registry import Found, Threshold, rule
from ..view import acc_key, num, series

_UNDER = "training.underfitting."


@rule("training.overfitting", severities=("warning",), panel="training", order=160,
      fires_when="val loss 10 % above its best, or 3× the train loss after it stalled",
      causes=("capacity.oversized",),
      thresholds=[
          Threshold("rise", 0.1, "tb_nndebug: val loss 10 % above its best (UMLAUT: any rise)",
                    "relative rise of the validation loss over its best",
                    alias="overfitting.rise"),
          Threshold("patience", 2, "tb_nndebug: the rise has lasted 2 epochs since the best",
                    "epochs since the best validation loss", alias="overfitting.patience"),
          Threshold("gap", 3.0, "tb_nndebug: (val - train)/train loss > 3 once val loss stopped "
                    "improving (SageMaker warns at 0.1, which every healthy run passes)",
                    "(val - train) / train loss that is a gap", alias="overfitting.gap")])
def overfitting(R, T):
    t, hist, step = R.training()
    if t is None:
        return
    pairs = [(i, num(a), num(b)) for i, (a, b) in
             enumerate(zip(series(hist, "loss"), series(hist, "val_loss")))]
    pairs = [(i, a, b) for i, a, b in pairs if a is not None and b is not None]
    if len(pairs) < 3:
        return
    best_i, _, best_val = min(pairs, key=lambda p: p[2])
    last_i, last_train, last_val = pairs[-1]
    train_at_best = {i: a for i, a, _ in pairs}[best_i]
    rise = (last_val - best_val) / best_val if best_val > 0 else 0.0
    gap = (last_val - last_train) / last_train if last_train > 0 else math.inf
    stalled = last_i - best_i >= T["patience"] and last_train < train_at_best
    if not (stalled and (rise > T["rise"] or gap > T["gap"])):
        return
    title = (f"Validation loss rose {rise:.0%} since epoch {best_i} while training loss fell"
             if rise > T["rise"] else
             f"Validation loss stopped improving at epoch {best_i} and is "
             f"{last_val / max(last_train, 1e-12):.0f}× the training loss")
    yield Found(
        "warning", title,
        {"best_epoch": best_i, "best_val_loss": best_val, "val_loss": last_val,
         "train_loss": last_train, "train_loss_at_best": train_at_best, "gap": gap},
        "Stop at the best epoch (keras.callbacks.EarlyStopping(restore_best_weights="
        "True)) and regularise (dropout, weight decay, augmentation) or get more data: "
        "the model is fitting noise in the training set.",
        step)


@rule("training.underfitting", severities=("warning",), panel="training", order=170,
      fires_when="train accuracy within 10 % of chance (majority share)",
      causes=("training.labels_out_of_range", "training.logits_mismatch", "model.linear_hidden",
              "training.dropout_rate_high", "data.not_normalized", "capacity.too_small",
              "balance.imbalanced", "training.vanishing_gradients", "training.lr_too_high",
              "training.dead_units", "training.lr_too_low"),
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
    key = acc_key(hist)
    acc = [a for a in (num(v) for v in series(hist, key)) if a is not None] if key else []
    chance = R.chance_level()
    if not acc or chance is None:
        return
    planned = num(t["value"].get("epochs_planned"))
    n_epochs = len(series(hist, "loss")) or len(acc)
    enough = n_epochs >= 2 and (planned is None or n_epochs >= T["after"] * planned)
    limit = chance + T["margin"] * (1 - chance)
    if enough and max(acc) <= limit:
        yield Found(
            "warning", f"Training accuracy {max(acc):.1%} is near chance ({chance:.1%})",
            {"train_accuracy": max(acc), "chance": chance, "limit": limit, "epochs": n_epochs},
            "The model does not even fit the training data: check the learning rate, the "
            "loss/output pairing and the labels first, then grow the model.",
            step)


@rule("training.suspicious_validation", severities=("warning", "info"), panel="training",
      order=180,
      fires_when="val accuracy > train accuracy + 0.05 from epoch 3 (info with dropout/noise "
                 "layers)",
      causes=("training.dropout_at_inference",),
      thresholds=[
          Threshold("gap", 0.05, "UMLAUT: val accuracy > train accuracy + 0.05",
                    "validation minus training accuracy that is suspicious",
                    alias="suspicious_validation.gap"),
          Threshold("min_epoch", 3, "UMLAUT: from epoch 3 on", "first epoch judged",
                    alias="suspicious_validation.min_epoch")])
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
    # train accuracy is measured with dropout/noise on: that alone can explain it
    yield Found(
        "info" if stochastic else "warning",
        f"Validation accuracy {last[1]:.1%} is well above training accuracy {last[0]:.1%}",
        {"train_accuracy": last[0], "val_accuracy": last[1], "epoch": last[2],
         "stochastic_layers": list(stochastic) if isinstance(stochastic, list) else []},
        "Check the split: validation samples duplicated from training, an easier or "
        "leaked validation set, or heavy train-time regularisation (dropout, "
        "augmentation) can explain it.",
        step)

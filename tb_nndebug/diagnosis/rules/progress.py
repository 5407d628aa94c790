"""Whether training makes progress at all, and whether it was given the steps to."""
from __future__ import annotations

import itertools
from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num, series, train_accuracies

_NOT_LEARNING = "training.not_learning."


def _no_gradient(doc) -> bool:
    """Every gradient norm exactly 0 (or absent) and the weights did not move this epoch."""
    norms = [g for g in series(doc, "grad_norms") if isinstance(g, Mapping)]
    if not norms or any(num(g.get("norm")) not in (None, 0.0) for g in norms):
        return False
    total = num(doc.get("grad_norm_total"))
    return (total is None or total == 0.0) and num(doc.get("weight_update_ratio")) == 0.0


def _frozen(R, doc, loss) -> bool:
    """No trainable weight at all: the model record says 0 trainable parameters, or no layer
    has a trainable variable and the loss has not changed by a single bit."""
    m = R.latest("model")
    if m is not None and num(m["value"].get("trainable_params")) == 0:
        return True
    vals = [num(v) for v in loss]
    return doc.get("grad_norms") == [] and len(vals) >= 2 and None not in vals \
        and len(set(vals)) == 1


def no_gradient(R, T) -> dict | None:
    """Evidence that no gradient reaches the weights (``training.not_learning``), or None.

    Shared with ``training.lr_too_low``: a larger step cannot move weights that get no
    gradient, so the two never fire together.
    """
    t, hist, step = R.training()
    if t is None:
        return None
    loss = series(hist, "loss")
    frozen = _frozen(R, t["value"], loss)
    if not frozen and not _no_gradient(t["value"]):
        return None
    # a NaN loss is lr_too_high's (its gradients are not "zero"); text or objects in it
    # make it unreadable
    if not loss or any(num(v) is None for v in loss) or t["value"].get("probe_loss_finite") \
            is False:
        return None
    if float(loss[-1]) <= T[_NOT_LEARNING + "loss_floor"]:
        return None  # nothing left to learn: zero gradients there are convergence
    epochs = sorted({e["step"] for e in R.entries("training")
                     if e["step"] is not None and _no_gradient(e["value"])})
    since = epochs[-1] if epochs else step
    while since - 1 in epochs:
        since -= 1
    return {"grad_norms": [{"layer": g.get("layer"), "norm": num(g.get("norm"))}
                           for g in series(t["value"], "grad_norms")
                           if isinstance(g, Mapping)],
            "trainable_weights": 0 if frozen else None,
            "grad_norm_total": num(t["value"].get("grad_norm_total")),
            "weight_update_ratio": 0.0, "loss": [float(v) for v in loss[-5:]],
            "since_epoch": since, "step": step}


@rule("training.not_learning", severities=("error",), panel="training", order=145,
      fires_when="every gradient norm exactly 0 (or none) and a weight update ratio of 0, "
                 "or no trainable weight at all, with a finite loss above 1e-6",
      causes=("model.output_activation", "training.loss_mismatch", "model.initialisation",
              "training.lr_too_high", "training.dead_units"),
      thresholds=[Threshold("loss_floor", 1e-06, "tb_nndebug: a loss at or below 1e-6 has "
                            "nothing left to learn; zero gradients there are convergence",
                            "loss below which zero gradients are not a fault")])
def not_learning(R, T):
    ev = no_gradient(R, T)
    if ev is None:
        return
    step = ev.pop("step")
    yield Found(
        "error",
        "The model has no trainable weights: fit cannot change it"
        if ev["trainable_weights"] == 0 else
        f"No gradient reaches the weights (every gradient norm 0, weights unchanged since "
        f"epoch {ev['since_epoch']})",
        ev,
        "Find what cuts the gradient: a saturated or constant output (softmax on one unit, a "
        "sigmoid/ReLU output stuck at its flat end, a loss that is constant such as "
        "categorical cross-entropy on one unit), a dead ReLU layer, or a detached graph "
        "(a stop_gradient, a numpy/`.numpy()` round trip, `trainable = False` on the model or "
        "its layers, e.g. a base model left frozen). No learning "
        "rate can fix it: the optimiser has nothing to follow.",
        step)


def _falls(values):
    """Relative fall of each epoch against the one before (positive = lower)."""
    return [(a - b) / abs(a) for a, b in itertools.pairwise(values) if a]


def _progress_facts(R):
    """``(training document, step, finite losses, accuracies)``, or None before the last
    planned epoch (a run stopped early by a callback was not cut short)."""
    t, hist, step = R.training()
    if t is None:
        return None
    doc = t["value"]
    planned, epoch = num(doc.get("epochs_planned")), num(doc.get("epoch"))
    loss = [num(v) for v in series(hist, "loss")]
    if planned is None or epoch is None or epoch < planned - 1 or len(loss) < 2 \
            or any(v is None for v in loss):
        return None
    accs = train_accuracies(hist)
    return doc, hist, step, loss, accs


@rule("training.too_few_epochs", severities=("warning", "info"), panel="training", order=165,
      fires_when="at the last planned epoch the loss still fell ≥ 10 % per epoch, accuracy "
                 "still rose and is < 90 % of the way from chance (warning: ≥ 25 % per epoch "
                 "or accuracy + 5 points per epoch, and < half-way)",
      thresholds=[
          Threshold("fall", 0.1, "tb_nndebug: a loss still falling ≥ 10 % an epoch has not "
                    "converged (AUTOTRAINER judges convergence on the loss trend; DeepCrime "
                    "mutates the epoch count)", "relative fall per epoch that is still steep"),
          Threshold("strong_fall", 0.25, "tb_nndebug: ≥ 25 % an epoch: a few more epochs "
                    "would cut the loss by half", "fall per epoch that makes it a warning"),
          Threshold("acc_rise", 0.05, "tb_nndebug: accuracy still rising ≥ 5 points an epoch "
                    "at the end", "accuracy gain per epoch that makes a steep fall a warning"),
          Threshold("reach", 0.9, "tb_nndebug: accuracy under 90 % of the way from chance to "
                    "perfect is far from what the model can reach", "share of the way from "
                    "chance to perfect accuracy that counts as reached"),
          Threshold("warn_reach", 0.5, "tb_nndebug: under half-way from chance (the "
                    "lr_too_low 'already good' mark)", "share of the way below which a steep "
                    "fall is a warning"),
          Threshold("last", 2, "tb_nndebug: the trend of the last 2 epochs (the epoch-0 "
                    "average, taken while the weights change most, is left out when there "
                    "are more)", "epoch-to-epoch falls averaged")])
def too_few_epochs(R, T):
    facts = _progress_facts(R)
    if facts is None:
        return
    doc, hist, step, loss, accs = facts
    falls = _falls(loss[1:] if len(loss) > 2 else loss)[-int(T["last"]):]
    val = [num(v) for v in series(hist, "val_loss")]
    val_falls = _falls([v for v in val if v is not None])[-1:]
    if not falls or min(falls) < T["fall"] or (val_falls and val_falls[0] <= 0):
        return  # flattened, or validation loss no longer falls: more epochs would not help
    chance = R.chance_level()
    share = None
    if accs:  # unknown chance counts as 0: the share is then over-, never under-estimated
        base = chance if chance is not None and chance < 1 else 0.0
        share = (max(accs) - base) / (1 - base)
    if share is not None and share >= T["reach"]:
        return
    if accs and len(accs) > 1 and accs[-1] <= accs[-1 - min(int(T["last"]), len(accs) - 1)]:
        return  # accuracy no longer rises: more of the same epochs would not help
    k = min(int(T["last"]), len(accs) - 1) if accs else 0
    acc_rise = (accs[-1] - accs[-1 - k]) / k if k else None
    strong = (min(falls) >= T["strong_fall"] or (acc_rise or 0) >= T["acc_rise"]) \
        and share is not None and share < T["warn_reach"]
    yield Found(
        "warning" if strong else "info",
        f"Stopped while the loss still falls {min(falls):.0%}+ per epoch "
        f"(after {len(loss)} epochs)",
        {"epochs": len(loss), "epochs_planned": num(doc.get("epochs_planned")),
         "recent_falls": falls, "loss": loss[-4:], "train_accuracy": max(accs) if accs else None,
         "chance": chance, "share_of_reach": share, "val_loss_falls": val_falls,
         "accuracy_rise_per_epoch": acc_rise},
        "Train for more epochs (with keras.callbacks.EarlyStopping(restore_best_weights=True) "
        "on the validation loss to stop at the right time): the loss was still dropping "
        "steeply when training ended, so the model is not yet as good as it can get.",
        step)


@rule("training.batch_too_small", severities=("warning", "info"), panel="training", order=115,
      fires_when="batch size ≤ 2 with the loss rising > 5 % in an epoch (warning), else info",
      thresholds=[
          Threshold("max_batch", 2, "tb_nndebug: 1–2 samples per step make each gradient one "
                    "sample's (Keras docs: fit's default batch_size is 32; DeepCrime mutates "
                    "the batch size)", "largest batch size that is very small"),
          Threshold("rise", 0.05, "tb_nndebug: an epoch whose loss rises > 5 % is a swing (as "
                    "training.lr_too_high)", "relative rise of the loss that is a swing")])
def batch_too_small(R, T):
    c = R.checks()
    batch = num(c["value"].get("batch_size")) if c else None
    if batch is None or batch < 1 or batch > T["max_batch"]:
        return
    t, hist, step = R.training()
    loss = [num(v) for v in series(hist, "loss")]
    rises = [-f for f in _falls([v for v in loss if v is not None]) if -f > T["rise"]]
    ev = {"batch_size": int(batch), "steps_per_epoch": num(c["value"].get("steps_per_epoch")),
          "loss": [v for v in loss[-6:]], "rises": len(rises)}
    oscillates = len(loss) >= 3 and bool(rises)
    yield Found(
        "warning" if oscillates else "info",
        f"Batch size {int(batch)}" + (f": the loss rose in {len(rises)} epochs"
                                      if oscillates else ""),
        ev,
        "Use a batch of 16–128 (Keras's default is 32) and scale the learning rate with it: "
        f"with {int(batch)} sample{'s' if batch > 1 else ''} per step each update follows "
        "one sample's gradient, so the loss jumps around, an epoch takes many slow steps, "
        "and BatchNormalization cannot estimate batch statistics.",
        step if t is not None else c["step"])

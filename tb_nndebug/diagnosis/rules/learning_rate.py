"""The learning rate, read off the loss curve (AUTOTRAINER's and UMLAUT's checks)."""
from __future__ import annotations

import itertools

from ..registry import Found, Threshold, rule
from ..view import acc_key, is_nonfinite, num, series

_HIGH_ADVICE = ("Lower the learning rate about 10× (or add gradient clipping / a warm-up): "
                "steps this large overshoot the minimum, so the loss grows or bounces "
                "instead of falling.")
_HIGH = "training.lr_too_high."


def _loss_facts(R):
    """``(training document, history, step, losses, initial loss, evidence)``."""
    t, hist, step = R.training()
    doc = t["value"]
    loss = series(hist, "loss")
    c = R.checks()
    initial = num(c["value"].get("initial_loss")) if c else None
    ev = {"learning_rate": num(doc.get("learning_rate")), "loss": loss[-10:],
          "initial_loss": initial, "probe_loss": num(doc.get("probe_loss"))}
    return doc, hist, step, loss, initial, ev


@rule("training.lr_too_high", severities=("error", "warning"), panel="training", order=120,
      fires_when="loss NaN/Inf or diverging (error); oscillating (warning)",
      causes=("training.labels_out_of_range", "training.logits_mismatch", "data.not_normalized"),
      thresholds=[
          Threshold("diverge_ratio", 1.1, "tb_nndebug: training loss 10 % above the untrained "
                    "loss (AUTOTRAINER: bad loss)", "loss / untrained loss that is diverging",
                    alias="lr_too_high.diverge_ratio"),
          Threshold("loss_max", 1000.0, "AUTOTRAINER: loss >= 1e3 is a bad loss",
                    "a loss this large counts as diverging", alias="lr_too_high.loss_max"),
          Threshold("rise", 0.05, "tb_nndebug: an epoch whose loss rises > 5 % counts as a swing",
                    "relative rise of the loss that counts as a swing", alias="lr_too_high.rise"),
          Threshold("swing_fraction", 0.3, "AUTOTRAINER unstable: swings in >= 20 % of epochs "
                    "(raised to 30 %, min 2)", "share of epochs with a swing that is unstable",
                    alias="lr_too_high.swing_fraction")])
def lr_too_high(R, T):
    found = _too_high(R, T)
    if found is not None:
        yield found


def _too_high(R, T):
    """lr_too_high's finding (None: the loss neither explodes, diverges nor oscillates).
    Shared with lr_too_low, which has nothing to say about such a loss."""
    if R.latest("training") is None:
        return None
    doc, _, step, loss, initial, ev = _loss_facts(R)
    bad = [i for i, v in enumerate(loss) if is_nonfinite(v)]
    if bad or doc.get("probe_loss_finite") is False:
        ev["nonfinite_epochs"] = bad
        where = f"at epoch {bad[0]}" if bad else "on the probe batch"
        return Found("error", f"Loss became NaN/Inf {where}", ev, _HIGH_ADVICE, step)
    finite = [float(v) for v in loss]
    if not finite:
        return None
    base = initial if initial is not None else finite[0]
    if finite[-1] >= T[_HIGH + "loss_max"] or (
            base > 0 and len(finite) >= 2 and finite[-1] > T[_HIGH + "diverge_ratio"] * base):
        return Found("error", f"Loss is diverging ({finite[-1]:.3g} now vs {base:.3g} "
                     f"{'before training' if initial is not None else 'at epoch 0'})",
                     ev, _HIGH_ADVICE, step)
    diffs = [(b - a) / abs(a) for a, b in itertools.pairwise(finite) if a != 0]
    swings = sum(1 for d in diffs if d > T[_HIGH + "rise"])
    if len(diffs) >= 3 and swings >= 2 and swings >= T[_HIGH + "swing_fraction"] * len(diffs):
        ev["rises"] = swings
        return Found("warning", f"Loss oscillates (rose in {swings} of {len(diffs)} epochs)",
                     ev, _HIGH_ADVICE, step)
    return None


def _tiny_rate(R, T):
    c = R.checks()
    lr = num(c["value"].get("learning_rate")) if c else None
    if lr is not None and 0 < lr < T["lr_min"]:
        yield Found(
            "warning", f"Learning rate {lr:g} is tiny", {"learning_rate": lr},
            "Start around 1e-3 for Adam or 1e-2 for SGD: with this step size the weights "
            "barely move.", c["step"])


def _loss_barely_moves(R, T):
    if R.latest("training") is None or _too_high(R, T) is not None:
        return
    doc, hist, step, loss, initial, ev = _loss_facts(R)
    early = [float(v) for v in loss][:int(T["window"])]
    ref = initial if initial is not None else (early[0] if len(early) >= 2 else None)
    if ref is None or ref <= 0 or len(early) < 2:
        return
    progress = (ref - min(early)) / ref
    key = acc_key(hist)
    accs = [a for a in (num(v) for v in series(hist, key)) if a is not None] if key else []
    chance = R.chance_level()
    already_good = bool(accs) and chance is not None and \
        max(accs) >= chance + T["good_fraction"] * (1 - chance)
    ev.update(progress=progress, weight_update_ratio=num(doc.get("weight_update_ratio")),
              already_good=already_good)
    # a loss that rose by more than the margin moved: too small a step is not its cause
    if -T["progress"] <= progress < T["progress"] and not already_good:
        yield Found(
            "warning", f"Loss barely moves ({progress:.2%} lower after {len(early)} epochs)", ev,
            "Raise the learning rate about 10× (Adam's default 1e-3 is a good start): "
            "the weights change so little per epoch that training would take "
            "far too long, if it gets anywhere.",
            step)


@rule("training.lr_too_low", severities=("warning",), panel="training", order=150,
      fires_when="loss moved < 1 % either way over the first 5 epochs (unless accuracy is "
                 "already half-way from chance to perfect); or lr < 1e-7",
      causes=("training.logits_mismatch", "training.dropout_at_inference",
              "training.vanishing_gradients"),
      thresholds=[
          Threshold("progress", 0.01, "tb_nndebug: loss fell < 1 % over the first epochs",
                    "relative fall of the loss over the window that is too little",
                    alias="lr_too_low.progress"),
          Threshold("window", 5, "tb_nndebug: 'early' = the first 5 epochs",
                    "epochs the fall is measured over", alias="lr_too_low.window"),
          Threshold("lr_min", 1e-07, "UMLAUT: learning rate below 1e-7",
                    "a learning rate below this is tiny", alias="lr_too_low.lr_min"),
          Threshold("good_fraction", 0.5, "tb_nndebug: a model already half-way from chance to "
                    "perfect accuracy (fine-tuning, resumed training) may barely move; not a "
                    "learning-rate bug", "share of the way from chance to perfect accuracy "
                    "past which a flat loss is fine", alias="lr_too_low.good_fraction")])
def lr_too_low(R, T):
    yield from _tiny_rate(R, T)
    yield from _loss_barely_moves(R, T)

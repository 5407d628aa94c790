"""The learning rate, read off the loss curve (AUTOTRAINER's and UMLAUT's checks)."""
from __future__ import annotations

import itertools

from ..registry import Found, Threshold, rule
from ..view import is_nonfinite, num, series, train_accuracies
from .progress import no_gradient

_HIGH_ADVICE = ("Lower the learning rate about 10× (or add gradient clipping / a warm-up): "
                "steps this large overshoot the minimum, so the loss grows or bounces "
                "instead of falling.")
_HIGH = "training.lr_too_high."


def _loss_facts(R):
    """``(training document, history, step, losses, initial loss, evidence)``."""
    t, hist, step = R.training()
    doc = t["value"]
    loss = series(hist, "loss")
    if not all(num(v) is not None or is_nonfinite(v) for v in loss):
        loss = []  # a loss history holding text or objects is unreadable: absent
    c = R.checks()
    initial = num(c["value"].get("initial_loss")) if c else None
    ev = {"learning_rate": num(doc.get("learning_rate")), "loss": loss[-10:],
          "initial_loss": initial, "probe_loss": num(doc.get("probe_loss"))}
    return doc, hist, step, loss, initial, ev


def _weighted(R) -> bool:
    """fit got class/sample weights: the Keras loss is weighted, the probe losses are not."""
    c = R.checks()
    return bool(c and c["value"].get("sample_weighted") is True)


def _falling(finite, initial, weighted):
    """Whether the Keras loss is below where it started (None: cannot tell yet). One epoch
    is compared with the untrained probe loss only when both are unweighted."""
    if len(finite) >= 2:
        return finite[-1] < finite[0]
    if initial is not None and not weighted:
        return finite[-1] < initial
    return None


def _diverging(T, doc, finite, initial, weighted, ev, epochs):
    """The title of a diverging loss, or None. Like is compared with like: with sample
    weights the Keras loss is never set against the unweighted untrained probe loss."""
    falling = _falling(finite, initial, weighted)
    ev.update(falling=falling, sample_weighted=weighted)
    last, ratio = finite[-1], T[_HIGH + "diverge_ratio"]
    if last >= T[_HIGH + "loss_max"] and falling is False:
        return f"Loss is diverging ({last:.3g} and not falling)"
    if initial is not None and initial > 0 and len(finite) >= 2:
        if not weighted and last > ratio * initial:
            return f"Loss is diverging ({last:.3g} now vs {initial:.3g} before training)"
        probe = num(doc.get("probe_loss"))
        if weighted and probe is not None and probe > ratio * initial and falling is False:
            ev["compared"] = "probe_loss"
            return (f"Loss is diverging (probe loss {probe:.3g} now vs {initial:.3g} before "
                    "training)")
    if (initial is None or weighted) and len(finite) >= 2 and finite[0] > 0 \
            and last > ratio * finite[0]:
        return (f"Loss is diverging ({last:.3g} now vs {finite[0]:.3g} at epoch "
                f"{_epoch(epochs, 0)})")
    return _unstable(T, finite, initial, weighted, ev, epochs)


def _epoch(epochs, i):
    """The Keras epoch of history entry ``i``."""
    return epochs[i] if i < len(epochs) else i


def _unstable(T, finite, initial, weighted, ev, epochs):
    """A first epoch far above the untrained loss, or a training loss that climbed back well
    above its best (the Keras losses among themselves, so weights and modes cancel): steps
    too large for the valley they are in."""
    if initial is not None and initial > 0 and not weighted \
            and finite[0] >= T[_HIGH + "overshoot"] * initial:
        ev["overshoot"] = finite[0] / initial
        return (f"The first epoch's loss {finite[0]:.3g} is {ev['overshoot']:.2g}× the untrained "
                f"loss {initial:.3g}: the first steps overshoot")
    best = min(range(len(finite) - 1), key=finite.__getitem__) if len(finite) >= 3 else None
    if best is not None and best <= len(finite) - 3 and finite[best] > 0 \
            and finite[-1] >= T[_HIGH + "rebound"] * finite[best]:
        ev["rebound"] = finite[-1] / finite[best]
        return (f"Loss climbed back to {finite[-1]:.3g}, {ev['rebound'] - 1:.0%} above its best "
                f"{finite[best]:.3g} (epoch {_epoch(epochs, best)})")
    return None


@rule("training.lr_too_high", severities=("error", "warning"), panel="training", order=120,
      fires_when="loss NaN/Inf, or ≥ 3× the untrained loss (error); diverging — 10 % above "
                 "the untrained loss, or ≥ 1e3 and not falling —, a first epoch 1.2× the untrained "
                 "loss, a loss back 25 % above its best, or oscillating (warning)",
      causes=("training.labels_out_of_range", "training.logits_mismatch", "data.not_normalized",
              "data.targets_not_scaled", "model.initialisation", "training.batch_too_small"),
      thresholds=[
          Threshold("diverge_ratio", 1.1, "tb_nndebug: training loss 10 % above the untrained "
                    "loss (AUTOTRAINER: bad loss)", "loss / untrained loss that is diverging",
                    alias="lr_too_high.diverge_ratio"),
          Threshold("loss_max", 1000.0, "AUTOTRAINER: loss >= 1e3 is a bad loss (here only "
                    "while it is not falling: unscaled regression targets give large falling "
                    "losses)", "a loss this large, not falling, counts as diverging",
                    alias="lr_too_high.loss_max"),
          Threshold("error_ratio", 3.0, "tb_nndebug: a loss 3× the untrained model's after "
                    "≥ 2 epochs — training made the model far worse than its random start, "
                    "which no correct run does (beyond what dropout or noise explain)",
                    "loss / untrained loss from which divergence is an error"),
          Threshold("overshoot", 1.2, "tb_nndebug: a first epoch averaging 20 % above the "
                    "untrained loss; on the 17 correct models of the precision corpus (dropout, "
                    "BatchNorm, augmentation included) epoch 0 averaged 0.26-0.92x the untrained "
                    "loss; weighted losses (class_weight, sample_weight) are not compared",
                    "epoch-0 loss / untrained loss that overshoots"),
          Threshold("rebound", 1.25, "tb_nndebug: a training loss back 25 % above its best of "
                    "≥ 2 epochs before (a sound run's training loss does not climb back)",
                    "last / best training loss that is unstable"),
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
    Shared with lr_too_low: the two are mutually exclusive."""
    if R.latest("training") is None:
        return None
    doc, _, step, loss, initial, ev = _loss_facts(R)
    bad = [i for i, v in enumerate(loss) if is_nonfinite(v)]
    if bad or doc.get("probe_loss_finite") is False:
        epochs = R.history_epochs()
        bad = [_epoch(epochs, i) for i in bad]
        ev["nonfinite_epochs"] = bad
        where = f"at epoch {bad[0]}" if bad else "on the probe batch"
        return Found("error", f"Loss became NaN/Inf {where}", ev, _HIGH_ADVICE, step)
    finite = [float(v) for v in loss]
    if not finite:
        return None
    weighted = _weighted(R)
    title = _diverging(T, doc, finite, initial, weighted, ev, R.history_epochs())
    if title is not None:
        # certain only when training left the model far worse than its random start
        ref = initial if initial is not None and initial > 0 and not weighted else None
        far = ref is not None and len(finite) >= 2 and finite[-1] >= T[_HIGH + "error_ratio"] * ref
        return Found("error" if far else "warning", title, ev, _HIGH_ADVICE, step)
    epochs = R.history_epochs()
    steps = itertools.pairwise(zip(epochs, finite)) if len(epochs) == len(finite) else (
        ((i, a), (i + 1, b)) for i, (a, b) in enumerate(itertools.pairwise(finite)))
    # consecutive epochs only: a long history's thinned early part is not epoch-to-epoch
    diffs = [(b - a) / abs(a) for (ea, a), (eb, b) in steps if a != 0 and eb == ea + 1]
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


def _probe_at(R, epoch):
    """The probe loss written after ``epoch`` (inference mode, the fixed probe batch)."""
    for e in R.entries("training"):
        if e["step"] == epoch:
            return num(e["value"].get("probe_loss"))
    return None


def _moves(R, T, finite, initial):
    """How far the loss moved over the first epochs, each measure comparing like with like:
    ``{"history": …, "probe": …}`` (relative change, the largest either way). The untrained
    probe loss is never set against the Keras losses at this scale: a 256-sample batch in
    inference mode differs from a full epoch in training mode by about 1 % on its own."""
    early = finite[:int(T["window"])]
    moved = {}
    if early[0] > 0:  # the Keras losses among themselves (same mode, same weighting)
        moved["history"] = max(abs(v - early[0]) for v in early) / early[0]
    t, _, step = R.training()
    probe = _probe_at(R, len(early) - 1)
    if probe is None and step is not None and step <= len(early) - 1:
        probe = num(t["value"].get("probe_loss"))  # the latest is still inside the window
    if initial is not None and initial > 0 and probe is not None:
        moved["probe"] = abs(initial - probe) / initial  # same batch, inference mode
    return moved


def _refuted(R, T, finite, initial, hist):
    """Later evidence that the loss does move: it has since fallen a lot, or accuracy is
    already well above chance."""
    fell = (finite[0] - min(finite)) / finite[0] if finite[0] > 0 else 0.0
    probe = num(R.training()[0]["value"].get("probe_loss"))
    if initial and probe is not None:
        fell = max(fell, (initial - probe) / initial)
    accs = train_accuracies(hist)
    chance = R.chance_level()
    good = bool(accs) and chance is not None and \
        max(accs) >= chance + T["good_fraction"] * (1 - chance)
    return fell, good, fell >= T["refuted_fall"] or good


def _loss_barely_moves(R, T):
    doc, hist, step, loss, initial, ev = _loss_facts(R)
    finite = [float(v) for v in loss]
    if len(finite) < 2:
        return
    moved = _moves(R, T, finite, initial)
    fell, already_good, refuted = _refuted(R, T, finite, initial, hist)
    progress = max(moved.values()) if moved else None
    ev.update(progress=progress, moved=moved, fallen_since=fell,
              weight_update_ratio=num(doc.get("weight_update_ratio")),
              already_good=already_good)
    # every like-with-like measure must agree: a loss that moved either way is not a tiny step
    if progress is not None and progress < T["progress"] and not refuted:
        n = min(len(finite), int(T["window"]))
        yield Found(
            "warning", f"Loss barely moves ({progress:.2%} after {n} epochs)", ev,
            "Raise the learning rate about 10× (Adam's default 1e-3 is a good start): "
            "the weights change so little per epoch that training would take "
            "far too long, if it gets anywhere.",
            step)


@rule("training.lr_too_low", severities=("warning",), panel="training", order=150,
      fires_when="loss moved < 1 % either way over the first 5 epochs by every like-with-like "
                 "measure, and has not since fallen by half (unless accuracy is already "
                 "half-way from chance to perfect); or lr < 1e-7. Never with lr_too_high or "
                 "not_learning",
      causes=("model.output_activation", "training.loss_mismatch", "training.logits_mismatch",
              "training.dropout_at_inference", "data.targets_not_scaled", "model.initialisation",
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
                    "past which a flat loss is fine", alias="lr_too_low.good_fraction"),
          Threshold("refuted_fall", 0.5, "tb_nndebug: a loss that has since halved learns at a "
                    "usable pace; the early flat stretch was a plateau (issue #14: one fell "
                    "95 % and was still told 'too low')", "fall of the loss since the first "
                    "epoch that withdraws the finding")])
def lr_too_low(R, T):
    if R.latest("training") is not None and (
            _too_high(R, T) is not None or no_gradient(R, T) is not None):
        return  # mutually exclusive: a diverging loss, or weights no step size can move
    yield from _tiny_rate(R, T)
    if R.latest("training") is not None:
        yield from _loss_barely_moves(R, T)

"""Capacity against the data's needs (paper §3.2; Friedland, Metere, Krell 2018).

The capacity verdict is an estimate from two heuristics (the network's
memory-equivalent capacity and the data's threshold count); the run itself is
stronger evidence. So the verdict is tempered by the latest ``training``
record (``docs/capacity-rules.md``, "Verdicts"):

- ``too_small`` is withdrawn to ``info`` once the network fits its training
  set (training accuracy within 10 % of the way from chance to perfect), and
  is a ``warning`` when the run confirms it (still short of that after enough
  epochs, and no longer rising) or, before such evidence, when the estimate
  is far below the requirement (under a quarter of it);
- ``oversized`` is a ``warning`` only when the run shows overfitting
  (``training.overfitting`` fires on the same records); otherwise ``info``,
  with the validation accuracy as evidence when there is one;
- on token ids (a model with an ``Embedding``) the data's requirement is
  counted on sums of ids, which order nothing: the verdict alone is ``info``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import acc_key, finite_series, fmt_bits, get, num, series

_SIZE_SOURCE = "paper §3.2 / Friedland"

#: Layer kinds that read sequences (token ids or time steps): no MLP advice for them.
SEQUENCE_KINDS = frozenset({
    "Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "RNN", "ConvLSTM1D",
    "Conv1D", "SeparableConv1D", "DepthwiseConv1D", "Conv1DTranspose", "MultiHeadAttention",
    "GroupQueryAttention", "Attention", "AdditiveAttention", "TextVectorization",
    "StringLookup", "IntegerLookup", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
})
#: Layer kinds that read token ids: the data's threshold count is taken on sums of ids.
ID_KINDS = frozenset({"Embedding", "TextVectorization", "StringLookup", "IntegerLookup"})


def verdict(R, T):
    """``(verdict, evidence, step)`` from the model and primary dataset records,
    or None when either is missing. ``verdict`` is ``too_small``, ``matched`` or
    ``oversized``, as ``measures.capacity_match`` decides it."""
    m = R.latest("model")
    d = R.primary_dataset()
    if m is None or d is None:
        return None
    bits = num(m["value"].get("bits"))
    expected = num(get(d["value"], "complexity", "expected_bits"))
    max_bits = num(get(d["value"], "complexity", "max_bits"))
    if bits is None or expected is None or max_bits is None:
        return None
    ratio = bits / expected if expected > 0 else math.inf
    if bits < T["capacity.too_small.ratio"] * expected:
        v = "too_small"
    elif bits > T["capacity.oversized.ratio"] * max_bits:
        v = "oversized"
    else:
        v = "matched"
    ev = {"model_bits": int(bits), "expected_bits": int(expected), "max_bits": int(max_bits),
          "ratio": ratio, "memorise_ratio": bits / max_bits if max_bits > 0 else None,
          "dataset": d["tag"], "model": m["tag"], "target_bits": int(expected),
          "input_shape": d["value"].get("input_shape"), "dim": d["value"].get("dim"),
          "n_classes": d["value"].get("n_classes")}
    return v, ev, m["step"]


def _when(R, T, name):
    """``(evidence, step)`` when the verdict is ``name``, else ``(None, None)``."""
    res = verdict(R, T)
    return (res[1], res[2]) if res is not None and res[0] == name else (None, None)


def _layer_kinds(model_doc: Mapping) -> list:
    layers = model_doc.get("layers") if isinstance(model_doc, Mapping) else None
    if not isinstance(layers, (list, tuple)):
        return []
    return sorted({str(layer["kind"]) for layer in layers
                   if isinstance(layer, Mapping) and layer.get("kind")})


def _sequence_advice(kinds: list) -> str:
    """What to resize in a model that reads sequences (ids or time steps)."""
    knobs = []
    if "Embedding" in kinds:
        knobs.append("the embedding size (Embedding output_dim)")
    if any(k in kinds for k in ("LSTM", "GRU", "SimpleRNN", "Bidirectional", "ConvLSTM1D")):
        knobs.append("the recurrent units")
    if any(k in kinds for k in ("MultiHeadAttention", "GroupQueryAttention")):
        knobs.append("the attention width (num_heads × key_dim) and the feed-forward units")
    if any(k.startswith(("Conv1D", "SeparableConv1D", "DepthwiseConv1D")) for k in kinds):
        knobs.append("the Conv1D filters")
    knobs = knobs or ["the units of the sequence layers"]
    return ("change " + ", ".join(knobs) + " and keep the architecture (the warehouse's "
            "MLP and CNN families do not read sequences)")


def _warehouse_hint(bits: int, ev: Mapping, kinds: list) -> str:
    """The warehouse call that builds a network like the user's (layer ``kinds``) at ``bits``,
    or what to resize when no warehouse family reads the model's input (sequences)."""
    if SEQUENCE_KINDS.intersection(kinds):
        return _sequence_advice(kinds)
    shape, k, dim = ev.get("input_shape"), ev.get("n_classes"), ev.get("dim")
    if isinstance(shape, (list, tuple)) and len(shape) != 3 and isinstance(dim, numbers.Integral):
        shape = [dim]  # the warehouse takes flat (d,) or image (H, W, C) inputs
    if isinstance(shape, (list, tuple)) and shape and isinstance(k, numbers.Integral):
        args = f"{tuple(shape)!r}, {k}, "
    else:
        args = "input_shape, n_classes, "
    family = "mlp"
    if isinstance(shape, (list, tuple)) and len(shape) == 3 \
            and any(str(kind).startswith("Conv") for kind in kinds):
        family = "resnet_like" if "Add" in kinds else "alexnet_like"
    return (f"tb_nndebug.models.{family}({args}target_bits={bits}) builds a network of that "
            "size")


def _kinds(R) -> list:
    m = R.latest("model")
    return _layer_kinds(m["value"]) if m is not None else []


def _hint(R, ev):
    return _warehouse_hint(ev["expected_bits"], ev, _kinds(R))


def _run_evidence(R, T, share_key):
    """What the latest training record says: accuracies, the "near perfect" limit
    (``chance + share * (1 - chance)``), epochs, and whether enough were run."""
    t, hist, step = R.training()
    if t is None:
        return None
    key = acc_key(hist)
    train = finite_series(hist, key)
    val = finite_series(hist, "val_" + key) if key else []
    chance = R.chance_level()
    n_epochs = R.epochs_trained() or len(train)
    planned = num(t["value"].get("epochs_planned"))
    enough = n_epochs >= 2 and (planned is None or n_epochs >= T["training.underfitting.after"]
                                * planned)
    limit = None if chance is None else chance + T[share_key] * (1 - chance)
    plateau = None
    if limit is not None and len(train) >= 3:
        before = max(train[:-2])
        gain = max(train[-2:]) - before
        plateau = bool(gain < T["capacity.too_small.plateau"] * max(limit - before, 0.0))
        losses = [v for v in (num(x) for x in series(hist, "loss")) if v is not None]
        if plateau and len(losses) >= 3 and losses[-3] > 0:
            plateau = (losses[-3] - losses[-1]) / losses[-3] < T["capacity.too_small.loss_fall"]
    return {"train_accuracy": train[-1] if train else None,
            "plateau": plateau,
            "best_train_accuracy": max(train) if train else None,
            "val_accuracy": val[-1] if val else None, "chance": chance, "limit": limit,
            "epochs": n_epochs, "enough_epochs": enough, "step": step}


def _pct(v) -> str:
    return f"{v:.1%}"


@rule("capacity.too_small", severities=("warning", "info"), panel="capacity", order=70,
      fires_when="model bits < dataset `expected_bits`: warning when the run confirms it "
                 "(train accuracy short of near-perfect after enough epochs, and no longer "
                 "rising) or, before any "
                 "run evidence, below `strong` × the need; info when the network fits its "
                 "training set, on token ids, or on the estimate alone",
      thresholds=[
          Threshold("ratio", 1.0, (
              f"{_SIZE_SOURCE}: model bits below the data's expected bits cannot generalise"),
              "model bits / expected bits below which the model is too small",
              alias="capacity.too_small_ratio"),
          Threshold("fit_share", 0.9, (
              "tb_nndebug: the mirror of training.underfitting.margin (within 10 % of the way "
              "from chance is underfitting): within 10 % of the way from perfect, the network "
              "fits its training set; mnist_convnet at 96 % train accuracy (chance 11 %) is "
              "above it, the bug zoo's one-unit bottleneck (20 %) far below"),
              "share of the way from chance to perfect train accuracy from which the "
              "network fits its training set"),
          Threshold("loss_fall", 0.05, (
              "tb_nndebug: a loss still falling 5 % or more over the last 2 epochs is a run "
              "that has not converged, not evidence of a model too small to fit"),
              "relative fall of the training loss over the last 2 epochs below which the run "
              "has levelled off"),
          Threshold("plateau", 0.1, (
              "tb_nndebug: a network that is too small stops gaining; one still learning "
              "is not confirmed too small: the last 2 epochs gained less than 10 % of what "
              "was left to the fit limit"),
              "share of the remaining way to the fit limit the last 2 epochs must gain for "
              "the accuracy to be still rising"),
          Threshold("strong", 0.25, (
              "tb_nndebug: two doublings short of the need; correct Keras examples measured "
              "0.5-0.6 (mnist_convnet 0.58, trains to 99 %), the bug zoo's one-unit "
              "bottleneck on digits about 0.1"),
              "model bits / expected bits below which the estimate alone is a warning")])
def too_small(R, T):
    ev, step = _when(R, T, "too_small")
    if ev is None:
        return
    bits, expected = ev["model_bits"], ev["expected_bits"]
    kinds = _kinds(R)
    ids = bool(ID_KINDS.intersection(kinds))
    run = _run_evidence(R, T, "fit_share")
    best = run["best_train_accuracy"] if run else None
    limit = run["limit"] if run else None
    grow = (f"Grow to at least {fmt_bits(expected)} bits: below the data's requirement the "
            f"network cannot place all the decision thresholds. ")
    if run is not None:
        ev = dict(ev, run=run)
    if best is not None and limit is not None and best >= limit:
        ev["tempered_by"] = (f"train accuracy {_pct(best)} ≥ {_pct(limit)} (within "
                             f"{1 - T['fit_share']:.0%} of the way from chance to perfect): "
                             "the network fits its training set")
        yield Found(
            "info",
            f"Capacity estimate ({fmt_bits(bits)} bits) is below the data's "
            f"{fmt_bits(expected)}, but the network fits its training set "
            f"(train accuracy {_pct(best)})",
            ev,
            "Nothing to change for capacity: the estimate is a heuristic and the run shows the "
            "network has the capacity the training set needs. If validation accuracy lags, "
            "look at generalisation (regularisation, more data), not size.",
            run["step"] if run["step"] is not None else step)
        return
    confirmed = (best is not None and limit is not None and run["enough_epochs"]
                 and run["plateau"])
    if confirmed:
        ev["confirmed_by"] = (f"train accuracy {_pct(best)} < {_pct(limit)} after "
                              f"{run['epochs']} epochs and no longer rising: the network "
                              "does not fit its training set")
        severity = "warning"
        title = (f"Model is too small for the data ({fmt_bits(bits)} bits, data needs "
                 f"{fmt_bits(expected)}) and does not fit its training set "
                 f"(train accuracy {_pct(best)})")
        why = "so it underfits: the run confirms it. "
    else:
        strong = ev["ratio"] < T["strong"]
        severity = "warning" if strong and not ids else "info"
        ev["estimate_only"] = True
        if ids:
            ev["not_confirmed"] = ("the data's requirement is counted on sums of token ids, "
                                   "which order nothing; only the run can confirm it")
        title = (f"Model may be too small for the data ({fmt_bits(bits)} bits, data needs "
                 f"{fmt_bits(expected)}; an estimate, not yet confirmed by training)")
        why = ("Watch the training accuracy: if it stays short of near-perfect, grow the "
               "model. ")
    hint = _hint(R, ev)
    yield Found(severity, title, ev, f"{grow}{why}{hint[0].upper()}{hint[1:]}.",
                run["step"] if confirmed and run["step"] is not None else step)


def _overfitting(R, T):
    """``training.overfitting``'s findings on the same records (the run's overfitting signs)."""
    from ..registry import get_rule

    values = {k: T[k] for k in T}
    return get_rule("training.overfitting").run(R, values)


@rule("capacity.oversized", severities=("warning", "info"), panel="capacity", order=80,
      fires_when="model bits > `max_bits`: warning when the run overfits "
                 "(`training.overfitting` fires), else info (the estimate alone, or a high "
                 "validation accuracy without overfitting)",
      thresholds=[
          Threshold("ratio", 1.0, (
              "Friedland: above max_bits (a lookup table of the thresholds) a model can "
              "memorise every label"), "model bits / max bits above which the model can memorise",
              alias="capacity.oversized_ratio"),
          Threshold("val_share", 0.9, (
              "tb_nndebug: validation accuracy within 10 % of the way from chance to perfect "
              "(the same margin as training.underfitting), e.g. >= 91 % on 10 balanced "
              "classes, >= 95 % on two"),
              "share of the way from chance to perfect validation accuracy that is reported "
              "as generalising")])
def oversized(R, T):
    ev, step = _when(R, T, "oversized")
    if ev is None:
        return
    bits, expected, max_bits = ev["model_bits"], ev["expected_bits"], ev["max_bits"]
    over = ev["memorise_ratio"] or 0.0
    run = _run_evidence(R, T, "val_share")
    if run is not None:
        ev = dict(ev, run=run)
    overfit = _overfitting(R, T)
    shrink = (f"Shrink to about {fmt_bits(expected)} bits: the data needs "
              f"~{fmt_bits(expected)} bits to generalise, and with {fmt_bits(bits)} bits the "
              f"network can store every label instead of learning the rule, so it can overfit "
              f"and is easier to fool. Cut units in the first layers (they hold most bits); "
              f"{_hint(R, ev)}.")
    title = (f"Model can memorise the training set {over:.1f}× over "
             f"({fmt_bits(bits)} bits vs {fmt_bits(max_bits)} to memorise)")
    if overfit:
        ev["confirmed_by"] = f"training.overfitting: {overfit[0].title}"
        yield Found("warning", title + " and overfits", ev, shrink, overfit[0].step)
        return
    val, limit = (run["val_accuracy"], run["limit"]) if run else (None, None)
    if val is not None and limit is not None and val >= limit:
        ev["tempered_by"] = (f"validation accuracy {_pct(val)} ≥ {_pct(limit)} with no sign "
                             "of overfitting (validation loss not rising)")
        yield Found(
            "info", title + f", yet generalises (validation accuracy {_pct(val)})", ev,
            "Nothing to fix: the network could memorise the training set but the run shows "
            f"it generalises. A smaller network (about {fmt_bits(expected)} bits) may train "
            "faster and resist adversarial examples better.", run["step"])
        return
    ev["estimate_only"] = True
    yield Found("info", title + " (an estimate; no sign of overfitting yet)", ev,
                "Watch the validation loss: if it rises while the training loss falls, "
                + shrink[0].lower() + shrink[1:], step)


@rule("capacity.matched", severities=("ok",), panel="capacity", order=230,
      fires_when="`expected_bits` ≤ model bits ≤ `max_bits`")
def matched(R, T):
    ev, step = _when(R, T, "matched")
    if ev is None:
        return
    bits, expected, max_bits = ev["model_bits"], ev["expected_bits"], ev["max_bits"]
    yield Found(
        "ok",
        f"Capacity matches the data ({fmt_bits(bits)} bits, {ev['ratio']:.1f}× the "
        f"{fmt_bits(expected)} needed)",
        ev,
        f"Keep the size: between {fmt_bits(expected)} (needed) and {fmt_bits(max_bits)} "
        f"(memorises) bits. Nearer the lower end generalises better.",
        step)

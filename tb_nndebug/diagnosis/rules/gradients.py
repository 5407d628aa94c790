"""Per-layer gradient norms on the probe batch (AUTOTRAINER, SageMaker, DeepDiagnosis)."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num, series

_VANISH = "training.vanishing_gradients."


def _nonfinite(g) -> bool:
    """A NaN/Inf gradient norm. Records before per-layer grouping wrote null for it;
    now null alone means no gradient reaches the layer, and ``nonfinite`` marks NaN/Inf."""
    if "weighted" not in g:
        return num(g.get("norm")) is None
    return g.get("nonfinite") is True


def gradient_profile(R, T):
    """``(evidence, first/last ratio or None, vanishing?, step)`` of the latest
    training record's gradient norms; None without norms."""
    t, _, step = R.training()
    if t is None:
        return None
    every = [g for g in series(t["value"], "grad_norms") if isinstance(g, Mapping)]
    # layers of weights (kernels, tables) only: a BatchNorm's scale is not "the first layer";
    # a layer the loss does not reach (norm None, no "nonfinite") has nothing to compare
    norms = [g for g in every if g.get("weighted", True) is not False
             and (num(g.get("norm")) is not None or _nonfinite(g))]
    if not norms:
        return None
    first, last = num(norms[0].get("norm")), num(norms[-1].get("norm"))
    ev = {"grad_norms": [{"layer": g.get("layer"), "norm": num(g.get("norm"))} for g in norms],
          "first": first, "last": last}
    nonfinite = [str(g.get("layer")) for g in every if _nonfinite(g)]
    if nonfinite:
        ev["nonfinite_layers"] = nonfinite
        return ev, None, False, step
    ratio = None
    vanishing = False
    if len(norms) >= 2 and first is not None and last:
        ratio = first / last
        ev["ratio"] = ratio
        # exactly 0 is no gradient at all (dead units, a detached input), not a vanishing one
        vanishing = 0 < first and ratio < T[_VANISH + "ratio"] and first < T[_VANISH + "first"]
    return ev, ratio, vanishing, step


@rule("training.vanishing_gradients", severities=("warning",), panel="layers", order=110,
      fires_when="first/last gradient norm < 1e-3 and first < 1e-4",
      thresholds=[
          Threshold("ratio", 0.001, "AUTOTRAINER: |g_first|/|g_last| < 1e-3",
                    "first / last layer gradient norm below which gradients vanish",
                    alias="gradients.vanishing_ratio"),
          Threshold("first", 0.0001, "AUTOTRAINER: and |g_first| < 1e-4",
                    "first layer's gradient norm below which it gets no signal",
                    alias="gradients.vanishing_first")])
def vanishing_gradients(R, T):
    prof = gradient_profile(R, T)
    if prof is None or not prof[2]:
        return
    ev, ratio, _, step = prof
    yield Found(
        "warning", f"Gradients vanish towards the input (first/last layer {ratio:.1e})", ev,
        "Use ReLU-family activations (or SELU) instead of stacked sigmoid/tanh, add "
        "BatchNormalization or residual connections, and He initialisation: the first "
        "layers get almost no gradient, so they stay at their random start.",
        step)


@rule("training.exploding_gradients", severities=("error", "warning"), panel="layers", order=130,
      fires_when="non-finite (error); first/last > 70 or a norm > 1e3",
      causes=("training.logits_mismatch", "data.not_normalized", "data.targets_not_scaled",
              "training.lr_too_high"),
      thresholds=[
          Threshold("ratio", 70.0, "AUTOTRAINER: |g_first|/|g_last| > 70",
                    "first / last layer gradient norm above which gradients explode",
                    alias="gradients.exploding_ratio"),
          Threshold("norm", 1000.0, "tb_nndebug: a layer's kernel gradient norm > 1e3",
                    "a gradient norm this large explodes", alias="gradients.exploding_norm")])
def exploding_gradients(R, T):
    prof = gradient_profile(R, T)
    if prof is None:
        return
    ev, ratio, vanishing, step = prof
    if "nonfinite_layers" in ev:
        yield Found("error", f"Gradients are NaN/Inf in {', '.join(ev['nonfinite_layers'][:3])}",
                    ev, "Lower the learning rate, clip gradients (clipnorm=1.0) and check the "
                    "input for huge values: non-finite gradients destroy the weights.", step)
        return
    if ratio is None or vanishing:
        return
    big = max(g["norm"] or 0.0 for g in ev["grad_norms"])
    if ratio > T["ratio"] or big > T["norm"]:
        yield Found(
            "warning",
            f"Gradients explode towards the input (first/last layer {ratio:.3g}, "
            f"largest {big:.3g})",
            dict(ev, largest=big),
            "Normalise the input, lower the learning rate or clip gradients "
            "(optimizer clipnorm=1.0), and prefer BatchNormalization: large gradients in "
            "the first layers make training unstable.",
            step)


@rule("training.dead_units", severities=("warning",), panel="layers", order=140,
      fires_when="> 50 % of a ReLU layer's units never fire",
      causes=("data.not_normalized", "training.lr_too_high"),
      thresholds=[Threshold("fraction", 0.5, "SageMaker Debugger dead ReLU: a layer with > 50 % "
                            "of units never active", "share of a layer's units that never fire",
                            alias="dead_units.fraction")])
def dead_units(R, T):
    t, _, step = R.training()
    if t is None:
        return
    dead = [d for d in series(t["value"], "dead_units") if isinstance(d, Mapping)]
    bad = [d for d in dead if (num(d.get("fraction")) or 0.0) > T["fraction"]]
    if not bad:
        return
    worst = max(bad, key=lambda d: num(d.get("fraction")) or 0.0)
    yield Found(
        "warning",
        f"{num(worst.get('fraction')):.0%} of ReLU units in {worst.get('layer')} never fire"
        + (f" (+{len(bad) - 1} more layers)" if len(bad) > 1 else ""),
        {"layers": [{"layer": d.get("layer"), "fraction": num(d.get("fraction")),
                     "units": d.get("units")} for d in bad]},
        "Lower the learning rate, use LeakyReLU/ELU, or He initialisation: dead ReLUs output "
        "0 for every input, get no gradient and never recover, so that capacity is lost.",
        step)

"""The weights at train begin: too large to start from, or constant (every unit the same)."""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num, series
from .loss import loss_facts, loss_kind


def kernels(R):
    """``(checks entry, [initial weight facts])`` of the kernel-like variables, input side first."""
    c = R.checks()
    raw = c["value"].get("initial_weights") if c else None
    return c, [w for w in (raw if isinstance(raw, list) else []) if isinstance(w, Mapping)]


def _is_lookup(w) -> bool:
    """Not a kernel to judge: an embedding table (a lookup reads one row, it sums over no
    fan-in) or a 2-D bias (GRU's reset-after bias, attention heads' biases start at 0)."""
    var = str(w.get("variable", "")).lower()
    return "embedding" in f"{var} {w.get('layer', '')}".lower() or \
        var.rsplit("/", 1)[-1].endswith("bias")


def _gain(w) -> float | None:
    std, fan_in = num(w.get("std")), num(w.get("fan_in"))
    return std * math.sqrt(fan_in) if std is not None and fan_in and fan_in > 0 else None


def _uniform_loss(kind, n_out) -> float | None:
    """The loss of predicting every class equally likely."""
    if kind in ("sparse_ce", "categorical_ce") and n_out and n_out > 1:
        return math.log(n_out)
    if kind == "binary_ce":
        return math.log(2.0)
    return None


def _large_confirmed(R, T, ev) -> bool:
    """The untrained model behaves like one with too large weights: confidently wrong
    (initial loss several times the uniform guess) or saturated probabilities."""
    cdoc, _, act, lname, _, _ = loss_facts(R)
    n_out = num(cdoc.get("n_outputs"))
    uniform, initial = _uniform_loss(loss_kind(lname), n_out), num(cdoc.get("initial_loss"))
    confirmed = False
    if uniform and initial is not None:
        ev.update(initial_loss=initial, uniform_loss=uniform)
        confirmed = initial >= T["loss_ratio"] * uniform
    out = cdoc.get("initial_output")
    if act in ("softmax", "sigmoid") and isinstance(out, Mapping):
        lo, hi = num(out.get("min")), num(out.get("max"))
        if lo is not None and hi is not None:
            ev["initial_output"] = [lo, hi]
            confirmed = confirmed or (hi > 1 - T["saturated"] and lo < T["saturated"])
    return confirmed


def _large(R, T, ws, step):
    big = [(w, g) for w, g in ((w, _gain(w)) for w in ws if not _is_lookup(w))
           if g is not None and g > T["gain_max"]]
    if not big:
        return None
    worst = max(big, key=lambda x: x[1])
    ev = {"layers": [{"layer": w.get("layer"), "std": num(w.get("std")),
                      "fan_in": w.get("fan_in"), "gain": g} for w, g in big],
          "gain_max": T["gain_max"]}
    sev = "warning" if _large_confirmed(R, T, ev) else "info"
    return Found(
        sev,
        f"Initial weights are too large: std·sqrt(fan_in) = {worst[1]:.3g} in "
        f"{worst[0].get('layer')}" + (f" (+{len(big) - 1} more)" if len(big) > 1 else ""),
        ev,
        "Use the default Glorot (or He for ReLU) initialiser, or RandomNormal(stddev="
        "1/sqrt(fan_in)): each layer multiplies the activations' scale by about this "
        "gain, so the outputs start saturated or huge and the first updates are wild"
        + ("" if sev == "warning" else " (a normalisation layer after it may absorb this: "
           "the untrained model's loss and outputs do not show it)") + ".",
        step)


def _layer_grad(R, layer) -> float | None:
    t, _, _ = R.training()
    for g in (series(t["value"], "grad_norms") if t else []):
        if isinstance(g, Mapping) and g.get("layer") == layer:
            return num(g.get("norm"))
    return None


def _flat(w) -> bool:
    return w.get("all_zero") is True or w.get("constant") is True


def _constant(R, ws, step):
    """Constant (or zero) hidden kernels: units of the layer compute the same thing."""
    hidden = [(i, w) for i, w in enumerate(ws[:-1]) if _flat(w) and not _is_lookup(w)
              and (w.get("all_zero") is True or (w.get("shape") or [0])[-1] != 1)]
    if not hidden:
        return None
    stuck = [w.get("layer") for i, w in hidden
             if _flat(ws[i + 1]) or _layer_grad(R, w.get("layer")) == 0.0]
    sev = "warning" if stuck or all(_flat(w) for w in ws) else "info"
    names = [w.get("layer") for _, w in hidden]
    return Found(
        sev,
        f"Constant initial kernel{'s' if len(names) > 1 else ''} in "
        f"{', '.join(map(str, names[:3]))}{'…' if len(names) > 3 else ''}",
        {"layers": [{"layer": w.get("layer"), "all_zero": w.get("all_zero"),
                     "constant": w.get("constant"), "shape": w.get("shape")} for _, w in hidden],
         "symmetric_or_no_gradient": stuck},
        "Initialise kernels randomly (the Keras default GlorotUniform, or HeNormal for ReLU; "
        "zeros suit biases, not kernels): units that start identical receive identical "
        "updates and stay identical, and an all-zero ReLU layer gets no gradient at all"
        + ("" if sev == "warning" else " (here the next layer is random and the layer gets "
           "gradient, so it may still break the symmetry, as in zero-initialised residual "
           "branches)") + ".",
        step)


@rule("model.initialisation", severities=("warning", "info"), panel="layers", order=64,
      fires_when="a kernel with std·sqrt(fan_in) > 4 (warning when the untrained model is "
                 "confidently wrong or saturated, else info), or constant/all-zero hidden "
                 "kernels (warning when symmetric or without gradient, else info)",
      thresholds=[
          Threshold("gain_max", 4.0, "tb_nndebug: Glorot/He initialisation gives std·sqrt(fan_in) "
                    "≈ 1–1.4 (Glorot & Bengio 2010, He et al. 2015); RandomNormal(stddev=1) on a "
                    "64-wide input gives 8 (DeepCrime's weight-initialisation mutation)",
                    "largest std·sqrt(fan_in) of a kernel at train begin"),
          Threshold("loss_ratio", 3.0, "tb_nndebug: an untrained classifier's loss 3× the "
                    "uniform guess (ln K) is confidently wrong", "initial loss / ln K that "
                    "confirms too-large weights"),
          Threshold("saturated", 0.01, "tb_nndebug: untrained probabilities reaching 0.99 and "
                    "0.01 are saturated", "distance from 0/1 of a saturated probability")])
def initialisation(R, T):
    c, ws = kernels(R)
    if not ws:
        return
    for found in (_large(R, T, ws, c["step"]), _constant(R, ws, c["step"])):
        if found is not None:
            yield found

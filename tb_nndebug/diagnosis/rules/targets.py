"""The scale of regression targets: a network's outputs start near 0 with unit scale."""
from __future__ import annotations

import math

from ..registry import Found, Threshold, rule
from ..view import num, series
from .loss import loss_facts, loss_key, loss_kind, scale_sensitive, targets_doc

_SQUARED = ("mse", "meansquarederror")


def _refuted(R, T, lname, std, max_abs, ev) -> bool:
    """The run shows the scale is handled: the model's untrained outputs already have the
    targets' magnitude (a final Rescaling), or the loss is already small against the spread."""
    c = R.checks()
    out = c["value"].get("initial_output") if c else None
    if isinstance(out, dict):
        lo, hi = num(out.get("min")), num(out.get("max"))
        if lo is not None and hi is not None:
            ev["initial_output_max_abs"] = max(abs(lo), abs(hi))
            if ev["initial_output_max_abs"] >= T["output_share"] * max_abs:
                return True
    _, hist, _ = R.training()
    losses = [v for v in (num(x) for x in series(hist, "loss")) if v is not None]
    if not losses or not std:
        return False
    err = math.sqrt(max(losses[-1], 0.0)) if loss_key(lname) in _SQUARED else losses[-1]
    ev["error_over_std"] = err / std
    return ev["error_over_std"] < T["fit_ok"]


@rule("data.targets_not_scaled", severities=("warning",), panel="checks", order=62,
      fires_when="regression targets with std > 100 or max |y| > 1000 under MSE/MAE/Huber, "
                 "unless the untrained outputs already reach that scale or the fit is good",
      thresholds=[
          Threshold("max_std", 100.0, "tb_nndebug: a freshly initialised network outputs "
                    "values of std ~1 (Glorot/He init); targets of std > 100 need weights "
                    "100x their start (NeuraLint/DeepCrime list unscaled data as a fault)",
                    "largest std of regression targets that passes"),
          Threshold("max_abs", 1000.0, "tb_nndebug: |y| in the thousands (issue #14's unscaled "
                    "targets; the same bound AUTOTRAINER uses for a bad loss, 1e3)",
                    "largest |y| that passes"),
          Threshold("output_share", 0.1, "tb_nndebug: untrained outputs reaching 10 % of max |y| "
                    "show the model rescales its output itself (e.g. a final Rescaling)",
                    "share of max |y| the untrained output must reach to count as scaled"),
          Threshold("fit_ok", 0.3, "tb_nndebug: an RMS (or mean absolute) error under 30 % of "
                    "the targets' std (R² ≈ 0.91) shows the scale did not stop learning",
                    "error / target std below which the fit refutes the finding")])
def targets_not_scaled(R, T):
    _, step, act, lname, _, _ = loss_facts(R)
    if loss_kind(lname) != "regression" or not scale_sensitive(lname):
        return
    tg = targets_doc(R)
    if tg is None or tg.get("kind") not in ("integer", "float"):
        return
    std, lo, hi, mean = (num(tg.get(k)) for k in ("std", "min", "max", "mean"))
    if lo is None or hi is None:
        return
    max_abs = max(abs(lo), abs(hi))
    if not ((std is not None and std > T["max_std"]) or max_abs > T["max_abs"]):
        return
    ev = {"target_min": lo, "target_max": hi, "target_mean": mean, "target_std": std,
          "loss": lname, "max_std": T["max_std"], "max_abs": T["max_abs"]}
    if _refuted(R, T, lname, std, max_abs, ev):
        return
    m, s = (mean if mean is not None else 0.0), (std if std else 1.0)
    yield Found(
        "warning",
        f"Regression targets are not scaled (range {lo:.4g}..{hi:.4g}"
        + (f", std {std:.4g}" if std is not None else "") + ")",
        ev,
        f"Standardise the targets: train on (y - {m:.4g}) / {s:.4g} and map predictions back "
        f"(or end the model with keras.layers.Rescaling(scale={s:.4g}, offset={m:.4g})): a "
        "network starts by outputting values near 0 of size ~1, so the "
        f"{lname} loss is dominated by the scale, its gradients are huge, and no single "
        "learning rate suits both the output layer and the rest.",
        step)

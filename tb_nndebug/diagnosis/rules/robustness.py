"""How far an attack must move an input to fool the model (paper §3.4)."""
from __future__ import annotations

from ..registry import Found, Threshold, rule
from ..view import num


def _evidence(e):
    r = e["value"]
    return {"tag": e["tag"], "median_eps": num(r.get("median_eps")),
            "median_pixels": num(r.get("median_pixels")),
            "clean_accuracy": num(r.get("clean_accuracy")), "norm": r.get("norm"),
            "censored_fraction": num(r.get("censored_fraction")), "n": r.get("n")}


def _fragile(ev, T) -> bool:
    return ev["median_eps"] is not None and ev["median_eps"] < T["robustness.fragile.eps"]


@rule("robustness.fragile", severities=("warning",), panel="robustness", order=200,
      fires_when="median minimal eps < 0.01",
      thresholds=[Threshold("eps", 0.01, "tb_nndebug: fooled within L-inf eps 0.01 (about "
                            "2.5/255) is imperceptible", "median minimal eps below which the "
                            "model is fragile", alias="robustness.tiny_eps")])
def fragile(R, T):
    for e in R.entries("robustness"):
        ev = _evidence(e)
        if _fragile(ev, T):
            yield Found(
                "warning", f"Fooled by imperceptible changes (median eps {ev['median_eps']:.3g})",
                ev,
                "Shrink the model towards the data's expected bits (smaller networks were "
                "harder to fool in the paper's sweep) or train adversarially; check "
                "the examples to see what flips the prediction.",
                e["step"])


@rule("robustness.summary", severities=("info",), panel="robustness", order=210,
      fires_when="per robustness record that is not fragile")
def summary(R, T):
    for e in R.entries("robustness"):
        ev = _evidence(e)
        if _fragile(ev, T):
            continue
        parts = []
        if ev["median_eps"] is not None:
            parts.append(f"median eps {ev['median_eps']:.3g}")
        if ev["median_pixels"] is not None:
            parts.append(f"median {ev['median_pixels']:.0f} pixels")
        yield Found(
            "info", "Robustness: " + (", ".join(parts) if parts else "no sample was fooled"), ev,
            "Compare runs of different capacity in the Compare view: larger minimal "
            "perturbations mean a harder-to-fool model.",
            e["step"])

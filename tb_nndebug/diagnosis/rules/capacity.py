"""Capacity against the data's needs (paper §3.2; Friedland, Metere, Krell 2018)."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import fmt_bits, get, num

_SIZE_SOURCE = "paper §3.2 / Friedland"


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
    layers = model_doc.get("layers")
    if not isinstance(layers, (list, tuple)):
        return []
    return sorted({str(layer["kind"]) for layer in layers
                   if isinstance(layer, Mapping) and layer.get("kind")})


def _warehouse_hint(bits: int, ev: Mapping, kinds: list) -> str:
    """The warehouse call that builds a network like the user's (layer ``kinds``) at ``bits``."""
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


def _hint(R, ev):
    return _warehouse_hint(ev["expected_bits"], ev, _layer_kinds(R.latest("model")["value"]))


@rule("capacity.too_small", severities=("warning",), panel="capacity", order=70,
      fires_when="model bits < dataset `expected_bits`",
      thresholds=[Threshold("ratio", 1.0, (
          f"{_SIZE_SOURCE}: model bits below the data's expected bits cannot generalise"),
          "model bits / expected bits below which the model is too small",
          alias="capacity.too_small_ratio")])
def too_small(R, T):
    ev, step = _when(R, T, "too_small")
    if ev is None:
        return
    bits, expected = ev["model_bits"], ev["expected_bits"]
    yield Found(
        "warning",
        f"Model is too small for the data ({fmt_bits(bits)} bits, data needs "
        f"{fmt_bits(expected)})",
        ev,
        f"Grow to at least {fmt_bits(expected)} bits: below the data's requirement the "
        f"network cannot place all the decision thresholds, so it underfits whatever the "
        f"training time. Widen the first layers; {_hint(R, ev)}.",
        step)


@rule("capacity.oversized", severities=("warning",), panel="capacity", order=80,
      fires_when="model bits > `max_bits`",
      thresholds=[Threshold("ratio", 1.0, (
          "Friedland: above max_bits (a lookup table of the thresholds) a model can memorise "
          "every label"), "model bits / max bits above which the model can memorise",
          alias="capacity.oversized_ratio")])
def oversized(R, T):
    ev, step = _when(R, T, "oversized")
    if ev is None:
        return
    bits, expected, max_bits = ev["model_bits"], ev["expected_bits"], ev["max_bits"]
    over = ev["memorise_ratio"] or 0.0
    yield Found(
        "warning",
        f"Model can memorise the training set {over:.1f}× over "
        f"({fmt_bits(bits)} bits vs {fmt_bits(max_bits)} to memorise)",
        ev,
        f"Shrink to about {fmt_bits(expected)} bits: the data needs ~{fmt_bits(expected)} "
        f"bits to generalise, and with {fmt_bits(bits)} bits the network can store every "
        f"label instead of learning the rule, so it will overfit and is easier to fool. "
        f"Cut units in the first layers (they hold most bits); {_hint(R, ev)}.",
        step)


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

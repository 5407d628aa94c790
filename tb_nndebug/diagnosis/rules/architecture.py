"""The layers themselves: missing activations, dropout rates (UMLAUT's checks)."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num, series


@rule("model.linear_hidden", severities=("warning",), panel="layers", order=40,
      fires_when="a hidden Dense/Conv layer has no activation (UMLAUT)")
def linear_hidden(R, T):
    c = R.checks()
    linear = [str(n) for n in (series(c["value"], "linear_hidden_layers") if c else [])]
    if linear:
        yield Found(
            "warning",
            f"Hidden layer{'s' if len(linear) > 1 else ''} without an activation: "
            f"{', '.join(linear[:4])}{'…' if len(linear) > 4 else ''}",
            {"layers": linear},
            "Give hidden Dense/Conv layers a non-linear activation (e.g. activation='relu'): "
            "linear layers stacked on each other collapse into a single linear map, so the "
            "extra layers add parameters but no expressive power.",
            c["step"])


@rule("training.dropout_rate_high", severities=("warning",), panel="layers", order=50,
      fires_when="a Dropout rate > 0.5 (UMLAUT)",
      thresholds=[Threshold("max_rate", 0.5, "UMLAUT: a Dropout rate above 0.5",
                            "largest sensible Dropout rate", alias="dropout.max_rate")])
def dropout_rate_high(R, T):
    c = R.checks()
    rates = c["value"].get("dropout_rates") if c else None
    rates = rates if isinstance(rates, Mapping) else {}
    high = {str(k): num(v) for k, v in rates.items()
            if num(v) is not None and num(v) > T["max_rate"]}
    if high:
        yield Found(
            "warning",
            f"Dropout rate above {T['max_rate']:g}: "
            + ", ".join(f"{k} ({v:g})" for k, v in list(high.items())[:4]),
            {"dropout_rates": high},
            "Use a rate of 0.1–0.5: a layer that drops most of its inputs each step trains "
            "slowly and underfits; `rate` is the fraction DROPPED in Keras, not kept.",
            c["step"])

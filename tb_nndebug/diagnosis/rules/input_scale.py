"""The scale of the input the model is fed."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num


def input_stats(R):
    """``(stats, source, step)``: min/max/mean/std of the input, from the checks
    record (what reaches the first weighted layer, when the callback could tap it),
    else from the primary dataset record; ``(None, None, None)`` without, or when
    the input is token ids (an ``Embedding`` looks them up: their scale means
    nothing) or the model preprocesses the raw input itself."""
    c = R.checks()
    cdoc = c["value"] if c else {}
    if cdoc.get("input_kind") == "index" or cdoc.get("input_preprocessing"):
        return None, None, None
    span = cdoc.get("input_range")
    if c and isinstance(span, (list, tuple)) and len(span) == 2:
        return ({"min": num(span[0]), "max": num(span[1]), "mean": num(cdoc.get("input_mean")),
                 "std": num(cdoc.get("input_std"))}, cdoc.get("input_source") or "checks",
                c["step"])
    if c and cdoc.get("input_source"):  # the callback looked and found no values to judge
        return None, None, None
    d = R.primary_dataset()
    if d is not None and isinstance(d["value"].get("input_stats"), Mapping):
        s = d["value"]["input_stats"]
        return {k: num(s.get(k)) for k in ("min", "max", "mean", "std")}, d["tag"], d["step"]
    return None, None, None


@rule("data.not_normalized", severities=("warning",), panel="checks", order=60,
      fires_when="what reaches the first weighted layer has max abs > 10 and (std > 5 or abs "
                 "mean > 2); never for token ids or in-model preprocessing",
      thresholds=[
          Threshold("max_abs", 10.0, "UMLAUT flags |x| > 1; loosened to 10 so standardised "
                    "data passes", "largest |x| of a normalised input", alias="data.max_abs"),
          Threshold("max_std", 5.0, "tb_nndebug: std of unit-scaled or standardised data is "
                    "<= ~1", "largest std of a normalised input", alias="data.max_std"),
          Threshold("max_abs_mean", 2.0, "SageMaker flags |mean| > 0.2 on images; loosened for "
                    "tabular data", "largest |mean| of a normalised input",
                    alias="data.max_abs_mean")])
def not_normalized(R, T):
    stats, src, step = input_stats(R)
    if not stats or stats["min"] is None or stats["max"] is None:
        return
    max_abs = max(abs(stats["min"]), abs(stats["max"]))
    std, mean = stats["std"], stats["mean"]
    if max_abs > T["max_abs"] and ((std is not None and std > T["max_std"])
                                   or (mean is not None and abs(mean) > T["max_abs_mean"])):
        yield Found(
            "warning",
            f"Input is not normalised (range {stats['min']:g}..{stats['max']:g}"
            + (f", std {std:.3g}" if std is not None else "") + ")",
            dict(stats, source=src),
            "Scale inputs to [0, 1] (e.g. pixels / 255) or standardise them (zero mean, "
            "unit variance, e.g. keras.layers.Normalization): large inputs blow up the "
            "first layer's activations and gradients, so the learning rate that suits the "
            "other layers is far too large for it.",
            step)

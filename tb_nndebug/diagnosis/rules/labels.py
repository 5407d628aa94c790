"""Labels that are not labels: fractions under a sparse loss, multi-label rows read as one-hot."""
from __future__ import annotations

from ..registry import Found, rule
from ..view import num
from .loss import loss_facts, loss_kind, targets_doc


def _fractional(cdoc, tg) -> dict | None:
    """Evidence that the labels are not whole numbers, or None."""
    if tg is not None and tg.get("kind") in ("integer", "float", "bool"):
        if tg.get("integer_valued") is False:
            return {"min": num(tg.get("min")), "max": num(tg.get("max")),
                    "n_unique": tg.get("n_unique"), "source": "targets"}
        if tg.get("integer_valued") is True:
            return None
    span = cdoc.get("label_range")
    if isinstance(span, (list, tuple)) and len(span) == 2:
        ends = [num(v) for v in span]
        if all(v is not None for v in ends) and any(v != int(v) for v in ends):
            return {"min": ends[0], "max": ends[1], "source": "label_range"}
    return None


@rule("data.labels_not_labels", severities=("error", "warning", "info"), panel="checks",
      order=12,
      fires_when="fractional labels under a sparse cross-entropy (error: they are truncated to "
                 "integers); multi-hot rows under a softmax output or categorical "
                 "cross-entropy (warning; info for rows with no class)")
def labels_not_labels(R, T):
    cdoc, step, act, lname, _, _ = loss_facts(R)
    kind = loss_kind(lname)
    tg = targets_doc(R)
    if kind == "sparse_ce":
        frac = _fractional(cdoc, tg)
        if frac is not None:
            known = frac["min"] is not None and frac["max"] is not None
            yield Found(
                "error",
                f"Fractional labels under {lname}"
                + (f": {frac['min']:g}..{frac['max']:g}" if known else ""),
                dict(frac, loss=lname),
                "Pass the integer class indices 0..K-1 (check for a division such as y / 255 "
                "or a scaler applied to y): sparse cross-entropy casts labels to integers, so "
                "fractions are truncated — most samples become class 0 — and the model "
                "learns the wrong task without any error.",
                step)
        return
    if tg is None or tg.get("multi_hot") is not True or not (
            kind == "categorical_ce" or act == "softmax"):
        return
    top, low = num(tg.get("row_sum_max")), num(tg.get("row_sum_min"))
    ev = {"loss": lname or None, "output_activation": act, "row_sum_min": low,
          "row_sum_max": top, "shape": tg.get("shape")}
    if top is not None and top > 1:
        yield Found(
            "warning",
            f"Multi-label targets (up to {top:g} classes per sample) under "
            f"{'a softmax output' if act == 'softmax' else lname}",
            ev,
            "For several labels per sample use a sigmoid output with binary_crossentropy "
            "(one yes/no per class); a softmax and categorical cross-entropy assume exactly "
            "one class per sample, so they split the probability between the true labels "
            "and can never predict all of them.",
            step)
    elif low is not None and low < 1:
        yield Found(
            "info", "Some target rows have no class (all zeros) under a one-class-per-sample "
            "loss", ev,
            "Drop or label those samples: categorical cross-entropy gives a row of zeros a "
            "loss of 0, so they teach the model nothing.",
            step)

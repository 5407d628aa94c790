"""Class overlap: the cumulative spectral gradient (Branchaud-Charron et al. 2019)."""
from __future__ import annotations

from ..registry import Found, Threshold, rule
from ..view import get, num


def _worst_pair(overlap, classes):
    try:
        k = len(overlap)
        best, pair = -1.0, None
        for i in range(k):
            for j in range(k):
                if i != j:
                    v = num(overlap[i][j])
                    if v is not None and v > best:
                        best, pair = v, (i, j)
        if pair is None:
            return None
        def name(i):
            return str(classes[i]) if i < len(classes) else str(i)
        return [name(pair[0]), name(pair[1])]
    except (TypeError, IndexError):
        return None


@rule("csg.high_overlap", severities=("info", "warning"), panel="csg", order=190,
      fires_when="CSG/(K−1) ≥ 0.05 (info) / ≥ 0.7 (warning)",
      thresholds=[
          Threshold("info", 0.05, ("tb_nndebug: CSG/(K-1); MNIST raw pixels ≈ 0.015, CIFAR-10 ≈ "
                                   "0.50 (reference/algorithms.md §2)"),
                    "CSG/(K-1) from which the overlap is reported", alias="csg.info"),
          Threshold("warning", 0.7, ("tb_nndebug: CSG/(K-1) measured on raw pixels: CIFAR-10 "
                                     "0.50 (a hard but learnable set stays info), digits with "
                                     "shuffled labels 0.90"),
                    "CSG/(K-1) from which the overlap is a warning", alias="csg.warning")])
def high_overlap(R, T):
    d = R.primary_dataset()
    if d is None:
        return
    score = num(get(d["value"], "csg", "score"))
    k = num(d["value"].get("n_classes"))
    if score is None or k is None or k < 2:
        return
    norm = score / (k - 1)
    if norm >= T["warning"]:
        sev = "warning"
    elif norm >= T["info"]:
        sev = "info"
    else:
        return
    ev = {"csg": score, "normalized": norm, "n_classes": int(k),
          "embedding": get(d["value"], "csg", "embedding"), "dataset": d["tag"]}
    pair = _worst_pair(get(d["value"], "csg", "overlap"), d["value"].get("classes") or [])
    if pair:
        ev["most_confused"] = pair
    yield Found(
        sev,
        f"Classes overlap (CSG {score:.2f} of at most {int(k) - 1})"
        + (f"; most between {pair[0]} and {pair[1]}" if pair else ""),
        ev,
        "Expect a ceiling on accuracy from the data itself, not the model: look at the most "
        "confused classes in the projection and similarity matrix; better features, an "
        "embedding, or more data for those classes help more than a bigger network.",
        d["step"])

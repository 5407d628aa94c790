"""Class overlap: the cumulative spectral gradient (Branchaud-Charron et al. 2019).

The CSG estimates class overlap from nearest neighbours in the space it was
measured in; that is only evidence about the data where distances mean
something. So: a skipped or undefined CSG is an ``info`` naming why
(``csg.not_measured``); an overlap score is at most ``info`` when many of its
sampled points were dropped (infinite Parzen volumes), and a ``warning`` is
refuted by the run — a network that reaches near-perfect validation accuracy
shows the classes are separable, whatever the measured space says.
"""
from __future__ import annotations

from ..registry import Found, Threshold, rule
from ..view import acc_key, get, num, series


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
    except (TypeError, IndexError, KeyError):  # an overlap that is not a K×K list
        return None


def _dropped(csg_doc):
    """``(dropped, sampled)`` points of a CSG document, or ``(None, None)``."""
    dropped = num(get(csg_doc, "dropped_points"))
    sampled = num(get(csg_doc, "n_sampled"))
    if dropped is None or sampled is None or sampled <= 0:
        return None, None
    return int(dropped), int(sampled)


def _accuracy(R):
    """``(accuracy, which, step)``: the latest validation accuracy, else the latest training
    accuracy, of the latest training record; ``(None, None, None)`` without one."""
    t, hist, step = R.training()
    key = acc_key(hist) if t is not None else None
    if not key:
        return None, None, None
    for which, k in (("validation", "val_" + key), ("training", key)):
        vals = [v for v in (num(a) for a in series(hist, k)) if v is not None]
        if vals:
            return vals[-1], which, step
    return None, None, None


@rule("csg.high_overlap", severities=("info", "warning"), panel="csg", order=190,
      fires_when="CSG/(K−1) ≥ 0.05 (info) / ≥ 0.7 (warning); info when ≥ 10 % of the "
                 "sampled points were dropped or when validation (else training) accuracy is "
                 "within 10 % of the way from chance to perfect",
      thresholds=[
          Threshold("info", 0.05, ("tb_nndebug: CSG/(K-1); MNIST raw pixels ≈ 0.015, CIFAR-10 ≈ "
                                   "0.50 (reference/algorithms.md §2)"),
                    "CSG/(K-1) from which the overlap is reported", alias="csg.info"),
          Threshold("warning", 0.7, ("tb_nndebug: CSG/(K-1) measured on raw pixels: CIFAR-10 "
                                     "0.50 (a hard but learnable set stays info), digits with "
                                     "shuffled labels 0.90"),
                    "CSG/(K-1) from which the overlap is a warning", alias="csg.warning"),
          Threshold("min_class", 100, ("tb_nndebug: the Parzen/k-NN estimate of a class with "
                                       "fewer samples is noise (credit-card fraud: CSG 1.00 "
                                       "from 35 samples, 0.17 from 344)"),
                    "samples of the smallest class a warning needs"),
          Threshold("refute_share", 0.9, (
              "tb_nndebug: the CSG bounds the accuracy the data allows (Branchaud-Charron et "
              "al. 2019: CSG correlates with the error a CNN reaches); an accuracy within 10 % "
              "of the way from chance to perfect (the margin of training.underfitting) refutes "
              "a strong overlap — the issue's token-id case read 0.91 at 100 % validation "
              "accuracy"),
              "share of the way from chance to perfect accuracy that refutes a warning"),
          Threshold("dropped_share", 0.1, (
              "tb_nndebug: the score rests on the sampled points left after infinite Parzen "
              "volumes; with a tenth of them gone it says little (token ids: 319 of 500 "
              "dropped)"), "share of dropped sampled points above which the score is info")])
def high_overlap(R, T):
    d = R.primary_dataset()
    if d is None:
        return
    csg_doc = d["value"].get("csg")
    score = num(get(d["value"], "csg", "score"))
    k = num(d["value"].get("n_classes"))
    if score is None or k is None or k < 2:
        return
    norm = score / (k - 1)
    counts = get(d["value"], "balance", "counts")
    smallest = min((num(v) for v in counts.values() if num(v) is not None), default=None) \
        if isinstance(counts, dict) else None
    if norm >= T["warning"] and (smallest is None or smallest >= T["min_class"]):
        sev = "warning"
    elif norm >= T["info"]:
        sev = "info"
    else:
        return
    ev = {"csg": score, "normalized": norm, "n_classes": int(k),
          "embedding": get(d["value"], "csg", "embedding"), "dataset": d["tag"]}
    pair = _worst_pair(get(d["value"], "csg", "overlap"), series(d["value"], "classes"))
    if pair:
        ev["most_confused"] = pair
    dropped, sampled = _dropped(csg_doc)
    if dropped is not None:
        ev.update(dropped_points=dropped, n_sampled=sampled)
    advice = ("Expect a ceiling on accuracy from the data itself, not the model: look at the "
              "most confused classes in the projection and similarity matrix; better features, "
              "an embedding, or more data for those classes help more than a bigger network.")
    step = d["step"]
    if dropped is not None and dropped >= T["dropped_share"] * sampled:
        if sev == "warning":
            ev["tempered_by"] = (f"{dropped} of {sampled} sampled points were dropped "
                                 "(infinite Parzen volumes): the score rests on the rest")
        sev = "info"
        advice = ("The score rests on few points: distances in this input space barely "
                  "separate neighbourhoods. Measure CSG on an embedding (csg={'embedding': "
                  "'pca'}) before reading it as class overlap.")
    acc, which, acc_step = _accuracy(R)
    chance = R.chance_level()
    if sev == "warning" and acc is not None and chance is not None:
        limit = chance + T["refute_share"] * (1 - chance)
        if acc >= limit:
            sev = "info"
            ev.update(accuracy=acc, accuracy_of=which, accuracy_limit=limit)
            ev["tempered_by"] = (f"{which} accuracy {acc:.1%} ≥ {limit:.1%}: the network "
                                 "separates the classes the measured space mixes")
            advice = ("The run refutes a ceiling from the data: the classes overlap in the "
                      "space the CSG was measured in, not for the network. Nothing to fix.")
            step = acc_step if acc_step is not None else step
    yield Found(
        sev,
        f"Classes overlap (CSG {score:.2f} of at most {int(k) - 1})"
        + (f"; most between {pair[0]} and {pair[1]}" if pair else ""),
        ev, advice, step)


@rule("csg.not_measured", severities=("info",), panel="csg", order=195,
      fires_when="the training set's CSG was skipped or is undefined (`csg_error`)")
def not_measured(R, T):
    d = R.primary_dataset()
    if d is None:
        return
    err = d["value"].get("csg_error")
    score = num(get(d["value"], "csg", "score"))
    if not isinstance(err, str) or not err.strip() or score is not None:
        return
    reason = err.strip()
    for prefix in ("skipped:", "undefined:"):
        if reason.startswith(prefix):
            reason = reason[len(prefix):].strip()
    skipped = err.strip().startswith("skipped:")
    ev = {"dataset": d["tag"], "reason": reason, "csg_error": err,
          "embedding": get(d["value"], "csg", "embedding")}
    dropped, sampled = _dropped(d["value"].get("csg"))
    if dropped is not None:
        ev.update(dropped_points=dropped, n_sampled=sampled)
    yield Found(
        "info",
        f"Class overlap (CSG) {'not measured' if skipped else 'undefined'}: {reason}",
        ev,
        "Nothing to fix in the model: the CSG needs inputs where distances mean something. "
        "To measure it, pass an embedding of the inputs (summary.dataset(..., csg={"
        "'embedding': features})), e.g. a trained layer's activations.",
        d["step"])

"""Class balance of the data the model trains on."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, Threshold, rule
from ..view import num, series


def balance_docs(R) -> list[tuple[str, dict, int | None]]:
    """``(tag, balance document, step)`` of the data the model trains on: the
    primary dataset's, and balance records (after resampling only, when there are)."""
    docs = []
    d = R.primary_dataset()
    if d is not None and isinstance(d["value"].get("balance"), Mapping):
        docs.append((d["tag"], d["value"]["balance"], d["step"]))
    bal = R.entries("balance")
    after = [e for e in bal if e["value"].get("stage") == "after"]
    for e in after or [e for e in bal if e["value"].get("stage") != "before"]:
        docs.append((e["tag"], e["value"], e["step"]))
    if after:  # resampled: judge the data the model trains on
        docs = [x for x in docs if x[0] != (d["tag"] if d else None)]
    return docs


def _weighted(R) -> bool:
    """The fit weights its loss (class_weight / sample_weight): the advised fix is in."""
    c = R.checks()
    return bool(c and c["value"].get("sample_weighted") is True)


@rule("balance.imbalanced", severities=("warning", "info"), panel="balance", order=90,
      fires_when="imbalance ratio > 10 (info when the loss is weighted)",
      thresholds=[Threshold("ratio", 10.0,
                            "SageMaker Debugger ClassImbalance: largest/smallest class count > 10",
                            "largest / smallest class count", alias="balance.imbalance_ratio")])
def imbalanced(R, T):
    for tag, b, step in balance_docs(R):
        ratio = num(b.get("imbalance_ratio"))
        counts = b.get("counts") if isinstance(b.get("counts"), Mapping) else {}
        if ratio is not None and ratio > T["ratio"]:
            weighted = _weighted(R)
            yield Found(
                "info" if weighted else "warning",
                f"Classes are imbalanced {ratio:.0f}:1 in '{tag}'"
                + (" (the loss is weighted)" if weighted else ""),
                {"tag": tag, "imbalance_ratio": ratio, "counts": dict(counts),
                 "minority_fraction": num(b.get("minority_fraction"))},
                "Resample before training (tb_nndebug.resample: SMOTE, Tomek links or the "
                "capacity-guided search) or weight the classes: a model trained on this "
                "learns to predict the majority, and accuracy hides it — watch per-class "
                "recall. The capacity estimate is also unreliable on very imbalanced data.",
                step)


@rule("balance.rare_class", severities=("warning", "info"), panel="balance", order=100,
      fires_when="a class < 5 % of the data (info when the loss is weighted)",
      thresholds=[Threshold("fraction", 0.05, "paper §3.3: a class under 5 % of the data is a "
                            "rare event", "share of the data below which a class is rare",
                            alias="balance.rare_fraction")])
def rare_class(R, T):
    for tag, b, step in balance_docs(R):
        props = b.get("proportions") if isinstance(b.get("proportions"), Mapping) else {}
        rare = [str(c) for c in series(b, "rare_classes")]
        if not rare and props:
            rare = [str(k) for k, p in props.items()
                    if num(p) is not None and num(p) < T["fraction"]]
        if rare:
            yield Found(
                "info" if _weighted(R) else "warning",
                f"Rare class{'es' if len(rare) > 1 else ''} in '{tag}': {', '.join(rare[:5])}"
                f"{'…' if len(rare) > 5 else ''}",
                {"tag": tag, "rare_classes": rare,
                 "proportions": {c: props.get(c) for c in rare if c in props}},
                f"Classes under {T['fraction']:.0%} of the data are rare events: "
                "collect or synthesise more of them (SMOTE) and report their recall; the model "
                "can ignore them at almost no cost to accuracy.",
                step)


@rule("resampling.applied", severities=("info",), panel="balance", order=220,
      fires_when="per resampling record")
def resampling_applied(R, T):
    for e in R.entries("resampling"):
        r = e["value"]
        eb, ea = num(r.get("expected_bits_before")), num(r.get("expected_bits_after"))
        yield Found(
            "info",
            f"Resampled with {r.get('method')}"
            + (f": expected bits {eb:,.0f} → {ea:,.0f}" if eb is not None and ea is not None
               else ""),
            {"tag": e["tag"], "method": r.get("method"), "before": r.get("before"),
             "after": r.get("after"), "expected_bits_before": eb, "expected_bits_after": ea,
             "n_synthetic": r.get("n_synthetic"), "n_removed": r.get("n_removed")},
            "Size the model against the resampled data's expected bits, and evaluate on "
            "untouched (not resampled) validation data.",
            e["step"])

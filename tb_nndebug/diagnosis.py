"""Diagnosis rules: records in, findings out.

Pure functions of the record documents (``docs/data-contract.md``): no
TensorFlow, no files. The callback's console output, the CLI and the
plugin all call :func:`diagnose`, so one rule gives one verdict everywhere,
and a threshold can change without re-running training.

Each finding has a stable dotted ``id``; every threshold lives in
:data:`THRESHOLDS` with its source and can be overridden per call
(``diagnose(records, thresholds={"balance.imbalance_ratio": 20})``).

The root cause matters more than the symptom: when a symptom (say
``training.overfitting``) and one of its causes (``capacity.oversized``)
both fire, the symptom's evidence names the cause (``likely_cause``), its
advice starts with the cause's fix, and the cause is ranked above it.
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info", "ok")
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

PANELS = ("capacity", "layers", "balance", "csg", "training", "robustness", "checks")

#: name -> (value, source). Override per call with ``thresholds={name: value}``.
THRESHOLDS: dict[str, tuple[float, str]] = {
    # capacity (paper 3.2; Friedland, Metere, Krell 2018)
    "capacity.too_small_ratio": (1.0, (
        "paper §3.2 / Friedland: model bits below the data's expected bits cannot generalise")),
    "capacity.oversized_ratio": (1.0, (
        "Friedland: above max_bits (a lookup table of the thresholds) a model can memorise every "
        "label")),
    # balance
    "balance.imbalance_ratio": (10.0, (
        "SageMaker Debugger ClassImbalance: largest/smallest class count > 10")),
    "balance.rare_fraction": (0.05, "paper §3.3: a class under 5 % of the data is a rare event"),
    # CSG, normalised by its range K-1
    "csg.info": (0.05, (
        "tb_nndebug: CSG/(K-1); MNIST raw pixels ≈ 0.015, CIFAR-10 ≈ 0.50 "
        "(reference/algorithms.md §2)")),
    "csg.warning": (0.7, (
        "tb_nndebug: CSG/(K-1) measured on raw pixels: CIFAR-10 0.50 (a hard but learnable set "
        "stays info), digits with shuffled labels 0.90")),
    # learning rate
    "lr_too_high.diverge_ratio": (1.1, (
        "tb_nndebug: training loss 10 % above the untrained loss (AUTOTRAINER: bad loss)")),
    "lr_too_high.loss_max": (1000.0, "AUTOTRAINER: loss >= 1e3 is a bad loss"),
    "lr_too_high.rise": (0.05, "tb_nndebug: an epoch whose loss rises > 5 % counts as a swing"),
    "lr_too_high.swing_fraction": (0.3, (
        "AUTOTRAINER unstable: swings in >= 20 % of epochs (raised to 30 %, min 2)")),
    "lr_too_low.progress": (0.01, "tb_nndebug: loss fell < 1 % over the first epochs"),
    "lr_too_low.window": (5, "tb_nndebug: 'early' = the first 5 epochs"),
    "lr_too_low.lr_min": (1e-07, "UMLAUT: learning rate below 1e-7"),
    "lr_too_low.good_fraction": (0.5, (
        "tb_nndebug: a model already half-way from chance to perfect accuracy (fine-tuning, "
        "resumed training) may barely move; not a learning-rate bug")),
    "dropout.max_rate": (0.5, "UMLAUT: a Dropout rate above 0.5"),
    # inference determinism (the paper's "forgetting eval()")
    "inference.max_diff": (1e-05, "tb_nndebug: two eval-mode passes agree to float rounding"),
    # input scale
    "data.max_abs": (10.0, "UMLAUT flags |x| > 1; loosened to 10 so standardised data passes"),
    "data.max_std": (5.0, "tb_nndebug: std of unit-scaled or standardised data is <= ~1"),
    "data.max_abs_mean": (2.0, "SageMaker flags |mean| > 0.2 on images; loosened for tabular data"),
    # gradients and units (AUTOTRAINER, SageMaker, DeepDiagnosis)
    "gradients.vanishing_ratio": (0.001, "AUTOTRAINER: |g_first|/|g_last| < 1e-3"),
    "gradients.vanishing_first": (0.0001, "AUTOTRAINER: and |g_first| < 1e-4"),
    "gradients.exploding_ratio": (70.0, "AUTOTRAINER: |g_first|/|g_last| > 70"),
    "gradients.exploding_norm": (1000.0, "tb_nndebug: a layer's kernel gradient norm > 1e3"),
    "dead_units.fraction": (0.5, (
        "SageMaker Debugger dead ReLU: a layer with > 50 % of units never active")),
    # generalisation
    "overfitting.rise": (0.1, "tb_nndebug: val loss 10 % above its best (UMLAUT: any rise)"),
    "overfitting.patience": (2, "tb_nndebug: the rise has lasted 2 epochs since the best"),
    "overfitting.gap": (3.0, (
        "tb_nndebug: (val - train)/train loss > 3 once val loss stopped improving (SageMaker "
        "warns at 0.1, which every healthy run passes)")),
    "underfitting.margin": (0.1, (
        "tb_nndebug: train accuracy within 10 % of the way from chance to perfect")),
    "underfitting.after": (0.3, "AUTOTRAINER: judge convergence after 30 % of planned epochs"),
    "suspicious_validation.gap": (0.05, "UMLAUT: val accuracy > train accuracy + 0.05"),
    "suspicious_validation.min_epoch": (3, "UMLAUT: from epoch 3 on"),
    # robustness
    "robustness.tiny_eps": (0.01, (
        "tb_nndebug: fooled within L-inf eps 0.01 (about 2.5/255) is imperceptible")),
}

#: Ranking among findings of equal severity: causes before their symptoms,
#: meta findings last.
RULE_ORDER = (
    "training.labels_out_of_range",
    "training.logits_mismatch",
    "training.dropout_at_inference",
    "model.linear_hidden",
    "training.dropout_rate_high",
    "data.not_normalized",
    "capacity.too_small",
    "capacity.oversized",
    "balance.imbalanced",
    "balance.rare_class",
    "training.vanishing_gradients",
    "training.lr_too_high",
    "training.exploding_gradients",
    "training.dead_units",
    "training.lr_too_low",
    "training.overfitting",
    "training.underfitting",
    "training.suspicious_validation",
    "csg.high_overlap",
    "robustness.fragile",
    "robustness.summary",
    "resampling.applied",
    "capacity.matched",
    "dataset.not_measured",
    "diagnostic.failed",
    "record.unsupported",
)
_ORDER = {rid: i for i, rid in enumerate(RULE_ORDER)}

#: symptom -> its possible causes, most specific first.
CAUSES = {
    "training.overfitting": ("capacity.oversized",),
    "training.underfitting": (
        "training.labels_out_of_range", "training.logits_mismatch", "model.linear_hidden",
        "training.dropout_rate_high", "data.not_normalized",
        "capacity.too_small", "balance.imbalanced", "training.vanishing_gradients",
        "training.lr_too_high", "training.dead_units", "training.lr_too_low"),
    "training.lr_too_high": (
        "training.labels_out_of_range", "training.logits_mismatch", "data.not_normalized"),
    "training.exploding_gradients": (
        "training.logits_mismatch", "data.not_normalized", "training.lr_too_high"),
    "training.dead_units": ("data.not_normalized", "training.lr_too_high"),
    "training.lr_too_low": (
        "training.logits_mismatch", "training.dropout_at_inference",
        "training.vanishing_gradients"),
    "training.suspicious_validation": ("training.dropout_at_inference",),
}


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what was found, the numbers, and what to do.

    Attributes
    ----------
    id : str
        Stable dotted name, e.g. ``"capacity.oversized"``.
    severity : {"error", "warning", "info", "ok"}
    title : str
        One line, with the key number.
    evidence : dict
        The numbers that triggered the finding (JSON-ready).
    advice : str
        What to change and why.
    step : int or None
        Step of the record the finding comes from.
    panel : str
        The report panel holding the evidence (one of :data:`PANELS`).
    """

    id: str
    severity: str
    title: str
    evidence: dict = field(default_factory=dict, hash=False)
    advice: str = ""
    step: int | None = None
    panel: str = "checks"

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.panel not in PANELS:
            raise ValueError(f"panel must be one of {PANELS}, got {self.panel!r}")

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "title": self.title,
                "evidence": _jsonable(self.evidence), "advice": self.advice,
                "step": self.step, "panel": self.panel}

    def line(self) -> str:
        """One console line: severity first."""
        where = f" (step {self.step})" if self.step is not None else ""
        return f"{self.severity.upper():7s} {self.id}: {self.title}{where}"


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _severity(finding) -> Any:
    return finding.get("severity") if isinstance(finding, Mapping) else finding.severity


def count_by_severity(findings: Iterable) -> dict:
    """``{"error": n, "warning": n, "info": n, "ok": n}``.

    ``findings`` are :class:`Finding` objects or their JSON documents; an
    unknown severity (a malformed document) is not counted.
    """
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        sev = _severity(f)
        if sev in counts:
            counts[sev] += 1
    return counts


def worst_severity(findings: Iterable) -> str | None:
    """The most severe severity among ``findings`` (None when empty), as :func:`count_by_severity`."""
    ranks = [_SEVERITY_RANK[sev] for sev in map(_severity, findings) if sev in _SEVERITY_RANK]
    return SEVERITIES[min(ranks)] if ranks else None


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; within a severity, causes before symptoms."""
    return sorted(findings, key=lambda f: (_SEVERITY_RANK[f.severity],
                                           _ORDER.get(f.id, len(_ORDER))))


def resolve_thresholds(thresholds: Mapping[str, float] | None = None) -> dict:
    """The threshold values to use: defaults overridden by ``thresholds``.

    Raises
    ------
    ValueError
        For an unknown name (a typo would otherwise be silently ignored).
    TypeError
        For a non-numeric value.
    """
    values = {k: v for k, (v, _) in THRESHOLDS.items()}
    if thresholds is None:
        return values
    if not isinstance(thresholds, Mapping):
        raise TypeError(f"thresholds must be a mapping name -> number, got "
                        f"{type(thresholds).__name__}")
    for k, v in thresholds.items():
        if k not in THRESHOLDS:
            raise ValueError(f"thresholds: unknown name {k!r}; known: {sorted(THRESHOLDS)}")
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise TypeError(f"thresholds[{k!r}] must be a finite number, got {v!r}")
        values[k] = float(v)
    return values


# ---------------------------------------------------------------- record access

def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _is_nonfinite(value) -> bool:
    """A history value that was NaN/Inf (written as null) or a non-finite float."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


class _Records:
    """Read-only view of the ``records`` mapping with the lookups rules need."""

    def __init__(self, records):
        if not isinstance(records, Mapping):
            raise TypeError(f"records must be a mapping kind -> list of entries, got "
                            f"{type(records).__name__}")
        self._records = records

    def entries(self, kind: str) -> list[dict]:
        out = []
        raw = self._records.get(kind) or []
        if not isinstance(raw, (list, tuple)):
            return out
        for e in raw:
            if isinstance(e, Mapping) and isinstance(e.get("value"), Mapping):
                step = e.get("step")
                out.append({"tag": str(e.get("tag", kind)),
                            "step": int(step) if isinstance(step, numbers.Integral) else None,
                            "value": e["value"]})
        return out

    def latest(self, kind: str, tag: str | None = None) -> dict | None:
        es = [e for e in self.entries(kind) if tag is None or e["tag"] == tag]
        if not es:
            return None
        return max(es, key=lambda e: -1 if e["step"] is None else e["step"])

    def primary_dataset(self) -> dict | None:
        """The training set's record: tag "train", else the first not named
        like a validation/test split, else the first."""
        es = self.entries("dataset")
        if not es:
            return None
        for e in es:
            if e["tag"] == "train":
                return e
        for e in es:
            t = e["tag"].lower()
            if not t.startswith(("val", "test", "eval")):
                return e
        return es[0]

    def errors(self) -> list:
        raw = self._records.get("_errors") or []
        return [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, (list, tuple)) else []


def _get(doc, *path):
    for p in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(p)
    return doc


def _fmt_bits(b) -> str:
    return f"{round(b):,}"


# ---------------------------------------------------------------- rules

def _capacity_verdict(R: _Records, T: dict):
    """``(verdict, evidence, step)`` from the model and primary dataset
    records, or None when either is missing."""
    m = R.latest("model")
    d = R.primary_dataset()
    if m is None or d is None:
        return None
    bits = _num(m["value"].get("bits"))
    expected = _num(_get(d["value"], "complexity", "expected_bits"))
    max_bits = _num(_get(d["value"], "complexity", "max_bits"))
    if bits is None or expected is None or max_bits is None:
        return None
    ratio = bits / expected if expected > 0 else math.inf
    if bits < T["capacity.too_small_ratio"] * expected:
        verdict = "too_small"
    elif bits > T["capacity.oversized_ratio"] * max_bits:  # as measures.capacity_match
        verdict = "oversized"
    else:
        verdict = "matched"
    ev = {"model_bits": int(bits), "expected_bits": int(expected), "max_bits": int(max_bits),
          "ratio": ratio, "memorise_ratio": bits / max_bits if max_bits > 0 else None,
          "dataset": d["tag"], "model": m["tag"], "target_bits": int(expected),
          "input_shape": d["value"].get("input_shape"), "dim": d["value"].get("dim"),
          "n_classes": d["value"].get("n_classes")}
    return verdict, ev, m["step"]


def _layer_kinds(model_doc: Mapping) -> list:
    layers = model_doc.get("layers")
    if not isinstance(layers, (list, tuple)):
        return []
    return sorted({str(l["kind"]) for l in layers if isinstance(l, Mapping) and l.get("kind")})


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


def rule_capacity(R: _Records, T: dict) -> list[Finding]:
    res = _capacity_verdict(R, T)
    if res is None:
        return []
    verdict, ev, step = res
    kinds = _layer_kinds(R.latest("model")["value"])
    bits, expected, max_bits = ev["model_bits"], ev["expected_bits"], ev["max_bits"]
    if verdict == "oversized":
        over = ev["memorise_ratio"] or 0.0
        return [Finding(
            "capacity.oversized", "warning",
            f"Model can memorise the training set {over:.1f}× over "
            f"({_fmt_bits(bits)} bits vs {_fmt_bits(max_bits)} to memorise)",
            ev,
            f"Shrink to about {_fmt_bits(expected)} bits: the data needs ~{_fmt_bits(expected)} "
            f"bits to generalise, and with {_fmt_bits(bits)} bits the network can store every "
            f"label instead of learning the rule, so it will overfit and is easier to fool. "
            f"Cut units in the first layers (they hold most bits); {_warehouse_hint(expected, ev, kinds)}.",
            step, "capacity")]
    if verdict == "too_small":
        return [Finding(
            "capacity.too_small", "warning",
            f"Model is too small for the data ({_fmt_bits(bits)} bits, data needs "
            f"{_fmt_bits(expected)})",
            ev,
            f"Grow to at least {_fmt_bits(expected)} bits: below the data's requirement the "
            f"network cannot place all the decision thresholds, so it underfits whatever the "
            f"training time. Widen the first layers; {_warehouse_hint(expected, ev, kinds)}.",
            step, "capacity")]
    return [Finding(
        "capacity.matched", "ok",
        f"Capacity matches the data ({_fmt_bits(bits)} bits, {ev['ratio']:.1f}× the "
        f"{_fmt_bits(expected)} needed)",
        ev,
        f"Keep the size: between {_fmt_bits(expected)} (needed) and {_fmt_bits(max_bits)} "
        f"(memorises) bits. Nearer the lower end generalises better.",
        step, "capacity")]


def _balance_docs(R: _Records) -> list[tuple[str, dict, int | None]]:
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


def rule_balance(R: _Records, T: dict) -> list[Finding]:
    out = []
    for tag, b, step in _balance_docs(R):
        ratio = _num(b.get("imbalance_ratio"))
        props = b.get("proportions") if isinstance(b.get("proportions"), Mapping) else {}
        counts = b.get("counts") if isinstance(b.get("counts"), Mapping) else {}
        if ratio is not None and ratio > T["balance.imbalance_ratio"]:
            out.append(Finding(
                "balance.imbalanced", "warning",
                f"Classes are imbalanced {ratio:.0f}:1 in '{tag}'",
                {"tag": tag, "imbalance_ratio": ratio, "counts": dict(counts),
                 "minority_fraction": _num(b.get("minority_fraction"))},
                "Resample before training (tb_nndebug.resample: SMOTE, Tomek links or the "
                "capacity-guided search) or weight the classes: a model trained on this "
                "learns to predict the majority, and accuracy hides it — watch per-class "
                "recall. The capacity estimate is also unreliable on very imbalanced data.",
                step, "balance"))
        rare = [str(c) for c in (b.get("rare_classes") or [])]
        if not rare and props:
            rare = [str(k) for k, p in props.items()
                    if _num(p) is not None and _num(p) < T["balance.rare_fraction"]]
        if rare:
            out.append(Finding(
                "balance.rare_class", "warning",
                f"Rare class{'es' if len(rare) > 1 else ''} in '{tag}': {', '.join(rare[:5])}"
                f"{'…' if len(rare) > 5 else ''}",
                {"tag": tag, "rare_classes": rare,
                 "proportions": {c: props.get(c) for c in rare if c in props}},
                f"Classes under {T['balance.rare_fraction']:.0%} of the data are rare events: "
                "collect or synthesise more of them (SMOTE) and report their recall; the model "
                "can ignore them at almost no cost to accuracy.",
                step, "balance"))
    return out


def rule_csg(R: _Records, T: dict) -> list[Finding]:
    d = R.primary_dataset()
    if d is None:
        return []
    score = _num(_get(d["value"], "csg", "score"))
    k = _num(d["value"].get("n_classes"))
    if score is None or k is None or k < 2:
        return []
    norm = score / (k - 1)
    ev = {"csg": score, "normalized": norm, "n_classes": int(k),
          "embedding": _get(d["value"], "csg", "embedding"), "dataset": d["tag"]}
    if norm >= T["csg.warning"]:
        sev = "warning"
    elif norm >= T["csg.info"]:
        sev = "info"
    else:
        return []
    overlap = _get(d["value"], "csg", "overlap")
    classes = d["value"].get("classes") or []
    pair = _worst_pair(overlap, classes)
    if pair:
        ev["most_confused"] = pair
    return [Finding(
        "csg.high_overlap", sev,
        f"Classes overlap (CSG {score:.2f} of at most {int(k) - 1})"
        + (f"; most between {pair[0]} and {pair[1]}" if pair else ""),
        ev,
        "Expect a ceiling on accuracy from the data itself, not the model: look at the most "
        "confused classes in the projection and similarity matrix; better features, an "
        "embedding, or more data for those classes help more than a bigger network.",
        d["step"], "csg")]


def _worst_pair(overlap, classes):
    try:
        k = len(overlap)
        best, pair = -1.0, None
        for i in range(k):
            for j in range(k):
                if i != j:
                    v = _num(overlap[i][j])
                    if v is not None and v > best:
                        best, pair = v, (i, j)
        if pair is None:
            return None
        name = (lambda i: str(classes[i]) if i < len(classes) else str(i))
        return [name(pair[0]), name(pair[1])]
    except (TypeError, IndexError):
        return None


def _checks(R: _Records):
    return R.latest("checks")


def rule_static(R: _Records, T: dict) -> list[Finding]:
    """Checks done once before training: loss/output, labels, inference, input."""
    out = []
    c = _checks(R)
    m = R.latest("model")
    cdoc = c["value"] if c else {}
    step = c["step"] if c else None
    act = cdoc.get("output_activation") or (m["value"].get("output_activation") if m else None)
    loss = cdoc.get("loss") if isinstance(cdoc.get("loss"), Mapping) else {}
    lname, from_logits = str(loss.get("name") or ""), loss.get("from_logits")
    is_ce = "crossentropy" in lname.lower() or lname in ("bce", "cce", "scce")
    if is_ce and act in ("softmax", "sigmoid") and from_logits is True:
        out.append(Finding(
            "training.logits_mismatch", "error",
            f"{act} output with {lname}(from_logits=True)",
            {"output_activation": act, "loss": lname, "from_logits": True},
            f"Either drop the final {act} (keep from_logits=True, the numerically stable "
            f"choice) or set from_logits=False: now the loss applies {act} a second time, "
            "which squashes the gradients and slows or stalls learning.",
            step, "checks"))
    elif is_ce and act in ("linear", None) and from_logits is False and act is not None:
        out.append(Finding(
            "training.logits_mismatch", "error",
            f"Linear output with {lname}(from_logits=False)",
            {"output_activation": act, "loss": lname, "from_logits": False},
            "Pass from_logits=True to the loss (or add a softmax/sigmoid output): the loss "
            "treats raw scores as probabilities, clips them, and the gradients are wrong.",
            step, "checks"))
    lr = _num(cdoc.get("label_range", [None, None])[0]) if isinstance(
        cdoc.get("label_range"), (list, tuple)) and len(cdoc["label_range"]) == 2 else None
    hr = _num(cdoc["label_range"][1]) if lr is not None else None
    n_out = _num(cdoc.get("n_outputs"))
    if lr is not None and hr is not None and n_out is not None and is_ce:
        bad = None
        if "sparse" in lname.lower() or lname == "scce":
            if lr < 0 or hr > n_out - 1:
                bad = f"labels span {lr:g}..{hr:g} but the model has {int(n_out)} outputs"
        elif "binary" in lname.lower() or lname == "bce":
            if lr < 0 or hr > 1:
                bad = f"labels span {lr:g}..{hr:g} but binary cross-entropy needs 0..1"
        elif lr < 0 or hr > 1:
            bad = f"targets span {lr:g}..{hr:g}; categorical cross-entropy needs one-hot 0/1"
        if bad:
            out.append(Finding(
                "training.labels_out_of_range", "error", bad[0].upper() + bad[1:],
                {"label_range": [lr, hr], "n_outputs": int(n_out), "loss": lname},
                "Make the output layer as wide as the number of classes and encode labels as "
                "0..K-1 (sparse) or one-hot (categorical); out-of-range labels give NaN or a "
                "silently wrong loss.",
                step, "checks"))
    if cdoc.get("inference_deterministic") is False:
        diff = _num(cdoc.get("inference_max_diff"))
        if diff is None or diff > T["inference.max_diff"]:
            out.append(Finding(
                "training.dropout_at_inference", "error",
                "Predictions change between two inference passes on the same batch",
                {"inference_max_diff": diff, "stochastic_layers": cdoc.get("stochastic_layers")},
                "A layer stays random with training=False (dropout or noise called with "
                "training=True, or a custom layer ignoring `training`): evaluation and "
                "predictions are noisy and worse than the model can do. Pass `training` "
                "through to Dropout/noise layers (the Keras version of forgetting model.eval()).",
                step, "checks"))
    linear = [str(n) for n in (cdoc.get("linear_hidden_layers") or [])]
    if linear:
        out.append(Finding(
            "model.linear_hidden", "warning",
            f"Hidden layer{'s' if len(linear) > 1 else ''} without an activation: "
            f"{', '.join(linear[:4])}{'…' if len(linear) > 4 else ''}",
            {"layers": linear},
            "Give hidden Dense/Conv layers a non-linear activation (e.g. activation='relu'): "
            "linear layers stacked on each other collapse into a single linear map, so the "
            "extra layers add parameters but no expressive power.",
            step, "layers"))
    rates = cdoc.get("dropout_rates") if isinstance(cdoc.get("dropout_rates"), Mapping) else {}
    high = {str(k): _num(v) for k, v in rates.items()
            if _num(v) is not None and _num(v) > T["dropout.max_rate"]}
    if high:
        out.append(Finding(
            "training.dropout_rate_high", "warning",
            "Dropout rate above " + f"{T['dropout.max_rate']:g}: "
            + ", ".join(f"{k} ({v:g})" for k, v in list(high.items())[:4]),
            {"dropout_rates": high},
            "Use a rate of 0.1–0.5: a layer that drops most of its inputs each step trains "
            "slowly and underfits; `rate` is the fraction DROPPED in Keras, not kept.",
            step, "layers"))
    stats = None
    if c and isinstance(cdoc.get("input_range"), (list, tuple)) and len(cdoc["input_range"]) == 2:
        stats = {"min": _num(cdoc["input_range"][0]), "max": _num(cdoc["input_range"][1]),
                 "mean": _num(cdoc.get("input_mean")), "std": _num(cdoc.get("input_std"))}
        src, sstep = "checks", step
    else:
        d = R.primary_dataset()
        if d is not None and isinstance(d["value"].get("input_stats"), Mapping):
            s = d["value"]["input_stats"]
            stats = {k: _num(s.get(k)) for k in ("min", "max", "mean", "std")}
            src, sstep = d["tag"], d["step"]
    if stats and stats["min"] is not None and stats["max"] is not None:
        max_abs = max(abs(stats["min"]), abs(stats["max"]))
        std, mean = stats["std"], stats["mean"]
        if max_abs > T["data.max_abs"] and (
                (std is not None and std > T["data.max_std"])
                or (mean is not None and abs(mean) > T["data.max_abs_mean"])):
            out.append(Finding(
                "data.not_normalized", "warning",
                f"Input is not normalised (range {stats['min']:g}..{stats['max']:g}"
                + (f", std {std:.3g}" if std is not None else "") + ")",
                dict(stats, source=src),
                "Scale inputs to [0, 1] (e.g. pixels / 255) or standardise them (zero mean, "
                "unit variance, e.g. keras.layers.Normalization): large inputs blow up the "
                "first layer's activations and gradients, so the learning rate that suits the "
                "other layers is far too large for it.",
                sstep, "checks"))
    lr_val = _num(cdoc.get("learning_rate"))
    if lr_val is not None and 0 < lr_val < T["lr_too_low.lr_min"]:
        out.append(Finding(
            "training.lr_too_low", "warning", f"Learning rate {lr_val:g} is tiny",
            {"learning_rate": lr_val},
            "Start around 1e-3 for Adam or 1e-2 for SGD: with this step size the weights "
            "barely move.", step, "training"))
    return out


def _series(hist, key) -> list:
    v = hist.get(key) if isinstance(hist, Mapping) else None
    return list(v) if isinstance(v, (list, tuple)) else []


def _acc_key(hist, prefix="") -> str | None:
    if not isinstance(hist, Mapping):
        return None
    for k in hist:
        name = k[len(prefix):] if prefix and k.startswith(prefix) else (None if prefix else k)
        if name is None or (not prefix and k.startswith("val_")):
            continue
        if name in ("accuracy", "acc") or name.endswith(("_accuracy", "_acc")):
            return k
    return None


def _training(R: _Records):
    t = R.latest("training")
    if t is None:
        return None, {}, None
    hist = t["value"].get("history")
    return t, hist if isinstance(hist, Mapping) else {}, t["step"]


def rule_learning_rate(R: _Records, T: dict) -> list[Finding]:
    t, hist, step = _training(R)
    if t is None:
        return []
    doc = t["value"]
    lr = _num(doc.get("learning_rate"))
    loss = _series(hist, "loss")
    c = _checks(R)
    initial = _num(c["value"].get("initial_loss")) if c else None
    out = []
    bad = [i for i, v in enumerate(loss) if _is_nonfinite(v)]
    probe = _num(doc.get("probe_loss"))
    ev = {"learning_rate": lr, "loss": loss[-10:], "initial_loss": initial, "probe_loss": probe}
    high_advice = ("Lower the learning rate about 10× (or add gradient clipping / a warm-up): "
                   "steps this large overshoot the minimum, so the loss grows or bounces "
                   "instead of falling.")
    if bad or doc.get("probe_loss_finite") is False:
        ev["nonfinite_epochs"] = bad
        where = f"at epoch {bad[0]}" if bad else "on the probe batch"
        return [Finding("training.lr_too_high", "error", f"Loss became NaN/Inf {where}",
                        ev, high_advice, step, "training")]
    finite = [float(v) for v in loss]
    if not finite:
        return []
    base = initial if initial is not None else finite[0]
    if finite[-1] >= T["lr_too_high.loss_max"] or (
            base > 0 and len(finite) >= 2 and finite[-1] > T["lr_too_high.diverge_ratio"] * base):
        return [Finding("training.lr_too_high", "error",
                        f"Loss is diverging ({finite[-1]:.3g} now vs {base:.3g} "
                        f"{'before training' if initial is not None else 'at epoch 0'})",
                        ev, high_advice, step, "training")]
    diffs = [(b - a) / abs(a) for a, b in itertools.pairwise(finite) if a != 0]
    swings = sum(1 for d in diffs if d > T["lr_too_high.rise"])
    if len(diffs) >= 3 and swings >= 2 and swings >= T["lr_too_high.swing_fraction"] * len(diffs):
        ev["rises"] = swings
        return [Finding("training.lr_too_high", "warning",
                        f"Loss oscillates (rose in {swings} of {len(diffs)} epochs)",
                        ev, high_advice, step, "training")]
    window = int(T["lr_too_low.window"])
    early = finite[:window]
    ref = initial if initial is not None else (early[0] if len(early) >= 2 else None)
    if ref is not None and ref > 0 and len(early) >= 2:
        progress = (ref - min(early)) / ref
        ev["progress"] = progress
        ev["weight_update_ratio"] = _num(doc.get("weight_update_ratio"))
        acc_key = _acc_key(hist)
        accs = [a for a in (_num(v) for v in _series(hist, acc_key)) if a is not None] \
            if acc_key else []
        chance = _chance_level(R)
        already_good = bool(accs) and chance is not None and \
            max(accs) >= chance + T["lr_too_low.good_fraction"] * (1 - chance)
        ev["already_good"] = already_good
        if progress < T["lr_too_low.progress"] and not already_good:
            out.append(Finding(
                "training.lr_too_low", "warning",
                f"Loss barely moves ({progress:.2%} lower after {len(early)} epochs)",
                ev,
                "Raise the learning rate about 10× (Adam's default 1e-3 is a good start): "
                "the weights change so little per epoch that training would take "
                "far too long, if it gets anywhere.",
                step, "training"))
    return out


def rule_gradients(R: _Records, T: dict) -> list[Finding]:
    t, _, step = _training(R)
    if t is None:
        return []
    norms = [g for g in (t["value"].get("grad_norms") or []) if isinstance(g, Mapping)]
    if not norms:
        return []
    vals = [g.get("norm") for g in norms]
    out = []
    first, last = _num(vals[0]), _num(vals[-1])
    ev = {"grad_norms": [{"layer": g.get("layer"), "norm": _num(g.get("norm"))} for g in norms],
          "first": first, "last": last}
    nonfinite = [str(g.get("layer")) for g in norms if _num(g.get("norm")) is None]
    if nonfinite:
        ev["nonfinite_layers"] = nonfinite
        return [Finding("training.exploding_gradients", "error",
                        f"Gradients are NaN/Inf in {', '.join(nonfinite[:3])}", ev,
                        "Lower the learning rate, clip gradients (clipnorm=1.0) and check the "
                        "input for huge values: non-finite gradients destroy the weights.",
                        step, "layers")]
    if len(vals) >= 2 and first is not None and last:
        ratio = first / last
        ev["ratio"] = ratio
        if ratio < T["gradients.vanishing_ratio"] and first < T["gradients.vanishing_first"]:
            out.append(Finding(
                "training.vanishing_gradients", "warning",
                f"Gradients vanish towards the input (first/last layer {ratio:.1e})",
                ev,
                "Use ReLU-family activations (or SELU) instead of stacked sigmoid/tanh, add "
                "BatchNormalization or residual connections, and He initialisation: the first "
                "layers get almost no gradient, so they stay at their random start.",
                step, "layers"))
            return out
        big = max(_num(v) or 0.0 for v in vals)
        if ratio > T["gradients.exploding_ratio"] or big > T["gradients.exploding_norm"]:
            out.append(Finding(
                "training.exploding_gradients", "warning",
                f"Gradients explode towards the input (first/last layer {ratio:.3g}, "
                f"largest {big:.3g})",
                dict(ev, largest=big),
                "Normalise the input, lower the learning rate or clip gradients "
                "(optimizer clipnorm=1.0), and prefer BatchNormalization: large gradients in "
                "the first layers make training unstable.",
                step, "layers"))
    return out


def rule_dead_units(R: _Records, T: dict) -> list[Finding]:
    t, _, step = _training(R)
    if t is None:
        return []
    dead = [d for d in (t["value"].get("dead_units") or []) if isinstance(d, Mapping)]
    bad = [d for d in dead if (_num(d.get("fraction")) or 0.0) > T["dead_units.fraction"]]
    if not bad:
        return []
    worst = max(bad, key=lambda d: _num(d.get("fraction")) or 0.0)
    return [Finding(
        "training.dead_units", "warning",
        f"{_num(worst.get('fraction')):.0%} of ReLU units in {worst.get('layer')} never fire"
        + (f" (+{len(bad) - 1} more layers)" if len(bad) > 1 else ""),
        {"layers": [{"layer": d.get("layer"), "fraction": _num(d.get("fraction")),
                     "units": d.get("units")} for d in bad]},
        "Lower the learning rate, use LeakyReLU/ELU, or He initialisation: dead ReLUs output "
        "0 for every input, get no gradient and never recover, so that capacity is lost.",
        step, "layers")]


def rule_generalisation(R: _Records, T: dict) -> list[Finding]:
    t, hist, step = _training(R)
    if t is None:
        return []
    out = []
    doc = t["value"]
    loss = _series(hist, "loss")
    val = _series(hist, "val_loss")
    pairs = [(i, _num(a), _num(b)) for i, (a, b) in enumerate(zip(loss, val))]
    pairs = [(i, a, b) for i, a, b in pairs if a is not None and b is not None]
    if len(pairs) >= 3:
        best_i, _, best_val = min(pairs, key=lambda p: p[2])
        last_i, last_train, last_val = pairs[-1]
        train_at_best = {i: a for i, a, _ in pairs}[best_i]
        rise = (last_val - best_val) / best_val if best_val > 0 else 0.0
        gap = (last_val - last_train) / last_train if last_train > 0 else math.inf
        stalled = last_i - best_i >= T["overfitting.patience"] and last_train < train_at_best
        if stalled and (rise > T["overfitting.rise"] or gap > T["overfitting.gap"]):
            title = (f"Validation loss rose {rise:.0%} since epoch {best_i} while training "
                     f"loss fell" if rise > T["overfitting.rise"] else
                     f"Validation loss stopped improving at epoch {best_i} and is "
                     f"{last_val / max(last_train, 1e-12):.0f}× the training loss")
            out.append(Finding(
                "training.overfitting", "warning", title,
                {"best_epoch": best_i, "best_val_loss": best_val, "val_loss": last_val,
                 "train_loss": last_train, "train_loss_at_best": train_at_best, "gap": gap},
                "Stop at the best epoch (keras.callbacks.EarlyStopping(restore_best_weights="
                "True)) and regularise (dropout, weight decay, augmentation) or get more data: "
                "the model is fitting noise in the training set.",
                step, "training"))
    acc_key = _acc_key(hist)
    acc = [_num(v) for v in _series(hist, acc_key)] if acc_key else []
    acc = [a for a in acc if a is not None]
    chance = _chance_level(R)
    planned = _num(doc.get("epochs_planned"))
    n_epochs = len(loss) or len(acc)
    if acc and chance is not None:
        enough = n_epochs >= 2 and (planned is None or n_epochs >= T["underfitting.after"] * planned)
        limit = chance + T["underfitting.margin"] * (1 - chance)
        if enough and max(acc) <= limit:
            out.append(Finding(
                "training.underfitting", "warning",
                f"Training accuracy {max(acc):.1%} is near chance ({chance:.1%})",
                {"train_accuracy": max(acc), "chance": chance, "limit": limit,
                 "epochs": n_epochs},
                "The model does not even fit the training data: check the learning rate, the "
                "loss/output pairing and the labels first, then grow the model.",
                step, "training"))
    val_key = "val_" + acc_key if acc_key and ("val_" + acc_key) in hist else None
    if acc_key and val_key:
        tr = [_num(v) for v in _series(hist, acc_key)]
        va = [_num(v) for v in _series(hist, val_key)]
        last = next(((a, b, i) for i, (a, b) in reversed(list(enumerate(zip(tr, va))))
                     if a is not None and b is not None), None)
        c = _checks(R)
        stochastic = (c["value"].get("stochastic_layers") or []) if c else []
        if last and last[2] >= T["suspicious_validation.min_epoch"] - 1 \
                and last[1] > last[0] + T["suspicious_validation.gap"] \
                and (chance is None or last[0] > chance + T["underfitting.margin"] * (1 - chance)):
            # train accuracy is measured with dropout/noise on: that alone can explain it
            out.append(Finding(
                "training.suspicious_validation", "info" if stochastic else "warning",
                f"Validation accuracy {last[1]:.1%} is well above training accuracy {last[0]:.1%}",
                {"train_accuracy": last[0], "val_accuracy": last[1], "epoch": last[2],
                 "stochastic_layers": list(stochastic) if isinstance(stochastic, list) else []},
                "Check the split: validation samples duplicated from training, an easier or "
                "leaked validation set, or heavy train-time regularisation (dropout, "
                "augmentation) can explain it.",
                step, "training"))
    return out


def _chance_level(R: _Records) -> float | None:
    d = R.primary_dataset()
    props = _get(d["value"], "balance", "proportions") if d else None
    if isinstance(props, Mapping) and props:
        vals = [_num(v) for v in props.values()]
        vals = [v for v in vals if v is not None]
        if vals:
            return max(vals)
    c = _checks(R)
    m = R.latest("model")
    n = _num(c["value"].get("n_outputs")) if c else None
    if n is None and m is not None:
        n = _num(m["value"].get("n_outputs"))
    if n is None:
        return None
    return 0.5 if n <= 2 else 1.0 / n


def rule_dataset_missing(R: _Records, T: dict) -> list[Finding]:
    c = _checks(R)
    if c is None or R.entries("dataset"):
        return []
    skipped = c["value"].get("dataset_skipped")
    if skipped:
        return [Finding(
            "dataset.not_measured", "info",
            "Dataset not measured: " + _first_line(skipped),
            {"train_data_given": c["value"].get("train_data_given"), "reason": skipped},
            "The paper's capacity and balance measures are defined for classification; the "
            "training checks (loss, gradients, units, learning rate) still apply.",
            c["step"], "capacity")]
    return [Finding(
        "dataset.not_measured", "info",
        "No dataset record: capacity, balance and class overlap were not checked",
        {"train_data_given": c["value"].get("train_data_given")},
        "Pass train_data=(X, y) to DebuggerCallback (or call tb_nndebug.summary.dataset) so "
        "the model's size can be judged against what the data needs.",
        c["step"], "capacity")]


def rule_robustness(R: _Records, T: dict) -> list[Finding]:
    out = []
    for e in R.entries("robustness"):
        r = e["value"]
        med = _num(r.get("median_eps"))
        pix = _num(r.get("median_pixels"))
        clean = _num(r.get("clean_accuracy"))
        ev = {"tag": e["tag"], "median_eps": med, "median_pixels": pix, "clean_accuracy": clean,
              "norm": r.get("norm"), "censored_fraction": _num(r.get("censored_fraction")),
              "n": r.get("n")}
        if med is not None and med < T["robustness.tiny_eps"]:
            out.append(Finding(
                "robustness.fragile", "warning",
                f"Fooled by imperceptible changes (median eps {med:.3g})", ev,
                "Shrink the model towards the data's expected bits (smaller networks were "
                "harder to fool in the paper's sweep) or train adversarially; check "
                "the examples to see what flips the prediction.",
                e["step"], "robustness"))
        else:
            parts = []
            if med is not None:
                parts.append(f"median eps {med:.3g}")
            if pix is not None:
                parts.append(f"median {pix:.0f} pixels")
            out.append(Finding(
                "robustness.summary", "info",
                "Robustness: " + (", ".join(parts) if parts else "no sample was fooled"), ev,
                "Compare runs of different capacity in the Compare view: larger minimal "
                "perturbations mean a harder-to-fool model.",
                e["step"], "robustness"))
    return out


def rule_resampling(R: _Records, T: dict) -> list[Finding]:
    out = []
    for e in R.entries("resampling"):
        r = e["value"]
        eb, ea = _num(r.get("expected_bits_before")), _num(r.get("expected_bits_after"))
        out.append(Finding(
            "resampling.applied", "info",
            f"Resampled with {r.get('method')}"
            + (f": expected bits {eb:,.0f} → {ea:,.0f}" if eb is not None and ea is not None
               else ""),
            {"tag": e["tag"], "method": r.get("method"), "before": r.get("before"),
             "after": r.get("after"), "expected_bits_before": eb, "expected_bits_after": ea,
             "n_synthetic": r.get("n_synthetic"), "n_removed": r.get("n_removed")},
            "Size the model against the resampled data's expected bits, and evaluate on "
            "untouched (not resampled) validation data.",
            e["step"], "balance"))
    return out


def _first_line(text, limit=200) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def rule_meta(R: _Records, T: dict) -> list[Finding]:
    out = []
    for e in R.entries("diagnostic_error"):
        v = e["value"]
        errs = v.get("errors") if isinstance(v.get("errors"), list) else [
            {"diagnostic": v.get("diagnostic"), "error": v.get("error")}]
        for err in errs:
            if not isinstance(err, Mapping):
                continue
            out.append(Finding(
                "diagnostic.failed", "warning",
                f"Diagnostic '{err.get('diagnostic')}' failed: {_first_line(err.get('error'))}",
                {"diagnostic": err.get("diagnostic"), "error": err.get("error"),
                 "epoch": v.get("epoch")},
                "Training went on without this check; its findings are missing. Report the "
                "error with the model's summary if it is a tb_nndebug bug.",
                e["step"], "checks"))
    for err in R.errors():
        out.append(Finding(
            "record.unsupported", "warning",
            f"Record '{err.get('tag')}' could not be read: {_first_line(err.get('error'))}",
            {"tag": err.get("tag"), "kind": err.get("kind"), "run": err.get("run"),
             "step": err.get("step"), "error": err.get("error")},
            "Upgrade tb_nndebug if the record is newer than this reader; otherwise rewrite "
            "the run. The rest of the report is unaffected.",
            None, "checks"))
    return out


RULES: tuple[Callable[[_Records, dict], list[Finding]], ...] = (
    rule_static, rule_capacity, rule_balance, rule_csg, rule_learning_rate, rule_gradients,
    rule_dead_units, rule_generalisation, rule_dataset_missing, rule_robustness,
    rule_resampling, rule_meta,
)


def _link_causes(findings: list[Finding]) -> list[Finding]:
    """Name the root cause in each symptom and rank the cause above it."""
    by_id = {}
    for f in findings:
        by_id.setdefault(f.id, f)
    out = list(findings)
    raise_to = {}
    for i, f in enumerate(out):
        cause = next((by_id[c] for c in CAUSES.get(f.id, ()) if c in by_id
                      and by_id[c].severity in ("error", "warning")), None)
        if cause is None:
            continue
        ev = dict(f.evidence, likely_cause=cause.id)
        if cause.id.startswith("capacity."):
            for k in ("model_bits", "expected_bits", "max_bits", "target_bits"):
                if k in cause.evidence:
                    ev[k] = cause.evidence[k]
        advice = f"Likely cause: {cause.title} — {cause.advice} {f.advice}"
        out[i] = Finding(f.id, f.severity, f.title, ev, advice, f.step, f.panel)
        if _SEVERITY_RANK[f.severity] < _SEVERITY_RANK[cause.severity]:
            prev = raise_to.get(cause.id, cause.severity)
            raise_to[cause.id] = min(prev, f.severity, key=_SEVERITY_RANK.get)
    if raise_to:
        out = [Finding(f.id, raise_to[f.id], f.title, f.evidence, f.advice, f.step, f.panel)
               if f.id in raise_to else f for f in out]
    return out


def diagnose(records: Mapping[str, Any], *, thresholds: Mapping[str, float] | None = None
             ) -> list[Finding]:
    """Turn records into findings, most severe first.

    Parameters
    ----------
    records : mapping
        ``kind -> [{"tag", "step", "value": <record document>, "history"?}, ...]``,
        exactly the ``records`` object of the plugin's ``GET /report``;
        optionally ``"_errors": [{"tag", "kind", "run", "step", "error"}]`` for
        records a reader could not decode (each becomes ``record.unsupported``).
    thresholds : mapping, optional
        Overrides for :data:`THRESHOLDS` (name -> number).

    Returns
    -------
    list of Finding
        Sorted by severity, then causes before symptoms. Never raises on odd
        record contents: a rule that cannot read them yields a
        ``diagnostic.failed`` finding instead.

    Examples
    --------
    >>> recs = {"balance": [{"tag": "y", "step": 0, "value": {
    ...     "imbalance_ratio": 19.0, "counts": {"0": 95, "1": 5}, "rare_classes": []}}]}
    >>> [f.id for f in diagnose(recs)]
    ['balance.imbalanced']
    """
    T = resolve_thresholds(thresholds)
    R = _Records(records)
    findings: list[Finding] = []
    for rule in RULES:
        try:
            findings.extend(rule(R, T))
        except Exception as exc:  # noqa: BLE001 - odd data must never break a report
            findings.append(Finding(
                "diagnostic.failed", "warning",
                f"Rule {rule.__name__} could not read the records: {type(exc).__name__}: {exc}",
                {"diagnostic": rule.__name__, "error": f"{type(exc).__name__}: {exc}"},
                "The other findings stand; this rule's check is missing.", None, "checks"))
    return sort_findings(_link_causes(findings))


def _check_order():
    for symptom, causes in CAUSES.items():
        for c in causes:
            assert _ORDER[c] < _ORDER[symptom], (c, symptom)


_check_order()

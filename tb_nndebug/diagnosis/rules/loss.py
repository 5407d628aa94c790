"""The loss against the output layer and the labels (checks record)."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, rule
from ..view import num


def loss_facts(R):
    """``(checks document, step, output activation, loss name, from_logits, is cross-entropy)``."""
    c = R.checks()
    m = R.latest("model")
    cdoc = c["value"] if c else {}
    act = cdoc.get("output_activation") or (m["value"].get("output_activation") if m else None)
    loss = cdoc.get("loss") if isinstance(cdoc.get("loss"), Mapping) else {}
    lname = str(loss.get("name") or "")
    is_ce = "crossentropy" in lname.lower() or lname in ("bce", "cce", "scce")
    return cdoc, (c["step"] if c else None), act, lname, loss.get("from_logits"), is_ce


#: Losses that compare values (not class probabilities), by normalised name.
_REGRESSION = {"mse": True, "meansquarederror": True, "mae": True, "meanabsoluteerror": True,
               "huber": True, "huberloss": True, "logcosh": True,
               "mape": False, "meanabsolutepercentageerror": False,
               "msle": False, "meansquaredlogarithmicerror": False}


def loss_key(lname) -> str:
    """A loss name lower-cased without underscores/spaces (``"MeanSquaredError"`` →
    ``"meansquarederror"``)."""
    return str(lname or "").lower().replace("_", "").replace(" ", "")


def loss_kind(lname) -> str | None:
    """``"sparse_ce"``, ``"categorical_ce"``, ``"binary_ce"``, ``"regression"`` or None
    (unknown or custom) for a Keras loss name (``"mse"``, ``"SparseCategoricalCrossentropy"``)."""
    n = loss_key(lname)
    if n == "scce" or n.startswith("sparsecategorical"):
        return "sparse_ce"
    if n == "cce" or n.startswith("categoricalcrossentropy") or n.startswith("categoricalfocal"):
        return "categorical_ce"
    if n == "bce" or n.startswith("binarycrossentropy") or n.startswith("binaryfocal"):
        return "binary_ce"
    if n in _REGRESSION:
        return "regression"
    return None


def scale_sensitive(lname) -> bool:
    """A regression loss whose size grows with the targets' scale (MSE, MAE, Huber, log-cosh;
    not MAPE/MSLE)."""
    return bool(_REGRESSION.get(loss_key(lname)))


def targets_doc(R) -> dict | None:
    """The checks record's ``targets`` facts (single-output models), or None when unknown."""
    c = R.checks()
    t = c["value"].get("targets") if c else None
    return t if isinstance(t, Mapping) else None


def _heads(R):
    """``(output or None, activation, loss name, from_logits, is cross-entropy, step)`` per
    output: each head of a multi-output model with its own loss, else the one output."""
    cdoc, step, act, lname, from_logits, is_ce = loss_facts(R)
    per = cdoc.get("losses_by_output")
    if isinstance(per, list) and per:
        for h in per:
            if not isinstance(h, Mapping) or not isinstance(h.get("loss"), Mapping):
                continue
            name = str(h["loss"].get("name") or "")
            yield (h.get("output"), h.get("activation"), name, h["loss"].get("from_logits"),
                   "crossentropy" in name.lower() or name in ("bce", "cce", "scce"), step)
        return
    yield None, act, lname, from_logits, is_ce, step


@rule("training.logits_mismatch", severities=("error", "warning"), panel="checks", order=20,
      fires_when="linear + `from_logits=False` (error); softmax/sigmoid + `from_logits=True` "
                 "(warning: Keras's TensorFlow backend compensates, JAX/PyTorch do not); per "
                 "output of a multi-output model")
def logits_mismatch(R, T):
    for output, act, lname, from_logits, is_ce, step in _heads(R):
        where = f" on output '{output}'" if output else ""
        ev = {"output_activation": act, "loss": lname, "output": output}
        if is_ce and act in ("softmax", "sigmoid") and from_logits is True:
            yield Found(
                "warning", f"{act} output with {lname}(from_logits=True){where}",
                dict(ev, from_logits=True),
                f"Either drop the final {act} (keep from_logits=True, the numerically stable "
                f"choice) or set from_logits=False. Keras's TensorFlow backend notices the {act} "
                "and uses its logits (with a UserWarning); the JAX and PyTorch backends apply "
                f"{act} a second time, which squashes the gradients and stalls learning.",
                step)
        elif is_ce and act == "linear" and from_logits is False:
            yield Found(
                "error", f"Linear output with {lname}(from_logits=False){where}",
                dict(ev, from_logits=False),
                "Pass from_logits=True to the loss (or add a softmax/sigmoid output): the loss "
                "treats raw scores as probabilities, clips them, and the gradients are wrong.",
                step)


def _label_problem(lname: str, lo: float, hi: float, n_out: float) -> str | None:
    low = lname.lower()
    if "sparse" in low or lname == "scce":
        if lo < 0 or hi > n_out - 1:
            return f"labels span {lo:g}..{hi:g} but the model has {int(n_out)} outputs"
    elif "binary" in low or lname == "bce":
        if lo < 0 or hi > 1:
            return f"labels span {lo:g}..{hi:g} but binary cross-entropy needs 0..1"
    elif lo < 0 or hi > 1:
        return f"targets span {lo:g}..{hi:g}; categorical cross-entropy needs one-hot 0/1"
    return None


@rule("training.labels_out_of_range", severities=("error",), panel="checks", order=10,
      fires_when="labels outside the output's range")
def labels_out_of_range(R, T):
    cdoc, step, _, lname, _, is_ce = loss_facts(R)
    span = cdoc.get("label_range")
    tg = targets_doc(R)
    if not isinstance(span, (list, tuple)) and tg is not None:
        span = [tg.get("min"), tg.get("max")]  # the targets' facts, when no label range
    if not is_ce or not isinstance(span, (list, tuple)) or len(span) != 2:
        return
    lo, hi, n_out = num(span[0]), num(span[1]), num(cdoc.get("n_outputs"))
    if lo is None or hi is None or n_out is None:
        return
    bad = _label_problem(lname, lo, hi, n_out)
    if bad:
        yield Found(
            "error", bad[0].upper() + bad[1:],
            {"label_range": [lo, hi], "n_outputs": int(n_out), "loss": lname},
            "Make the output layer as wide as the number of classes and encode labels as "
            "0..K-1 (sparse) or one-hot (categorical); out-of-range labels give NaN or a "
            "silently wrong loss.",
            step)

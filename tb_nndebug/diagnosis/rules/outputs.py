"""The output layer against the targets and the loss: can it produce them, does the loss fit?"""
from __future__ import annotations

import math

from ..registry import Found, Threshold, rule
from ..view import num
from .loss import loss_facts, loss_kind, targets_doc

_INF = math.inf
#: What each output activation can produce (Keras activation names).
OUTPUT_RANGE = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0),
                "tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "hard_tanh": (-1.0, 1.0),
                "relu": (0.0, _INF), "relu6": (0.0, 6.0), "softplus": (0.0, _INF),
                "exponential": (0.0, _INF), "elu": (-1.0, _INF), "selu": (-1.7581, _INF)}
_PROBABILITY = ("sigmoid", "hard_sigmoid", "softmax")
#: Activations whose outputs are neither probabilities nor unconstrained logits.
_NOT_PROBABILITY = ("relu", "relu6", "softplus", "exponential", "elu", "selu", "tanh", "softsign",
                    "hard_tanh", "leaky_relu", "gelu", "silu", "swish", "hard_silu",
                    "hard_swish", "mish")
_CE = ("sparse_ce", "categorical_ce", "binary_ce")
_CE_NAME = {"sparse_ce": "sparse categorical cross-entropy",
            "categorical_ce": "categorical cross-entropy", "binary_ce": "binary cross-entropy"}


def output_facts(R):
    """``(checks document, step, output activation, loss name, loss kind, from_logits,
    n_outputs)``; see :func:`.loss.loss_kind` for the kinds."""
    cdoc, step, act, lname, from_logits, _ = loss_facts(R)
    return cdoc, step, act, lname, loss_kind(lname), from_logits, num(cdoc.get("n_outputs"))


def _base_evidence(act, lname, n_out, from_logits):
    return {"output_activation": act, "loss": lname or None,
            "n_outputs": int(n_out) if n_out is not None else None, "from_logits": from_logits}


def _ce_output(act, kind, from_logits, ev, step):
    """A non-probability activation (relu, tanh…) in front of a cross-entropy."""
    if act not in _NOT_PROBABILITY:
        return None
    lo, hi = OUTPUT_RANGE.get(act, (None, None))
    if from_logits is True:
        if kind == "binary_ce" and lo is not None and lo >= 0:
            why = (f"sigmoid({act}(z)) is never below 0.5, so the model cannot predict the "
                   "negative class")
        elif hi is not None and hi < _INF:
            why = (f"{act} caps the logits at {hi:g}, so the model can never be confident and "
                   "the loss has a floor above 0")
        else:
            why = (f"{act} logits stop getting gradient where {act} is flat, so classes whose "
                   "logit should fall get stuck")
    else:
        why = (f"the loss reads the outputs as probabilities, but {act} outputs are not "
               "(they can be 0, above 1 or negative, and do not sum to 1)")
    return Found(
        "warning", f"{act} output feeding {_CE_NAME[kind]}", ev,
        f"Use a linear output with from_logits=True in the loss (the stable choice), or a "
        f"{'sigmoid' if kind == 'binary_ce' else 'softmax'} output with from_logits=False: "
        f"{why}.",
        step)


def _range_output(T, act, tg, ev, step):
    """A regression output whose activation cannot reach the targets."""
    if act not in OUTPUT_RANGE or tg is None or tg.get("kind") not in ("integer", "float"):
        return None
    t_lo, t_hi = num(tg.get("min")), num(tg.get("max"))
    if t_lo is None or t_hi is None:
        return None
    lo, hi = OUTPUT_RANGE[act]
    span = max(t_hi - t_lo, abs(t_hi), abs(t_lo), 1e-12)
    outside = (max(0.0, lo - t_lo) + max(0.0, t_hi - hi)) / span
    if outside <= T["outside"]:
        return None
    ev.update(target_min=t_lo, target_max=t_hi, output_range=[lo, hi], outside_share=outside)
    rng = f"[{lo:g}, {'∞' if hi == _INF else f'{hi:g}'}]"
    if hi == _INF:
        fix = (f"Remove the {act} from the output layer (a linear Dense is the regression "
               f"output): {act} cannot output values below {lo:g}, and the targets go down to "
               f"{t_lo:g}, so those samples can never be fitted and the gradient through the "
               f"flat part of {act} is zero.")
    else:
        fix = (f"Use a linear output layer, or scale the targets into {rng} (and invert the "
               f"scaling on predictions): {act} can only output {rng}, and the targets span "
               f"{t_lo:g}..{t_hi:g}, so the model saturates trying to reach them.")
    return Found("warning", f"{act} output cannot produce the targets ({t_lo:g}..{t_hi:g} vs "
                 f"{rng})", ev, fix, step)


@rule("model.output_activation", severities=("error", "warning"), panel="checks", order=22,
      fires_when="softmax on one output unit (error: always 1.0); a regression output whose "
                 "activation cannot reach the targets, or relu/tanh/… feeding cross-entropy "
                 "(warning)",
      thresholds=[Threshold("outside", 0.05, "tb_nndebug: targets reaching more than 5 % of "
                            "their span beyond the activation's range (a rounding-level "
                            "excursion is tolerated; Keras docs: activations' ranges)",
                            "share of the targets' span outside what the output can produce")])
def output_activation(R, T):
    _, step, act, lname, kind, from_logits, n_out = output_facts(R)
    if act is None:
        return
    ev = _base_evidence(act, lname, n_out, from_logits)
    if act == "softmax" and n_out == 1:
        yield Found(
            "error", "Softmax on a single output unit: the output is always 1.0", ev,
            "For two classes use Dense(1, activation='sigmoid') with binary_crossentropy, or "
            "Dense(2, activation='softmax') with sparse_categorical_crossentropy: a softmax "
            "over one unit divides it by itself, so the prediction is 1.0 for every input "
            "and nothing can be learnt.",
            step)
        return
    found = None
    if kind in _CE:
        found = _ce_output(act, kind, from_logits, ev, step)
    elif kind == "regression":
        found = _range_output(T, act, targets_doc(R), ev, step)
    if found is not None:
        yield found


def _class_labels(tg, act, n_out) -> str | None:
    """What kind of class labels ``tg`` are under a softmax/sigmoid output, or None."""
    if tg is None:
        return None
    shape = tg.get("shape")
    scalar = isinstance(shape, (list, tuple)) and (len(shape) == 0 or list(shape) == [1])
    if tg.get("one_hot") is True:
        return "one-hot class labels"
    if not scalar:
        return None
    if act == "softmax" and n_out is not None and n_out > 1 and tg.get("integer_valued") is True \
            and (num(tg.get("min")) or 0) >= 0 and (num(tg.get("n_unique")) or 0) >= 2:
        return "integer class labels"
    if act == "sigmoid" and n_out == 1 and tg.get("binary_valued") is True:
        return "0/1 class labels"
    return None


def _mismatch(kind, act, n_out, tg):
    """``(title, advice)`` of a loss that does not fit the task, or None."""
    if kind == "regression" and (act in ("softmax", "sigmoid") or (
            act is not None and tg is not None and tg.get("one_hot") is True)):
        labels = _class_labels(tg, act, n_out)
        if labels is None:
            return None
        if act not in ("softmax", "sigmoid"):  # one-hot rows fitted as numbers
            return (f"Regression loss on one-hot class labels under a {act} output",
                    "Use a softmax output with categorical_crossentropy: a squared/absolute "
                    "error treats each one-hot column as a number to fit, its outputs are not "
                    "class probabilities, and its gradient does not grow with how wrong a "
                    "confident prediction is.")
        loss = "sparse_categorical_crossentropy" if labels == "integer class labels" else (
            "categorical_crossentropy" if act == "softmax" else "binary_crossentropy")
        return (f"Regression loss on {labels} under a {act} output",
                f"Use {loss}: a squared/absolute error on {act} probabilities has a gradient "
                f"that vanishes where {act} saturates, so a confidently wrong prediction "
                "is hardly corrected" + (" (and integer labels are compared with each "
                                         "probability as if they were values)"
                                         if labels == "integer class labels" else "") + ".")
    multi = tg is not None and tg.get("multi_hot") is True
    single = kind == "sparse_ce" or (tg is not None and tg.get("one_hot") is True)
    if kind in ("sparse_ce", "categorical_ce") and act == "sigmoid" and n_out is not None \
            and n_out > 1 and single and not multi:
        return (f"{_CE_NAME[kind].capitalize()} with {int(n_out)} sigmoid outputs on "
                "single-label data",
                "Use a softmax output with this loss (one class per sample): independent "
                "sigmoids do not sum to 1, so the loss renormalises them and the outputs are "
                "not the class probabilities the metrics and predictions assume.")
    if kind == "binary_ce" and act == "softmax" and n_out is not None and n_out > 2 \
            and tg is not None and tg.get("one_hot") is True:
        return ("Binary cross-entropy on one-hot labels of "
                f"{int(n_out)} classes under a softmax output",
                "Use categorical_crossentropy (or sparse labels with "
                "sparse_categorical_crossentropy): binary cross-entropy scores each of the "
                f"{int(n_out)} columns as a separate yes/no, and Keras then reports binary "
                "accuracy, which is high even for a model that gets the class wrong.")
    return None


@rule("training.loss_mismatch", severities=("error", "warning"), panel="checks", order=24,
      fires_when="categorical cross-entropy on one output unit (error: identically 0); MSE/MAE "
                 "on one-hot labels, or on integer/0-1 labels under softmax/sigmoid; "
                 "categorical CE with sigmoid outputs on single-label data; binary CE on "
                 "one-hot labels of > 2 softmax units (warning)")
def loss_mismatch(R, T):
    _, step, act, lname, kind, from_logits, n_out = output_facts(R)
    ev = _base_evidence(act, lname, n_out, from_logits)
    if kind == "categorical_ce" and n_out == 1:
        yield Found(
            "error", "Categorical cross-entropy on a single output unit: the loss is always 0",
            ev,
            "Use binary_crossentropy with Dense(1, activation='sigmoid') for two classes, or "
            "as many output units as classes: categorical cross-entropy normalises the "
            "outputs to sum to 1, and a single unit is always 1, so the loss and its "
            "gradient are 0 whatever the model predicts.",
            step)
        return
    tg = targets_doc(R)
    found = _mismatch(kind, act, n_out, tg)
    if found is not None:
        if tg is not None:
            ev.update(targets={k: tg.get(k) for k in ("shape", "kind", "min", "max", "n_unique",
                                                       "one_hot", "multi_hot")})
        yield Found("warning", found[0], ev, found[1], step)

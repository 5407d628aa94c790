"""The records as rules read them: a read-only view with the lookups they share."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from .._values import finite_or_none, get_path
from ..records.lookup import history_epochs, primary_dataset


def num(value) -> float | None:
    """``value`` as a finite float, else None (bools are not numbers here)."""
    v = finite_or_none(value)
    return None if v is None else float(v)


def is_nonfinite(value) -> bool:
    """A history value that was NaN/Inf (written as null) or a non-finite float."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def first_line(text, limit=200) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fmt_bits(b) -> str:
    return f"{round(b):,}"


def series(hist, key) -> list:
    v = hist.get(key) if isinstance(hist, Mapping) else None
    return list(v) if isinstance(v, (list, tuple)) else []


def acc_key(hist) -> str | None:
    """The training-accuracy key of a Keras history (``accuracy``, ``acc``, ``*_accuracy``)."""
    if not isinstance(hist, Mapping):
        return None
    for k in hist:
        if k.startswith("val_"):
            continue
        if k in ("accuracy", "acc") or k.endswith(("_accuracy", "_acc")):
            return k
    return None


def finite_series(hist, key) -> list[float]:
    """The finite values of ``hist[key]`` (empty for no key), e.g. the training accuracies."""
    return [v for v in (num(x) for x in series(hist, key)) if v is not None] if key else []


def train_accuracies(hist) -> list[float]:
    """The finite training accuracies of a Keras history (see :func:`acc_key`)."""
    return finite_series(hist, acc_key(hist))


get = get_path


class RecordsView:
    """Read-only view of the ``records`` mapping (``kind -> entries``)."""

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
        """The training set's entry (see :func:`tb_nndebug.records.lookup.primary_dataset`)."""
        return primary_dataset(self.entries("dataset"))

    def errors(self) -> list:
        raw = self._records.get("_errors") or []
        return [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, (list, tuple)) else []

    def checks(self) -> dict | None:
        return self.latest("checks")

    def training(self):
        """``(entry, history, step)`` of the latest training record, or ``(None, {}, None)``."""
        t = self.latest("training")
        if t is None:
            return None, {}, None
        hist = t["value"].get("history")
        return t, hist if isinstance(hist, Mapping) else {}, t["step"]

    def history_epochs(self) -> list[int]:
        """The Keras epochs of the latest training record's history entries, in order."""
        t, hist, _ = self.training()
        if t is None:
            return []
        n = max((len(v) for v in hist.values() if isinstance(v, (list, tuple))), default=0)
        return history_epochs(t["value"], n)

    def epoch_at(self, i: int) -> int:
        """The Keras epoch of history entry ``i`` (``i`` itself when the record says none)."""
        epochs = self.history_epochs()
        return epochs[i] if -len(epochs) <= i < len(epochs) else i

    def epochs_trained(self) -> int:
        """Epochs the history spans (more than its entries once a long one is thinned)."""
        t, hist, _ = self.training()
        if t is None:
            return 0
        n = num(t["value"].get("history_length"))
        return int(n) if n is not None and n >= 0 else len(self.history_epochs())

    def chance_level(self) -> float | None:
        """Accuracy of always predicting the majority class (or 1/K without a dataset)."""
        d = self.primary_dataset()
        props = get(d["value"], "balance", "proportions") if d else None
        if isinstance(props, Mapping) and props:
            vals = [v for v in (num(v) for v in props.values()) if v is not None]
            if vals:
                return max(vals)
        c = self.checks()
        m = self.latest("model")
        n = num(c["value"].get("n_outputs")) if c else None
        if n is None and m is not None:
            n = num(m["value"].get("n_outputs"))
        if n is None:
            return None
        return 0.5 if n <= 2 else 1.0 / n

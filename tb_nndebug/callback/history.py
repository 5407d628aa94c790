"""The loss/metric history a ``training`` record carries: Keras's epochs, bounded in size.

Every ``training`` record carries the history so far, so the diagnosis is
exact whatever TensorBoard's downsampling keeps (it always keeps a tag's
latest step). Up to :data:`HISTORY_POINTS` epochs it is the whole history;
beyond, the latest ``HISTORY_POINTS // 2`` epochs stay exact and the earlier
ones are thinned to ``HISTORY_POINTS // 2`` evenly spaced epochs plus each
metric's best and worst epoch, so a record stays a few kilobytes and the
event file grows linearly with the epochs (not quadratically).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..records.lookup import history_epochs

#: Epochs a record's history holds before the earlier ones are thinned.
HISTORY_POINTS = 64
#: Significant digits kept of each history value (float32 precision).
DIGITS = 7


def _value(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None


class TrainingHistory:
    """Keras's per-epoch logs, with their epochs, as the callback saw them."""

    def __init__(self):
        self.epochs: list[int] = []
        self.values: dict[str, list] = {}

    def seed(self, doc: Mapping | None, before: int) -> int:
        """Take the epochs before ``before`` from an earlier session's training document
        (a resumed ``fit``); returns how many were taken."""
        hist = doc.get("history") if isinstance(doc, Mapping) else None
        if not isinstance(hist, Mapping):
            return 0
        n = max((len(v) for v in hist.values() if isinstance(v, list)), default=0)
        epochs = history_epochs(doc, n)
        keep = [i for i, e in enumerate(epochs) if e < before]
        self.epochs = [epochs[i] for i in keep]
        self.values = {k: [_value(v[i]) if i < len(v) else None for i in keep]
                       for k, v in hist.items() if isinstance(v, list)}
        return len(keep)

    def append(self, epoch: int, logs: Mapping) -> None:
        """Add one epoch's logs (a key new this epoch is None before it)."""
        for key in logs:
            self.values.setdefault(key, [None] * len(self.epochs))
        for key, series in self.values.items():
            series.append(_value(logs.get(key)))
        self.epochs.append(int(epoch))

    def document(self, points: int = HISTORY_POINTS) -> dict:
        """``{"history", "history_epochs", "history_length"}`` for the training record."""
        idx = thinned(self.values, len(self.epochs), points)
        n = len(self.epochs)
        return {"history": {k: [v[i] for i in idx] for k, v in self.values.items()},
                "history_epochs": [self.epochs[i] for i in idx],
                "history_length": (self.epochs[-1] - self.epochs[0] + 1) if n else 0}


def thinned(values: Mapping[str, list], n: int, points: int = HISTORY_POINTS) -> list[int]:
    """The indices of ``n`` epochs a bounded history keeps (all when ``n <= points``)."""
    if n <= points:
        return list(range(n))
    tail = points // 2
    keep = set(range(n - tail, n))
    keep.update(int(i) for i in np.linspace(0, n - tail - 1, points - tail).round())
    for series in values.values():
        finite = [(v, i) for i, v in enumerate(series) if v is not None]
        if finite:
            keep.update((min(finite)[1], max(finite)[1]))
    return sorted(keep)

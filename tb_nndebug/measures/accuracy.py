"""Accuracy of a model's predictions: the one place the package computes it."""
from __future__ import annotations

import numpy as np

__all__ = ["accuracy"]


def accuracy(model, x, y, *, batch_size: int = 256) -> float:
    """Fraction of samples whose predicted class equals ``y`` (class indices).

    ``model.predict`` may return ``(n, K)`` scores (argmax taken) or one column
    (or a flat vector) for a binary model: probabilities cut at 0.5, logits at 0.
    """
    p = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    p = p.reshape(len(p), -1)
    if p.shape[1] == 1:
        cut = 0.5 if (p.min() >= 0 and p.max() <= 1) else 0.0  # probabilities or logits
        pred = (p[:, 0] > cut).astype(np.int64)
    else:
        pred = p.argmax(axis=1)
    return float(np.mean(pred == np.asarray(y)))

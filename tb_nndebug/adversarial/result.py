"""What :func:`tb_nndebug.adversarial.robustness` returns: per-sample results and examples."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._images import data_url
from .._validation import check_int
from .._values import finite_or_none
from .examples import example_images

__all__ = ["AdversarialExample", "RobustnessResult", "FOOLED", "CENSORED", "MISCLASSIFIED"]

FOOLED = "fooled"
CENSORED = "censored"
MISCLASSIFIED = "misclassified"


@dataclass(frozen=True, eq=False)
class AdversarialExample:
    """One fooled sample: the clean input and the smallest adversarial found."""

    index: int
    label: int
    adversarial_label: int
    eps: float
    original: np.ndarray
    adversarial: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.adversarial - self.original


@dataclass(frozen=True, eq=False)
class RobustnessResult:
    """Per-sample robustness of a classifier (see :func:`robustness`).

    Attributes
    ----------
    min_eps : ndarray of float, shape (n,)
        Norm of the smallest adversarial perturbation found for each sample
        (an upper bound of the true minimum, at most ``eps_tolerance`` above the
        bisection's last failed ε). ``inf`` = censored (not fooled within
        ``eps_max``), ``nan`` = misclassified before any attack.
    status : tuple of str
        ``"fooled"``, ``"censored"`` or ``"misclassified"`` per sample.
    pixels : ndarray of float, shape (n,), or None
        Input values changed until the prediction flipped; ``inf`` = censored
        (not flipped within ``max_pixels``), ``nan`` = misclassified; ``None``
        when the pixel attack was not run.
    pixel_status : tuple of str or None
        Like ``status``, for the pixel attack.
    labels, predictions : ndarray of int
        True labels and clean predictions.
    examples : tuple of AdversarialExample
        A few fooled samples with their minimal-ε adversarials.
    """

    norm: float
    eps_max: float
    clip: tuple
    input_shape: tuple
    output: str
    bisection_steps: int
    attack_steps: int
    max_pixels: int
    labels: np.ndarray
    predictions: np.ndarray
    min_eps: np.ndarray
    status: tuple
    pixels: np.ndarray | None
    pixel_status: tuple | None
    examples: tuple = field(default=())

    # ---- derived numbers
    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def eps_tolerance(self) -> float:
        """Bisection resolution: ``eps_max / 2**bisection_steps``."""
        return self.eps_max / 2 ** self.bisection_steps

    @property
    def correct(self) -> np.ndarray:
        return self.predictions == self.labels

    @property
    def clean_accuracy(self) -> float:
        return float(np.mean(self.correct))

    @property
    def censored_fraction(self) -> float:
        return float(np.mean([s == CENSORED for s in self.status]))

    @property
    def misclassified_fraction(self) -> float:
        return float(np.mean([s == MISCLASSIFIED for s in self.status]))

    @property
    def median_eps(self) -> float:
        """Median ``min_eps`` over the correctly classified samples.

        Censored samples count as larger than any found ε, so the median is
        ``inf`` when more than half of them are censored, and ``nan`` when no
        sample was classified correctly (clean accuracy is reported apart).
        """
        return _median(self.min_eps[self.correct])

    @property
    def median_pixels(self) -> float:
        """Median pixel count over the correctly classified samples (as ``median_eps``)."""
        if self.pixels is None:
            return math.nan
        return _median(self.pixels[self.correct])

    @property
    def pixel_fraction(self) -> float:
        """``median_pixels`` as a fraction of the input size."""
        return self.median_pixels / self.input_size

    def robust_accuracy(self, eps):
        """Fraction of samples still classified correctly under any perturbation ≤ ``eps``.

        Misclassified samples never count; a sample counts while ``eps`` is
        below its ``min_eps`` (censored ones count up to ``eps_max``; beyond
        ``eps_max`` nothing is known and the result is ``nan``).
        """
        e = np.asarray(eps, dtype=float)
        if np.any(e < 0):
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        m = np.where(np.isnan(self.min_eps), -np.inf, self.min_eps)
        ra = np.mean(m[None, :] > e.reshape(-1, 1), axis=1)
        ra = np.where(e.reshape(-1) > self.eps_max, np.nan, ra)
        return float(ra[0]) if e.ndim == 0 else ra.reshape(e.shape)

    def curve(self, n_points: int = 21):
        """``(eps, robust_accuracy)`` on ``n_points`` evenly spaced ε in [0, eps_max]."""
        n_points = check_int(n_points, name="n_points", minimum=2)
        eps = np.linspace(0.0, self.eps_max, n_points)
        return eps, self.robust_accuracy(eps)

    def to_record(self, *, n_examples: int | None = None) -> dict:
        """The ``robustness`` record document of ``docs/data-contract.md``.

        Examples become small PNG data URLs (original, adversarial, and the
        difference on a grey background, scaled to its own largest change).
        """
        examples = self.examples if n_examples is None else self.examples[:n_examples]
        eps, ra = self.curve()
        return {
            "norm": "inf" if self.norm == np.inf else str(int(self.norm)),
            "eps_max": self.eps_max,
            "n": self.n,
            "clean_accuracy": self.clean_accuracy,
            "input_size": self.input_size,
            "min_eps": [finite_or_none(v) for v in self.min_eps],
            "status": list(self.status),
            "median_eps": finite_or_none(self.median_eps),
            "censored_fraction": self.censored_fraction,
            "misclassified_fraction": self.misclassified_fraction,
            "curve": {"eps": eps.tolist(), "robust_accuracy": ra.tolist()},
            "pixels": None if self.pixels is None
            else [None if not np.isfinite(v) else int(v) for v in self.pixels],
            "median_pixels": finite_or_none(self.median_pixels),
            "pixel_fraction": finite_or_none(self.pixel_fraction),
            "max_pixels": self.max_pixels if self.pixels is not None else None,
            # fields beyond the contract's example (added, none renamed)
            "pixel_status": None if self.pixel_status is None else list(self.pixel_status),
            "eps_tolerance": self.eps_tolerance,
            "output": self.output,
            "examples": [
                {
                    "index": ex.index,
                    "label": ex.label,
                    "adversarial_label": ex.adversarial_label,
                    "eps": ex.eps,
                    **{k: data_url(img) for k, img in zip(
                        ("original", "adversarial", "difference"),
                        example_images(ex, self.input_shape, self.clip))},
                }
                for ex in examples
            ],
        }


def _median(values: np.ndarray) -> float:
    if values.size == 0:
        return math.nan
    return float(np.median(values))  # inf sorts last, as censoring requires

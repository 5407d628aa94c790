"""Pictures of adversarial examples: ``original | adversarial | difference`` panels."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .result import AdversarialExample, RobustnessResult

__all__ = ["example_grid", "example_images"]


def _as_image(flat: np.ndarray, input_shape: tuple) -> np.ndarray:
    """A sample as a 2-D grey or (H, W, 3) image in its own units."""
    shape = tuple(input_shape)
    if len(shape) == 3 and shape[-1] in (1, 3):
        img = flat.reshape(shape)
        return img[..., 0] if shape[-1] == 1 else img
    if len(shape) == 3:
        return flat.reshape(shape)[..., 0]
    if len(shape) == 2:
        return flat.reshape(shape)
    d = flat.size
    side = int(round(math.sqrt(d)))
    if side * side == d:
        return flat.reshape(side, side)
    return np.repeat(flat.reshape(1, d), 8, axis=0)  # a strip for flat features


def _upscale(img: np.ndarray) -> np.ndarray:
    f = max(1, 64 // max(img.shape[:2]))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1)


def example_images(ex: AdversarialExample, input_shape, clip):
    lo, hi = clip
    to_u8 = lambda a: np.clip(np.rint((a - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
    orig = _as_image(np.ravel(ex.original), input_shape)
    adv = _as_image(np.ravel(ex.adversarial), input_shape)
    diff = adv - orig
    scale = float(np.max(np.abs(diff))) or 1.0
    diff_u8 = np.clip(np.rint(127.5 + 127.5 * diff / scale), 0, 255).astype(np.uint8)
    return _upscale(to_u8(orig)), _upscale(to_u8(adv)), _upscale(diff_u8)


def example_grid(result: RobustnessResult, n_examples: int | None = None) -> np.ndarray | None:
    """One uint8 RGB picture: a row per example, ``original | adversarial | difference``.

    Returns ``None`` when the result holds no example.
    """
    examples = result.examples if n_examples is None else result.examples[:n_examples]
    if not examples:
        return None
    rows = []
    for ex in examples:
        panels = [_rgb(p) for p in example_images(ex, result.input_shape, result.clip)]
        gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
        rows.append(np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1))
    width = max(r.shape[1] for r in rows)
    out = []
    for r in rows:
        pad = np.full((r.shape[0], width - r.shape[1], 3), 255, np.uint8)
        out += [np.concatenate([r, pad], axis=1), np.full((4, width, 3), 255, np.uint8)]
    return np.concatenate(out[:-1], axis=0)


def _rgb(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)

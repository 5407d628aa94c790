"""Pictures for the Images tab: arrays in, RGBA images and PNG bytes out.

Pure drawing functions on matplotlib's object API with the Agg canvas (no
``pyplot`` state, no display needed, safe in threads). Each ``draw_*``
function returns an ``(H, W, 4)`` ``uint8`` array, ready for
``tf.summary.image``; :func:`png_bytes` and :func:`data_url` turn any such
array into a PNG file or an ``<img>``-ready data URL.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._images import data_url, png_bytes

__all__ = ["data_url", "draw_balance", "draw_capacity", "draw_projection", "figure_to_array",
           "png_bytes"]

#: Default figure size in inches and resolution: 640 x 440 pixels.
FIGSIZE = (6.4, 4.4)
DPI = 100


def _new_figure(figsize=FIGSIZE):
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def figure_to_array(fig) -> np.ndarray:
    """Render a matplotlib ``Figure`` to an ``(H, W, 4)`` uint8 RGBA array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.array(canvas.buffer_rgba(), dtype=np.uint8, copy=True)


def _class_colors(n: int):
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def draw_projection(points, labels, *, classes=None, synthetic=None,
                    title: str | None = None) -> np.ndarray:
    """Scatter plot of a 2-D projection, one colour per class.

    Parameters
    ----------
    points : array-like of shape (n, 2)
    labels : array-like of shape (n,)
        Class indices 0..K-1.
    classes : sequence of str, optional
        Display names of the K classes (legend).
    synthetic : array-like of bool, shape (n,), optional
        Marks synthetic points (drawn as crosses), e.g. after SMOTE.
    title : str, optional

    Returns
    -------
    numpy.ndarray of shape (H, W, 4), dtype uint8
    """
    pts = np.asarray(points, dtype=float)
    lab = np.asarray(labels).astype(int).reshape(-1)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {pts.shape}")
    if lab.shape[0] != pts.shape[0]:
        raise ValueError(f"labels must have {pts.shape[0]} entries, got {lab.shape[0]}")
    n_classes = int(lab.max()) + 1 if lab.size else 0
    if classes is not None:
        n_classes = max(n_classes, len(classes))
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n_classes)]
    syn = np.zeros(len(pts), bool) if synthetic is None else np.asarray(synthetic, bool).reshape(-1)
    fig = _new_figure()
    ax = fig.add_subplot(1, 1, 1)
    colors = _class_colors(max(n_classes, 1))
    for c in range(n_classes):
        for is_syn, marker in ((False, "o"), (True, "x")):
            m = (lab == c) & (syn == is_syn)
            if m.any():
                label = names[c] + (" (synthetic)" if is_syn else "")
                ax.scatter(pts[m, 0], pts[m, 1], s=8 if not is_syn else 14, marker=marker,
                           color=colors[c], alpha=0.7, linewidths=0.8, label=label)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    if title:
        ax.set_title(title)
    if 0 < n_classes <= 20:
        ax.legend(loc="best", fontsize=7, markerscale=1.5, ncol=2 if n_classes > 10 else 1)
    fig.tight_layout()
    return figure_to_array(fig)


def draw_capacity(layer_names, capacity_bits, *, output_bits=None, expected_bits=None,
                  max_bits=None, title: str | None = None) -> np.ndarray:
    """Per-layer capacity bar chart (the paper's Figure 2), log scale.

    Bars are each layer's capacity in bits; the dark line is the running
    total (the model's capacity at the last layer); dashed lines mark the
    dataset's expected and maximum (memorisation) bits when given, so the
    running total can be read against them.

    Parameters
    ----------
    layer_names : sequence of str
    capacity_bits : sequence of float
        Per-layer capacity (0 for layers without parameters).
    output_bits : sequence of float, optional
        Per-layer output bits (``inf``/``None`` = unbounded), drawn as dots.
    expected_bits, max_bits : float, optional
    title : str, optional

    Returns
    -------
    numpy.ndarray of shape (H, W, 4), dtype uint8
    """
    names = [str(n) for n in layer_names]
    cap = np.array([0.0 if v is None else float(v) for v in capacity_bits])
    if cap.ndim != 1 or len(cap) != len(names):
        raise ValueError(
            f"capacity_bits must have one value per layer ({len(names)}), got {cap.shape}"
        )
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise ValueError("capacity_bits must be finite and non-negative")
    width = min(16.0, max(FIGSIZE[0], 0.35 * len(names) + 2.0))
    fig = _new_figure((width, FIGSIZE[1]))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(names))
    ax.bar(x, np.maximum(cap, 0.5), color="#4c72b0", label="layer capacity (bits)")
    if len(cap):
        ax.plot(x, np.maximum(np.cumsum(cap), 0.5), "-o", color="#222222", markersize=3,
                linewidth=1.2, label=f"running total ({int(cap.sum()):,} bits)")
    if output_bits is not None:
        ob = np.array([np.nan if (v is None or not math.isfinite(float(v))) else float(v)
                       for v in output_bits])
        if len(ob) == len(names):
            ax.plot(x, ob, "o", color="#dd8452", markersize=3, label="output bits")
    if expected_bits:
        ax.axhline(float(expected_bits), color="#55a868", linestyle="--",
                   label=f"data needs ({int(expected_bits):,} bits)")
    if max_bits:
        ax.axhline(float(max_bits), color="#c44e52", linestyle="--",
                   label=f"memorises above ({int(max_bits):,} bits)")
    ax.set_yscale("log")
    ax.set_ylabel("bits")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax.set_title(title or "Capacity per layer")
    ax.legend(loc="best", fontsize=7)
    fig.tight_layout()
    return figure_to_array(fig)


def draw_balance(counts, *, after=None, title: str | None = None) -> np.ndarray:
    """Bar chart of class counts, optionally before/after side by side.

    Parameters
    ----------
    counts : mapping label -> count
    after : mapping label -> count, optional
        Counts after resampling; drawn beside ``counts``.
    title : str, optional

    Returns
    -------
    numpy.ndarray of shape (H, W, 4), dtype uint8
    """
    if not hasattr(counts, "items"):
        raise TypeError(f"counts must be a mapping label -> count, got {type(counts).__name__}")
    labels = [str(k) for k in counts]
    if after is not None:
        if not hasattr(after, "items"):
            raise TypeError(f"after must be a mapping label -> count, got {type(after).__name__}")
        labels += [str(k) for k in after if str(k) not in labels]
    before_map = {str(k): float(v) for k, v in counts.items()}
    fig = _new_figure((min(16.0, max(FIGSIZE[0], 0.4 * len(labels) + 2.0)), FIGSIZE[1]))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(labels))
    if after is None:
        ax.bar(x, [before_map.get(k, 0.0) for k in labels], color="#4c72b0")
    else:
        after_map = {str(k): float(v) for k, v in after.items()}
        ax.bar(x - 0.2, [before_map.get(k, 0.0) for k in labels], width=0.4,
               color="#4c72b0", label="before")
        ax.bar(x + 0.2, [after_map.get(k, 0.0) for k in labels], width=0.4,
               color="#dd8452", label="after")
        ax.legend(loc="best", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45 if len(labels) > 8 else 0, fontsize=8)
    ax.set_ylabel("samples")
    ax.set_title(title or "Class balance")
    fig.tight_layout()
    return figure_to_array(fig)

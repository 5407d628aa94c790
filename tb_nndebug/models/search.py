"""The warehouse's search: the width multiplier (and depth) of a family at a capacity in bits."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .._validation import Int, Real, check_option, check_params, check_random_state

#: Relative tolerance of the reached capacity (``|bits/target - 1|``).
DEFAULT_TOLERANCE = 0.10
#: Largest parameter count the search builds (keeps memory bounded).
DEFAULT_MAX_PARAMS = 30_000_000


@dataclass(frozen=True)
class WarehouseInfo:
    """What a warehouse builder made (attached as ``model.warehouse``).

    ``widths`` are the searched layer widths, ``scale`` their multiplier and
    ``structure`` the family's other size choices (``input_pool`` for
    :func:`mlp`, ``extra_layers`` / ``extra_blocks`` for the CNNs).
    """

    family: str
    target_bits: float
    bits: int
    n_params: int
    widths: tuple
    scale: float
    tolerance: float | None
    structure: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """``bits / target_bits``."""
        return self.bits / self.target_bits

    def to_dict(self) -> dict:
        return {"family": self.family, "target_bits": self.target_bits, "bits": self.bits,
                "n_params": self.n_params, "widths": list(self.widths), "scale": self.scale,
                "ratio": self.ratio, "tolerance": self.tolerance,
                "structure": dict(self.structure)}


#: The arguments every warehouse builder takes, checked by :func:`check_common`.
COMMON_CONSTRAINTS = {
    "n_classes": Int(minimum=2),
    "target_bits": Real(low=1),
    "tolerance": Real(low=0, inclusive="neither", allow_none=True),
    "max_params": Int(minimum=1),
}


def check_common(n_classes, target_bits, tolerance, max_params):
    """``(n_classes, target_bits, tolerance, max_params)`` checked against
    :data:`COMMON_CONSTRAINTS` (a float ``max_params`` such as ``1e6`` is read as an int)."""
    if isinstance(max_params, float) and math.isfinite(max_params):
        max_params = int(max_params)
    p = check_params(dict(n_classes=n_classes, target_bits=target_bits, tolerance=tolerance,
                          max_params=max_params), COMMON_CONSTRAINTS)
    return p["n_classes"], p["target_bits"], p["tolerance"], p["max_params"]


def seeds_for(random_state, n):
    if random_state is None:
        return [None] * n
    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(0, 2**31 - 1, size=n)]


def output_activation_of(value):
    """The Keras activation of the output layer: "softmax" or None (logits; "linear" too)."""
    check_option(value, name="output_activation", options=("softmax", None, "linear"))
    return None if value == "linear" else value


@dataclass(frozen=True)
class Plan:
    """One structure of a family, searched over its width multiplier ``s``.

    ``widths_of(s)`` maps ``s > 0`` to a hashable width tuple (non-decreasing
    in ``s``; capacity is non-decreasing in every width), ``params_of``
    estimates the parameter count without building, ``measure`` gives the
    capacity in bits of a width tuple, ``build(widths, seeds)`` the final
    model, and ``s_cap`` the largest multiplier this structure may use.
    """

    structure: dict
    widths_of: Callable
    params_of: Callable
    measure: Callable
    build: Callable
    n_seeds: int
    s_cap: float = math.inf


@dataclass(frozen=True)
class Fit:
    plan: Plan
    s: float
    bits: int
    above_reach: bool  # even the widest widths the plan allows fall short of the target
    span: Callable     # () -> (bits at the narrowest, bits at the widest); for error messages


def _off(bits, target):
    return abs(math.log(bits / target)) if bits > 0 else math.inf


class _Measured:
    """``plan``'s capacity by multiplier, each width tuple measured once."""

    def __init__(self, plan, target, goal):
        self.plan, self.target, self.goal, self.cache = plan, target, goal, {}

    def bits(self, s):
        w = self.plan.widths_of(s)
        if w not in self.cache:
            self.cache[w] = int(self.plan.measure(w))
        return self.cache[w]

    def seen(self, s):
        return self.plan.widths_of(s) in self.cache

    def close(self, s):
        return abs(self.bits(s) / self.target - 1) <= self.goal

    def off(self, s):
        return _off(self.bits(s), self.target)


def _multiplier_range(plan, max_params):
    """``(s_min, s_max)``: the multiplier where every width is 1 and the largest within
    ``max_params`` (to ~1 %, capped at ``plan.s_cap``); None when not even ``s_min`` fits."""
    widths_of = plan.widths_of

    def fits(s):
        return plan.params_of(widths_of(s)) <= max_params

    s_min = 1e-6  # every width is 1 here
    while widths_of(s_min) != widths_of(s_min * 2):
        s_min /= 2
    if not fits(s_min):
        return None
    s_max = 1.0
    while fits(s_max * 2) and s_max < 1e6:
        s_max *= 2
    while not fits(s_max) and s_max > s_min:
        s_max /= 2
    lo_s, hi_s = s_max, s_max * 2  # largest fitting multiplier, to ~1 %
    for _ in range(7):
        mid = math.sqrt(lo_s * hi_s)
        lo_s, hi_s = (mid, hi_s) if fits(mid) else (lo_s, mid)
    return s_min, max(s_min, min(lo_s, plan.s_cap))


def _secant_slope(prev, s, b):
    if prev is not None and prev[1] != b and prev[0] != s and b > 0 and prev[1] > 0:
        return min(max(math.log(b / prev[1]) / math.log(s / prev[0]), 0.5), 3.0)
    return 1.0


def _secant(m, s_min, s_max):
    """Secant steps in log-log space; returns the bracket ``(lo, hi)`` and the last step."""
    widths_of, target = m.plan.widths_of, m.target
    lo, hi = s_min, s_max  # invariant: bits(lo) < target <= bits(hi) where evaluated
    s, prev = min(max(1.0, s_min), s_max), None
    for _ in range(8):
        b = m.bits(s)
        if b < target:
            lo = s
        else:
            hi = s
        if m.close(s) or (s == s_max and b < target) or (s == s_min and b >= target):
            break
        slope = _secant_slope(prev, s, b)
        prev = (s, b)
        nxt = min(max(s * (target / max(b, 1)) ** (1 / slope), lo), hi)
        if widths_of(nxt) == widths_of(s):
            break
        s = nxt
    return lo, hi, s


def _bisect(m, lo, hi, best):
    """Bisection on the bracket until its ends have adjacent widths; the nearest seen."""
    widths_of = m.plan.widths_of
    mid = best
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        if widths_of(mid) in (widths_of(lo), widths_of(hi)) and hi / lo < 1.0001:
            break
        if m.bits(mid) < m.target:
            lo = mid
        else:
            hi = mid
        if m.close(mid):
            break
    return min((lo, hi, mid, best), key=m.off)


def fit_plan(plan, target, *, max_params, goal):
    """The multiplier of ``plan`` whose capacity is nearest ``target`` (None: nothing fits).

    Secant steps in log-log space, then bisection on the bracket; every width
    tuple is measured once.
    """
    span = _multiplier_range(plan, max_params)
    if span is None:
        return None
    s_min, s_max = span
    m = _Measured(plan, target, goal)
    lo, hi, s = _secant(m, s_min, s_max)
    best = min([t for t in (lo, hi, s) if m.seen(t)], key=m.off)
    if not m.close(best) and lo < hi:
        best = _bisect(m, lo, hi, best)
    above = plan.widths_of(best) == plan.widths_of(s_max) and m.bits(best) < target
    return Fit(plan, best, m.bits(best), above, lambda: (m.bits(s_min), m.bits(s_max)))


def settle(family, target, tolerance, max_params, fits):
    """The first fit within tolerance, else the closest (``tolerance=None``) or a ValueError.

    ``fits`` is consumed lazily, so later (costlier) structures are only
    searched when the earlier ones miss.
    """
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    seen = []
    for fit in fits:
        if fit is None:
            continue
        if abs(fit.bits / target - 1) <= tol:
            return fit
        seen.append(fit)
    if not seen:
        raise ValueError(f"max_params={max_params:g} is too small for the narrowest {family} "
                         "on this input")
    best = min(seen, key=lambda f: _off(f.bits, target))
    if tolerance is None:
        return best
    spans = [f.span() for f in seen]
    lowest, highest = min(lo for lo, _ in spans), max(hi for _, hi in spans)
    shown = [0, len(seen) - 1] if len(seen) > 3 else range(len(seen))
    tried = " … ".join(f"{_describe(seen[i].plan.structure)}: {spans[i][0]} to {spans[i][1]}"
                       for i in shown)
    raise ValueError(
        f"target_bits={target:g} is out of reach for {family} on this input within "
        f"tolerance={tolerance:g}: the closest is {best.bits} bits "
        f"(widths {best.plan.widths_of(best.s)}, {_describe(best.plan.structure)}); "
        f"this family reaches {lowest} to {highest} bits here (max_params={max_params:g}; "
        f"{tried}); pass tolerance=None to accept the closest"
    )


def _describe(structure):
    return ", ".join(f"{k}={v}" for k, v in structure.items()) or "as built"


def finish(family, fit, target, tolerance, random_state, name):
    from ..measures import model_capacity

    plan = fit.plan
    widths = plan.widths_of(fit.s)
    model = plan.build(widths, seeds_for(random_state, plan.n_seeds))
    bits = int(model_capacity(model).bits)
    if tolerance is not None and abs(bits / target - 1) > tolerance:  # pragma: no cover
        raise RuntimeError(f"{family}: the built model measures {bits} bits, not the "
                           f"{fit.bits} its search predicted; please report this")
    model.warehouse = WarehouseInfo(family=family, target_bits=target, bits=bits,
                                    n_params=int(model.count_params()),
                                    widths=tuple(widths),
                                    scale=float(fit.s), tolerance=tolerance,
                                    structure=dict(plan.structure))
    return model


def capacity_of(build):
    from ..measures import model_capacity

    return lambda w: model_capacity(build(w)).bits


def scaled(bases):
    return lambda s: tuple(max(1, round(b * s)) for b in bases)


def efficient_width(shape):
    """Filters at which a full-resolution 3×3 conv has as many weights as units feeding it."""
    return math.ceil(shape[0] * shape[1] / 9)


def solve_depth(target, *, widths_of, params_of, build, s_eff, max_params):
    """Depth and capacity function for a layout that adds identical full-resolution layers.

    ``build(widths, extra)`` builds with cheap weights. Each extra layer adds
    the same bits (same width, same resolution, same bits feeding it), so a
    width tuple's capacity at depth ``n`` is ``b0 + n·step`` from the two
    shallow builds ``extra=0`` and ``extra=1``. The depth is solved at the
    efficient width. Returns ``(n, measure)``, ``measure(widths)`` giving the
    bits at depth ``n`` without building it, or None when no layer fits.
    """
    lines: dict[tuple, tuple[int, int]] = {}
    measure0 = capacity_of(lambda w: build(w, 0))
    measure1 = capacity_of(lambda w: build(w, 1))

    def line(w):
        if w not in lines:
            b0 = measure0(w)
            lines[w] = (b0, measure1(w) - b0)
        return lines[w]

    w_eff = widths_of(s_eff)
    b0, step = line(w_eff)
    p0 = params_of(w_eff, 0)
    dp = params_of(w_eff, 1) - p0
    if step <= 0 or dp <= 0 or p0 + dp > max_params:
        return None
    n = int(min(max(1, round((target - b0) / step)), (max_params - p0) // dp))

    def measure(w):
        b, st = line(w)
        return b + n * st

    return n, measure


def _init(kind, seed):
    import keras

    if kind == "zeros":
        return keras.initializers.Zeros()
    return keras.initializers.HeNormal(seed=seed) if kind == "he" else \
        keras.initializers.GlorotUniform(seed=seed)


def initializer(init, kind, seed):
    return _init("zeros" if init == "zeros" else kind, seed)

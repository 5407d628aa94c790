"""Plain-value helpers every stage shares: finite numbers, JSON-ready values, paths
into documents."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any


def finite_or_none(value) -> float | int | None:
    """``value`` if it is a finite real number (ints stay ints, numpy scalars become
    Python numbers), else None. Bools are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, tuples and dataclasses turned into plain
    JSON values; NaN and ±Inf become None (JSON has no such numbers).

    Raises
    ------
    TypeError
        For a value JSON cannot hold (an object, a set, ...).
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return finite_or_none(value)
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def get_path(doc, *path):
    """``doc[path[0]][path[1]]...``, or None where a level is missing or not a mapping."""
    for p in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(p)
    return doc

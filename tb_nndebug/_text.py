"""Plain-text tables for the console: demo result rows and diagnosis findings."""
from __future__ import annotations

import math
import shutil
import textwrap
from collections.abc import Iterable, Mapping, Sequence


def format_value(value) -> str:
    """One table cell: short floats, ``-`` for missing, lists joined by commas."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        if value == 0:
            return "0"
        if 1e3 <= abs(value) < 1e12:  # bit counts and the like: whole numbers read best
            return f"{value:.0f}"
        if abs(value) >= 1e12 or abs(value) < 1e-3:
            return f"{value:.3g}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return format_value(value.item())
    return str(value)


def format_table(rows: Sequence[Mapping], columns: Sequence[str] | None = None) -> str:
    """Render dict rows as an aligned text table (columns in first-seen order).

    Parameters
    ----------
    rows : sequence of mapping
        One dict per row; missing keys print as ``-``.
    columns : sequence of str, optional
        Columns to show, in order; by default every key, in first-seen order.
    """
    rows = list(rows)
    if not rows:
        return "(no rows)"
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row.get(c), (int, float)) or row.get(c) is None for row in rows)
        for c in columns
    ]

    def line(values):
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)
        ).rstrip()

    out = [line(list(map(str, columns))), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def format_findings(findings: Iterable, *, width: int | None = None) -> str:
    """Render diagnosis findings (most severe first) as a text table with advice.

    Parameters
    ----------
    findings : iterable of Finding or dict
        Objects with ``severity``, ``id``, ``title`` and ``advice`` (attributes
        or keys).
    width : int, optional
        Line width; defaults to the terminal's (at most 110).
    """
    items = [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in findings]
    if not items:
        return "No findings."
    width = width or min(shutil.get_terminal_size((100, 20)).columns, 110)
    sev_w = max(len("SEVERITY"), *(len(str(f.get("severity", ""))) for f in items))
    id_w = max(len("ID"), *(len(str(f.get("id", ""))) for f in items))
    indent = sev_w + id_w + 4
    text_w = max(width - indent, 30)
    out = [f"{'SEVERITY'.ljust(sev_w)}  {'ID'.ljust(id_w)}  FINDING",
           f"{'-' * sev_w}  {'-' * id_w}  {'-' * min(text_w, 40)}"]
    for f in items:
        title = textwrap.wrap(str(f.get("title", "")), text_w) or [""]
        out.append(f"{str(f.get('severity', '')).ljust(sev_w)}  "
                   f"{str(f.get('id', '')).ljust(id_w)}  {title[0]}")
        out.extend(" " * indent + t for t in title[1:])
        advice = f.get("advice")
        if advice and f.get("severity") in ("error", "warning", "info"):
            for t in textwrap.wrap("→ " + str(advice), text_w):
                out.append(" " * indent + t)
    return "\n".join(out)

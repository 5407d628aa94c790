"""Sessions of a run: each ``fit`` a callback watches writes one.

A run directory can be written more than once: ``fit`` called twice on the
same callback, a job resumed with ``initial_epoch``, a second process or a
second callback pointed at the same place. Every record the callback writes
carries ``"session": {"id", "started", "index", "first_step",
"initial_epoch", "continues", "concurrent"}`` (see ``docs/data-contract.md``),
and the reader keeps one session of a run: the newest, unless asked for
another. Records without a session (the summary API, the CLI) belong to
every session.

The callback writes each session at steps after the run's last one, so
TensorBoard's loaders (which discard a tag's later steps when an earlier
step is written again) keep every session and the latest step of a tag is
always the newest session's.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping


def session_of(doc) -> dict | None:
    """The ``session`` mapping of a record document, or None (no or malformed session)."""
    s = doc.get("session") if isinstance(doc, Mapping) else None
    if not isinstance(s, Mapping) or not isinstance(s.get("id"), str) or not s["id"]:
        return None
    started = s.get("started")
    if not isinstance(started, numbers.Real) or isinstance(started, bool):
        return None
    return dict(s)


def session_id(doc) -> str | None:
    """The session id of a record document (None: it belongs to every session)."""
    s = session_of(doc)
    return None if s is None else s["id"]


def summarise(points: Iterable[tuple[int, float, Mapping]]) -> dict[str, dict]:
    """Per session id: ``{"id", "started", "index", "first_step", "initial_epoch",
    "continues", "max_step", "last_wall_time", "n_records"}`` from ``(step, wall_time,
    document)`` triples; documents without a session are ignored."""
    out: dict[str, dict] = {}
    for step, wall, doc in points:
        s = session_of(doc)
        if s is None:
            continue
        entry = out.get(s["id"])
        if entry is None:
            entry = out[s["id"]] = {
                "id": s["id"], "started": float(s["started"]), "index": _int(s.get("index")),
                "first_step": _int(s.get("first_step")),
                "initial_epoch": _int(s.get("initial_epoch")),
                "continues": s.get("continues") if isinstance(s.get("continues"), str) else None,
                "max_step": int(step), "last_wall_time": float(wall), "n_records": 0}
        entry["max_step"] = max(entry["max_step"], int(step))
        entry["last_wall_time"] = max(entry["last_wall_time"], float(wall))
        entry["n_records"] += 1
    return out


def newest(sessions: Mapping[str, Mapping]) -> str | None:
    """The id of the session that started last (ties: the larger id), or None."""
    if not sessions:
        return None
    return max(sessions.values(), key=lambda s: (s["started"], s["id"]))["id"]


def concurrent_with(sessions: Mapping[str, Mapping], own: str) -> list[str]:
    """Ids of the other sessions that wrote after ``own`` started: live writers beside it
    (a session that ended before ``own`` began is an earlier fit, not a second writer)."""
    me = sessions.get(own)
    if me is None:
        return []
    return sorted(sid for sid, s in sessions.items()
                  if sid != own and s["last_wall_time"] > me["started"])


def _int(value) -> int | None:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None

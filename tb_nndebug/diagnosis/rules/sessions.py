"""Who wrote the run: earlier fits of it, and a second writer at the same time."""
from __future__ import annotations

import datetime
import numbers

from ...records.sessions import session_of
from ..registry import Found, rule


def _latest_session(R):
    """``(session mapping, step)`` of the newest training record (else the checks record)."""
    for kind in ("training", "checks"):
        e = R.latest(kind)
        s = session_of(e["value"]) if e is not None else None
        if s is not None:
            return s, e["step"]
    return None, None


def _when(started) -> str:
    return datetime.datetime.fromtimestamp(float(started), datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC")


@rule("run.sessions", severities=("info",), panel="checks", order=242,
      fires_when="the newest record's `session.index` > 1: the run was written by more than "
                 "one fit (the tab shows the newest)")
def run_sessions(R, T):
    s, step = _latest_session(R)
    index = s.get("index") if s else None
    if not isinstance(index, numbers.Integral) or isinstance(index, bool) or index <= 1:
        return
    initial = s.get("initial_epoch")
    resumed = bool(s.get("continues"))
    title = (f"This run resumes at epoch {initial} (fit {index} written to it)" if resumed else
             f"This run was written by {index} fits: showing the newest, started "
             f"{_when(s['started'])}")
    advice = ("The history includes the earlier fit's epochs before the resumed one, as "
              "Keras's epochs count them." if resumed else
              "Earlier fits' records stay in the event files but are not mixed into these "
              "findings; give each experiment its own name= (or log_dir) to see them side by "
              "side in the tab.")
    yield Found("info", title, {"sessions": int(index), "started": s["started"],
                                "initial_epoch": initial, "resumes": s.get("continues")},
                advice, step)


@rule("run.concurrent_writers", severities=("warning",), panel="checks", order=243,
      fires_when="the newest record's `session.concurrent` names another session that wrote "
                 "after this one started (two callbacks or processes on one run)")
def run_concurrent_writers(R, T):
    s, step = _latest_session(R)
    others = s.get("concurrent") if s else None
    if not isinstance(others, list) or not others:
        return
    yield Found(
        "warning",
        f"Another writer is writing this run at the same time ({len(others)} other session"
        f"{'s' if len(others) > 1 else ''})",
        {"session": s["id"], "concurrent": [str(o) for o in others[:10]]},
        "Two DebuggerCallbacks (or two processes) share one log_dir/name: their records "
        "interleave and the tab shows only the newest one's. Give each its own name= or "
        "log_dir.", step)

"""What the diagnosis could not see: unmeasured data, failed diagnostics, unreadable records."""
from __future__ import annotations

from collections.abc import Mapping

from ..registry import Found, rule
from ..view import first_line

#: The id of the finding for a diagnostic that failed (also given by
#: ``diagnose`` for a rule that could not read the records).
DIAGNOSTIC_FAILED = "diagnostic.failed"
#: The evidence key of a failure's traceback or long text: the tab shows it folded
#: ("Details"), ``tb-nndebug report`` with ``--debug`` only.
DETAIL_KEY = "detail"
#: A failure's message in a title, and its detail, are cut to these many characters.
MAX_MESSAGE, MAX_DETAIL = 300, 8192


@rule("dataset.not_measured", severities=("info",), panel="capacity", order=240,
      fires_when="a `checks` record but no `dataset` record")
def dataset_not_measured(R, T):
    c = R.checks()
    if c is None or R.entries("dataset"):
        return
    skipped = c["value"].get("dataset_skipped")
    if skipped:
        yield Found(
            "info", "Dataset not measured: " + first_line(skipped),
            {"train_data_given": c["value"].get("train_data_given"), "reason": skipped},
            "The paper's capacity and balance measures are defined for classification; the "
            "training checks (loss, gradients, units, learning rate) still apply.",
            c["step"])
        return
    yield Found(
        "info", "No dataset record: capacity, balance and class overlap were not checked",
        {"train_data_given": c["value"].get("train_data_given")},
        "Pass train_data=(X, y) to DebuggerCallback (or call tb_nndebug.summary.dataset) so "
        "the model's size can be judged against what the data needs.",
        c["step"])


@rule("diagnostic.skipped", severities=("info",), panel="checks", order=245,
      fires_when="per entry of the checks record's `skipped`: a signal that cannot be measured "
                 "for this model or data, said once")
def diagnostic_skipped(R, T):
    c = R.checks()
    skipped = c["value"].get("skipped") if c else None
    for s in skipped if isinstance(skipped, list) else []:
        if not isinstance(s, Mapping) or not s.get("reason"):
            continue
        yield Found(
            "info", f"Not measured ({s.get('what')}): {first_line(s.get('reason'))}",
            {"what": s.get("what"), "reason": s.get("reason")},
            s.get("advice") if isinstance(s.get("advice"), str) else
            "Nothing is wrong with the model for this; the other checks stand. Compile the "
            "model with its loss, or pass train_data with targets, to get these signals.",
            c["step"])


@rule(DIAGNOSTIC_FAILED, severities=("warning",), panel="checks", order=250,
      fires_when="per entry of a `diagnostic_error` record, or a rule that could not read the "
                 "records")
def diagnostic_failed(R, T):
    for e in R.entries("diagnostic_error"):
        v = e["value"]
        errs = v.get("errors") if isinstance(v.get("errors"), list) else [
            {"diagnostic": v.get("diagnostic"), "error": v.get("error"), "detail": v.get("detail")}]
        for err in errs:
            if not isinstance(err, Mapping):
                continue
            at = err.get("epoch", v.get("epoch"))  # a cumulative record dates each failure
            message, detail = _message_and_detail(err)
            evidence = {"diagnostic": err.get("diagnostic"), "error": message, "epoch": at}
            if detail:
                evidence[DETAIL_KEY] = detail
            yield Found(
                "warning", f"Diagnostic '{err.get('diagnostic')}' failed: {message}", evidence,
                "Training went on without this check; its findings are missing. Report the "
                "error with the model's summary if it is a tb_nndebug bug.",
                at if isinstance(at, int) and not isinstance(at, bool) else e["step"])


def _message_and_detail(err) -> tuple[str, str | None]:
    """The failure's message (its first line) and the rest: the record's ``detail``, or
    for records written before it, what follows the message in ``error``."""
    text = err.get("error")
    text = (text if isinstance(text, str) else "" if text is None else str(text)).strip()
    head, _, rest = text.partition("\n")
    detail = err.get("detail")
    if not isinstance(detail, str):
        detail = text if len(head.strip()) > MAX_MESSAGE else rest.strip("\n")
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL - 1] + "…"
    return first_line(text, MAX_MESSAGE), (detail if detail.strip() else None)


@rule("record.unsupported", severities=("warning",), panel="checks", order=260,
      fires_when="per entry of `records[\"_errors\"]` (a record the reader could not decode)")
def record_unsupported(R, T):
    for err in R.errors():
        yield Found(
            "warning",
            (f"Record '{err.get('tag')}' could not be read: {first_line(err.get('error'))}"
             if err.get("tag") is not None else
             f"Records could not be read: {first_line(err.get('error'))}"),
            {"tag": err.get("tag"), "kind": err.get("kind"), "run": err.get("run"),
             "step": err.get("step"), "error": err.get("error")},
            "Upgrade tb_nndebug if the record is newer than this reader; otherwise rewrite "
            "the run. The rest of the report is unaffected.",
            None)

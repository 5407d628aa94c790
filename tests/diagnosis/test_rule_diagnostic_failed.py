"""``diagnostic.failed``: the failure's message in the title and ``evidence.error``, its
traceback or long text under ``evidence.detail`` (folded in the tab), never in the title."""
from __future__ import annotations

from tb_nndebug.diagnosis import diagnose
from tb_nndebug.diagnosis.rules.meta import DETAIL_KEY, MAX_DETAIL

TRACE = 'Traceback (most recent call last):\n  File "/home/me/project/train.py", line 3'


def failed(value, step=2):
    recs = {"diagnostic_error": [{"tag": "diagnostic_error", "step": step, "value": value}]}
    return [f for f in diagnose(recs) if f.id == "diagnostic.failed"]


def test_the_finding_carries_the_message_and_puts_the_detail_under_its_key():
    (f,) = failed({"diagnostic": "dead_units", "error": "ValueError: no ReLU", "epoch": 2,
                   "detail": TRACE,
                   "errors": [{"diagnostic": "dead_units", "error": "ValueError: no ReLU",
                               "epoch": 2, "detail": TRACE}]})
    assert f.title == "Diagnostic 'dead_units' failed: ValueError: no ReLU"
    assert f.evidence == {"diagnostic": "dead_units", "error": "ValueError: no ReLU", "epoch": 2,
                          DETAIL_KEY: TRACE}
    assert f.step == 2


def test_an_old_record_with_a_multi_line_error_is_split_into_message_and_detail():
    (f,) = failed({"diagnostic": "gradients", "error": "RuntimeError: boom\n" + TRACE,
                   "epoch": 1})
    assert f.title == "Diagnostic 'gradients' failed: RuntimeError: boom"
    assert f.evidence["error"] == "RuntimeError: boom"
    assert f.evidence[DETAIL_KEY] == TRACE


def test_a_one_line_failure_has_no_detail():
    (f,) = failed({"diagnostic": "d", "error": "ValueError: x", "epoch": 0,
                   "errors": [{"diagnostic": "d", "error": "ValueError: x", "epoch": 0}]})
    assert DETAIL_KEY not in f.evidence


def test_each_failure_of_a_cumulative_record_keeps_its_own_detail():
    got = failed({"diagnostic": "a", "error": "E: a", "epoch": 3, "errors": [
        {"diagnostic": "a", "error": "E: a", "epoch": 3, "detail": "trace a"},
        {"diagnostic": "b", "error": "E: b", "epoch": 1}]}, step=3)
    assert {f.evidence["diagnostic"]: f.evidence.get(DETAIL_KEY) for f in got} == {
        "a": "trace a", "b": None}


def test_a_detail_that_is_not_text_or_too_long_is_read_as_absent_or_cut():
    (f,) = failed({"diagnostic": "d", "error": "ValueError: x\nrest", "detail": ["nope"]})
    assert f.evidence[DETAIL_KEY] == "rest"
    (f,) = failed({"diagnostic": "d", "error": "ValueError: x", "detail": "y" * 50_000})
    assert len(f.evidence[DETAIL_KEY]) == MAX_DETAIL
    (f,) = failed({"diagnostic": "d", "error": "ValueError: " + "z" * 2000})
    assert len(f.title) < 400 and f.evidence[DETAIL_KEY].startswith("ValueError: zzz")

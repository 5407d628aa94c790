"""The console tables of the CLI and the demo runner."""
from __future__ import annotations

from tb_nndebug._text import format_findings, format_table, format_value
from tb_nndebug.diagnosis import Finding


def test_values_print_short_and_missing_as_dash():
    assert [format_value(v) for v in (None, True, 10192.0, 0.03516, 1e-5, float("nan"), 3,
                                      ["a", 2])] == \
        ["-", "yes", "10192", "0.03516", "1e-05", "-", "3", "a, 2"]


def test_table_aligns_numbers_right_and_text_left():
    rows = [{"size": "undersized", "bits": 132, "verdict": "too_small"},
            {"size": "oversized", "bits": 44748, "verdict": None, "extra": 1.5}]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["size", "bits", "verdict", "extra"]
    assert lines[2] == "undersized    132  too_small      -"
    assert lines[3] == "oversized   44748  -            1.5"
    assert format_table([]) == "(no rows)"


def test_findings_table_puts_the_most_severe_first_with_advice():
    findings = [
        Finding("capacity.oversized", "warning", "Model can memorise the data 40× over",
                {"model_bits": 1}, "Shrink to about 600 bits.", 0, "capacity"),
        Finding("capacity.matched", "ok", "fine", {}, "nothing to do", 0, "capacity"),
    ]
    text = format_findings(findings, width=80)
    lines = text.splitlines()
    assert lines[0].split() == ["SEVERITY", "ID", "FINDING"]
    assert lines[2].startswith("warning   capacity.oversized  Model can memorise")
    assert "→ Shrink to about 600 bits." in lines[3]
    assert "nothing to do" not in text  # advice only where something is wrong
    assert all(len(line) <= 80 for line in lines)
    assert format_findings([]) == "No findings."

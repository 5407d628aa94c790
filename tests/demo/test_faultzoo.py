"""The fault zoo: real faults named on their buggy programs, silence on their fixes.

Each case trains its buggy and its fixed twin in quick mode and records its
row; the summary test holds the zoo to the issue's bar (diagnosed ≥ 90 %,
fixed twins quiet ≥ 95 %, detected ≥ 90 %) and prints the table (run with
``-s`` to see it).
"""
from __future__ import annotations

import pytest

from tb_nndebug.demo import faultzoo

pytestmark = [pytest.mark.training,
              # planted faults that make Keras warn, as it should
              pytest.mark.filterwarnings("ignore:.*from_logits=True.*:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*does not have any trainable weights.*"),
              pytest.mark.filterwarnings("ignore:.*structure of `inputs`.*:UserWarning")]

_ROWS: dict[str, dict] = {}

_NAMES = [c.name for c in faultzoo.CASES]


def test_the_zoo_has_at_least_30_cases_with_unique_names():
    assert len(faultzoo.CASES) >= 30
    assert len(set(_NAMES)) == len(_NAMES)
    for case in faultzoo.CASES:
        assert case.causes and case.category.split(" / ")[0] in (
            faultzoo.MODEL, faultzoo.TENSORS, faultzoo.TRAINING), case.name


def test_every_planted_cause_is_a_finding_id():
    from tb_nndebug.diagnosis import RULE_ORDER

    unknown = {c.name: [i for i in c.causes if i not in RULE_ORDER] for c in faultzoo.CASES}
    unknown = {name: ids for name, ids in unknown.items() if ids}
    assert not unknown, f"causes that no rule declares: {unknown}"


@pytest.mark.parametrize("case", faultzoo.CASES, ids=_NAMES)
def test_case(tmp_path, case):
    buggy = faultzoo.run_case(case, tmp_path, bugged=True, quick=True, random_state=0)
    fixed = faultzoo.run_case(case, tmp_path, bugged=False, quick=True, random_state=0)
    assert fixed.fit_error is None, f"the fixed twin must train: {fixed.fit_error}"
    row = faultzoo.score_case(case, buggy.findings, fixed.findings,
                              buggy_metrics=faultzoo.final_metrics(buggy),
                              fixed_metrics=faultzoo.final_metrics(fixed))
    _ROWS[case.name] = row
    print("\n" + faultzoo.format_table([row]))


def test_zoo_scores():
    """Diagnosed ≥ 90 %, fixed twins quiet ≥ 95 %, detected ≥ 90 % (prints the table)."""
    if len(_ROWS) < len(faultzoo.CASES):
        pytest.skip("run together with the parametrized fault-zoo cases")
    rows = [_ROWS[name] for name in _NAMES]
    print("\n" + faultzoo.format_table(rows))
    t = faultzoo.totals(rows)
    misses = {k: [r["case"] for r in rows if not r[k]]
              for k in ("detected", "diagnosed", "fixed_quiet")}
    assert t["diagnosed"] >= 90, misses["diagnosed"]
    assert t["fixed_quiet"] >= 95, misses["fixed_quiet"]
    assert t["detected"] >= 90, misses["detected"]


def test_score_case_reads_errors_and_warnings_only():
    from tb_nndebug.diagnosis import Finding

    case = faultzoo.CASE_BY_NAME["lr_too_low"]
    buggy = [Finding("training.lr_too_low", "warning", "t"), Finding("data.x", "info", "t")]
    fixed = [Finding("capacity.matched", "ok", "t"), Finding("data.x", "info", "t")]
    row = faultzoo.score_case(case, buggy, fixed)
    assert (row["detected"], row["diagnosed"], row["fixed_quiet"]) == (True, True, True)
    row = faultzoo.score_case(case, [Finding("training.lr_too_high", "error", "t")],
                              [Finding("training.overfitting", "warning", "t")])
    assert (row["detected"], row["diagnosed"], row["fixed_quiet"]) == (True, False, False)
    table = faultzoo.format_table([row])
    assert "lr_too_low" in table and "E:training.lr_too_high" in table
    assert "detected 100 %, diagnosed 0 %, fixed twin quiet 0 %" in table

"""The rule registry is the one place a rule is declared: every derived list agrees with it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tb_nndebug import diagnosis
from tb_nndebug.diagnosis import registry
from tb_nndebug.diagnosis.findings import PANELS, SEVERITIES
from tb_nndebug.diagnosis.registry import Found, Threshold, all_rules, rule

ROOT = Path(__file__).resolve().parents[2]
RULES = all_rules()
IDS = [r.id for r in RULES]


def test_rule_ids_are_unique_dotted_names_with_declared_severities_and_panels():
    assert len(IDS) == len(set(IDS))
    for r in RULES:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", r.id), r.id
        assert r.severities and set(r.severities) <= set(SEVERITIES), r.id
        assert r.panel in PANELS, r.id
        assert r.fires_when.strip(), r.id


def test_rule_order_thresholds_and_causes_are_read_off_the_declarations():
    assert diagnosis.RULE_ORDER == tuple(IDS)
    assert diagnosis.THRESHOLDS == {f"{r.id}.{t.name}": (t.default, t.source)
                                    for r in RULES for t in r.thresholds}
    assert diagnosis.CAUSES == {r.id: r.causes for r in RULES if r.causes}
    for symptom, causes in diagnosis.CAUSES.items():
        for cause in causes:
            assert cause in IDS, (symptom, cause)
            assert IDS.index(cause) < IDS.index(symptom), (cause, symptom)


def test_every_threshold_key_follows_its_finding_id_and_old_names_stay_accepted():
    aliases = registry.threshold_aliases()
    for key in diagnosis.THRESHOLDS:
        assert any(key.startswith(rid + ".") for rid in IDS), key
    for old, key in aliases.items():
        assert key in diagnosis.THRESHOLDS and old not in diagnosis.THRESHOLDS, old
        assert diagnosis.resolve_thresholds({old: 123.0})[key] == 123.0
    assert "data.max_abs" in aliases  # the names of 0.1 still work


def test_every_threshold_states_its_source_and_meaning():
    for r in RULES:
        for t in r.thresholds:
            assert isinstance(t, Threshold)
            assert len(t.source) > 10 and len(t.meaning) > 5, (r.id, t.name)


def test_the_contract_table_is_the_generated_one():
    text = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    table = text.split("<!-- rules:begin -->\n", 1)[1].split("\n<!-- rules:end -->", 1)[0]
    assert table == registry.contract_table(), (
        "docs/data-contract.md is stale: paste `python -m tb_nndebug.diagnosis.registry`")
    for rid in IDS:
        assert f"`{rid}`" in table


def test_the_frontend_has_a_panel_for_every_panel_a_rule_names():
    source = (ROOT / "frontend" / "src" / "chartData.ts").read_text(encoding="utf-8")
    block = source.split("export const PANELS", 1)[1].split("];", 1)[0]
    front = re.findall(r'id:\s*"([a-z]+)"', block)
    assert set(front) == set(PANELS)
    assert {r.panel for r in RULES} <= set(front)


def test_every_rule_has_a_test_in_the_diagnosis_tests():
    text = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py")
                   if p.name != Path(__file__).name)
    missing = [rid for rid in IDS if f'"{rid}"' not in text]
    assert not missing, f"rules without a fires/stays-silent test: {missing}"


def test_a_rule_gives_only_its_own_id_and_declared_severities():
    def check(R, T):
        yield Found("error", "t", {}, "a")

    r = registry.Rule("x.y", ("warning",), "checks", 1, "never", check)
    with pytest.raises(ValueError, match="gave severity 'error'"):
        r.run(diagnosis.view.RecordsView({}), {})
    ok = registry.Rule("x.y", ("error",), "layers", 1, "never", check)
    (finding,) = ok.run(diagnosis.view.RecordsView({}), {})
    assert (finding.id, finding.panel) == ("x.y", "layers")


def test_a_declaration_is_refused_twice_or_with_an_unknown_panel_or_severity():
    with pytest.raises(ValueError, match="declared twice"):
        rule(IDS[0], severities=("warning",), panel="checks", order=1, fires_when="x")(
            lambda R, T: ())
    with pytest.raises(ValueError, match="panel"):
        rule("x.z", severities=("warning",), panel="nowhere", order=1, fires_when="x")
    with pytest.raises(ValueError, match="severities"):
        rule("x.z", severities=("fatal",), panel="checks", order=1, fires_when="x")


def test_a_rule_that_raises_becomes_a_diagnostic_failed_finding_naming_it():
    recs = {"training": [{"tag": "training", "step": 3, "value": {"history": {"loss": "bad"},
                                                                  "grad_norms": 5}}]}
    failed = [f for f in diagnosis.diagnose(recs) if f.id == "diagnostic.failed"]
    assert all(f.evidence["diagnostic"] in IDS for f in failed)

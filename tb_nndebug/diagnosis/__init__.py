"""Diagnosis: records in, findings out.

Pure functions of the record documents (``docs/data-contract.md``): no
TensorFlow, no files. The callback's console output, the CLI and the
plugin all call :func:`diagnose`, so one rule gives one verdict everywhere,
and a threshold can change without re-running training.

Each rule is one declaration in :mod:`tb_nndebug.diagnosis.rules` (see
:mod:`~tb_nndebug.diagnosis.registry`): its finding id, severities, panel,
the causes that can explain it and its thresholds with their sources.
:data:`THRESHOLDS`, :data:`RULE_ORDER` and :data:`CAUSES` are read off those
declarations. Thresholds can be overridden per call
(``diagnose(records, thresholds={"balance.imbalanced.ratio": 20})``).

The root cause matters more than the symptom: when a symptom (say
``training.overfitting``) and one of its causes (``capacity.oversized``)
both fire, the symptom's evidence names the cause (``likely_cause``), its
advice starts with the cause's fix, and the cause is ranked above it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .findings import PANELS, SEVERITIES, SEVERITY_RANK, Finding, count_by_severity, worst_severity
from .registry import all_rules, resolve_thresholds, threshold_table
from .rules.meta import DIAGNOSTIC_FAILED
from .view import RecordsView

__all__ = ["CAUSES", "PANELS", "RULE_ORDER", "SEVERITIES", "THRESHOLDS", "Finding",
           "count_by_severity", "diagnose", "resolve_thresholds", "sort_findings",
           "worst_severity"]

#: threshold key -> (default value, source). Override per call with ``thresholds={key: value}``.
THRESHOLDS: dict[str, tuple[float, str]] = threshold_table()

#: Ranking among findings of equal severity: causes before their symptoms, meta findings last.
RULE_ORDER: tuple[str, ...] = tuple(r.id for r in all_rules())

#: symptom -> its possible causes, most specific first.
CAUSES: dict[str, tuple[str, ...]] = {r.id: r.causes for r in all_rules() if r.causes}

_ORDER = {rid: i for i, rid in enumerate(RULE_ORDER)}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; within a severity, causes before symptoms."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity],
                                           _ORDER.get(f.id, len(_ORDER))))


def _link_causes(findings: list[Finding]) -> list[Finding]:
    """Name the root cause in each symptom and rank the cause above it."""
    by_id = {}
    for f in findings:
        by_id.setdefault(f.id, f)
    out = list(findings)
    raise_to = {}
    for i, f in enumerate(out):
        cause = next((by_id[c] for c in CAUSES.get(f.id, ()) if c in by_id
                      and by_id[c].severity in ("error", "warning")), None)
        if cause is None:
            continue
        ev = dict(f.evidence, likely_cause=cause.id)
        if cause.id.startswith("capacity."):
            for k in ("model_bits", "expected_bits", "max_bits", "target_bits"):
                if k in cause.evidence:
                    ev[k] = cause.evidence[k]
        advice = f"Likely cause: {cause.title} — {cause.advice} {f.advice}"
        out[i] = Finding(f.id, f.severity, f.title, ev, advice, f.step, f.panel)
        if SEVERITY_RANK[f.severity] < SEVERITY_RANK[cause.severity]:
            prev = raise_to.get(cause.id, cause.severity)
            raise_to[cause.id] = min(prev, f.severity, key=SEVERITY_RANK.get)
    if raise_to:
        out = [Finding(f.id, raise_to[f.id], f.title, f.evidence, f.advice, f.step, f.panel)
               if f.id in raise_to else f for f in out]
    return out


def diagnose(records: Mapping[str, Any], *, thresholds: Mapping[str, float] | None = None
             ) -> list[Finding]:
    """Turn records into findings, most severe first.

    Parameters
    ----------
    records : mapping
        ``kind -> [{"tag", "step", "value": <record document>, "history"?}, ...]``,
        exactly the ``records`` object of the plugin's ``GET /report`` or of
        :func:`tb_nndebug.records.read_records`; optionally ``"_errors":
        [{"tag", "kind", "run", "step", "error"}]`` for records a reader could
        not decode (each becomes ``record.unsupported``).
    thresholds : mapping, optional
        Overrides for :data:`THRESHOLDS` (key -> number).

    Returns
    -------
    list of Finding
        Sorted by severity, then causes before symptoms. Never raises on odd
        record contents: a rule that cannot read them yields a
        ``diagnostic.failed`` finding instead.

    Examples
    --------
    >>> recs = {"balance": [{"tag": "y", "step": 0, "value": {
    ...     "imbalance_ratio": 19.0, "counts": {"0": 95, "1": 5}, "rare_classes": []}}]}
    >>> [f.id for f in diagnose(recs)]
    ['balance.imbalanced']
    """
    values = resolve_thresholds(thresholds)
    R = RecordsView(records)
    findings: list[Finding] = []
    for r in all_rules():
        try:
            findings.extend(r.run(R, values))
        except Exception as exc:  # noqa: BLE001 - odd data must never break a report
            findings.append(Finding(
                DIAGNOSTIC_FAILED, "warning",
                f"Rule {r.id} could not read the records: {type(exc).__name__}: {exc}",
                {"diagnostic": r.id, "error": f"{type(exc).__name__}: {exc}"},
                "The other findings stand; this rule's check is missing.", None, "checks"))
    return sort_findings(_link_causes(findings))

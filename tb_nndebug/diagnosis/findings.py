"""What a rule produces: :class:`Finding`, its severities and report panels."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._values import to_jsonable

SEVERITIES = ("error", "warning", "info", "ok")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

#: The report panels of the Debugger tab a finding can point to.
PANELS = ("capacity", "layers", "balance", "csg", "training", "robustness", "checks")


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what was found, the numbers, and what to do.

    Attributes
    ----------
    id : str
        Stable dotted name, e.g. ``"capacity.oversized"``.
    severity : {"error", "warning", "info", "ok"}
    title : str
        One line, with the key number.
    evidence : dict
        The numbers that triggered the finding (JSON-ready).
    advice : str
        What to change and why.
    step : int or None
        Step of the record the finding comes from.
    panel : str
        The report panel holding the evidence (one of :data:`PANELS`).
    """

    id: str
    severity: str
    title: str
    evidence: dict = field(default_factory=dict, hash=False)
    advice: str = ""
    step: int | None = None
    panel: str = "checks"

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.panel not in PANELS:
            raise ValueError(f"panel must be one of {PANELS}, got {self.panel!r}")

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "title": self.title,
                "evidence": to_jsonable(self.evidence), "advice": self.advice,
                "step": self.step, "panel": self.panel}

    def line(self) -> str:
        """One console line: severity first."""
        where = f" (step {self.step})" if self.step is not None else ""
        return f"{self.severity.upper():7s} {self.id}: {self.title}{where}"


def _severity(finding) -> Any:
    return finding.get("severity") if isinstance(finding, Mapping) else finding.severity


def count_by_severity(findings: Iterable) -> dict:
    """``{"error": n, "warning": n, "info": n, "ok": n}``.

    ``findings`` are :class:`Finding` objects or their JSON documents; an
    unknown severity (a malformed document) is not counted.
    """
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        sev = _severity(f)
        if sev in counts:
            counts[sev] += 1
    return counts


def worst_severity(findings: Iterable) -> str | None:
    """The most severe severity among ``findings`` (None when empty).

    Reads ``findings`` as :func:`count_by_severity` does.
    """
    ranks = [SEVERITY_RANK[sev] for sev in map(_severity, findings) if sev in SEVERITY_RANK]
    return SEVERITIES[min(ranks)] if ranks else None

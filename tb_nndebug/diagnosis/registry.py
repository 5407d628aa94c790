"""The rule registry: one declaration per finding id.

A rule is a function of the records (:class:`~.view.RecordsView`) and the
resolved thresholds that yields :class:`Found` — severity, title, evidence,
advice, step. Everything else about the finding lives in its declaration::

    @rule("balance.rare_class", severities=("warning",), panel="balance", order=90,
          fires_when="a class < 5 % of the data",
          thresholds=[Threshold("fraction", 0.05, "paper §3.3: ...", "largest rare share",
                                alias="balance.rare_fraction")])
    def rare_class(R, T):
        ...
        yield Found("warning", title, evidence, advice, step)

The registry stamps the id and panel on what the function yields, so one
function gives one id; it refuses a severity the declaration does not list.
``RULE_ORDER``, ``THRESHOLDS``, ``CAUSES``, the contract's table of findings
(``docs/data-contract.md``) and the frontend's panels are derived from, or
checked against, these declarations. Rules are found by importing every
module of :mod:`tb_nndebug.diagnosis.rules`: adding a rule is adding a
declaration there (and its fires / stays-silent test).
"""
from __future__ import annotations

import importlib
import math
import numbers
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .findings import PANELS, SEVERITIES, Finding


@dataclass(frozen=True)
class Threshold:
    """A number a rule compares against, with where it comes from.

    ``name`` is short (``"max_abs"``); its key is ``"<rule id>.<name>"``.
    ``alias`` is the key it had before keys followed the finding ids; it is
    still accepted as an override.
    """

    name: str
    default: float
    source: str
    meaning: str
    alias: str | None = None


class Found(NamedTuple):
    """What a rule function yields; the registry makes it a :class:`Finding`."""

    severity: str
    title: str
    evidence: dict
    advice: str
    step: int | None = None


@dataclass(frozen=True)
class Rule:
    """One finding id: its declaration and the function that checks for it.

    Attributes
    ----------
    id : str
        The finding id, ``"<area>.<name>"``.
    severities : tuple of str
        The severities the rule may give (a subset of ``SEVERITIES``).
    panel : str
        The report panel holding the evidence.
    order : int
        Rank among findings of equal severity: causes before symptoms.
    fires_when : str
        One line for the contract's table.
    causes : tuple of str
        Finding ids that can explain this one, most specific first.
    thresholds : tuple of Threshold
    check : callable
        ``check(records_view, thresholds_view) -> iterable of Found``.
    """

    id: str
    severities: tuple
    panel: str
    order: int
    fires_when: str
    check: Callable = field(compare=False)
    causes: tuple = ()
    thresholds: tuple = ()

    def key(self, name: str) -> str:
        return f"{self.id}.{name}"

    def run(self, records, values: Mapping[str, float]) -> list[Finding]:
        """The rule's findings on ``records`` with threshold ``values``."""
        out = []
        for found in self.check(records, ThresholdView(self, values)) or ():
            if found.severity not in self.severities:
                raise ValueError(f"rule {self.id} gave severity {found.severity!r}; it declares "
                                 f"{self.severities}")
            out.append(Finding(self.id, found.severity, found.title, found.evidence,
                               found.advice, found.step, self.panel))
        return out


class ThresholdView(Mapping):
    """Threshold values as a rule reads them: its own by short name
    (``T["max_abs"]``), any other rule's by full key."""

    def __init__(self, rule: Rule, values: Mapping[str, float]):
        self._rule, self._values = rule, values

    def __getitem__(self, name):
        own = self._rule.key(name)
        return self._values[own] if own in self._values else self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


_REGISTRY: dict[str, Rule] = {}
_DISCOVERED = False


def rule(rule_id: str, *, severities: Sequence[str], panel: str, order: int, fires_when: str,
         causes: Sequence[str] = (), thresholds: Iterable[Threshold] = ()):
    """Declare the function below as the rule for ``rule_id`` (see the module docstring)."""
    bad = [s for s in severities if s not in SEVERITIES]
    if not severities or bad:
        raise ValueError(f"rule {rule_id}: severities must be some of {SEVERITIES}, got "
                         f"{tuple(severities)}")
    if panel not in PANELS:
        raise ValueError(f"rule {rule_id}: panel must be one of {PANELS}, got {panel!r}")

    def register(fn):
        if rule_id in _REGISTRY:
            raise ValueError(f"rule {rule_id} is declared twice ({_REGISTRY[rule_id].check} "
                             f"and {fn})")
        _REGISTRY[rule_id] = Rule(rule_id, tuple(severities), panel, int(order), fires_when, fn,
                                  tuple(causes), tuple(thresholds))
        return fn

    return register


def all_rules() -> tuple[Rule, ...]:
    """Every declared rule, causes before symptoms (by ``order``)."""
    global _DISCOVERED
    if not _DISCOVERED:
        from . import rules as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _DISCOVERED = True
    return tuple(sorted(_REGISTRY.values(), key=lambda r: (r.order, r.id)))


def get_rule(rule_id: str) -> Rule:
    """The declaration of ``rule_id`` (``KeyError`` if none)."""
    return {r.id: r for r in all_rules()}[rule_id]


def threshold_table() -> dict[str, tuple[float, str]]:
    """Every threshold key -> ``(default, source)``."""
    return {r.key(t.name): (t.default, t.source) for r in all_rules() for t in r.thresholds}


def threshold_aliases() -> dict[str, str]:
    """Old threshold name -> its key."""
    return {t.alias: r.key(t.name) for r in all_rules() for t in r.thresholds if t.alias}


def resolve_thresholds(thresholds: Mapping[str, float] | None = None) -> dict:
    """The threshold values to use: defaults overridden by ``thresholds``.

    Keys are ``"<rule id>.<name>"`` (see :data:`THRESHOLDS`); the names used
    before version 0.2 (``"data.max_abs"``) are accepted too.

    Raises
    ------
    ValueError
        For an unknown name (a typo would otherwise be silently ignored).
    TypeError
        For a non-mapping, or a value that is not a finite number.
    """
    table = threshold_table()
    values = {k: v for k, (v, _) in table.items()}
    if thresholds is None:
        return values
    if not isinstance(thresholds, Mapping):
        raise TypeError(f"thresholds must be a mapping name -> number, got "
                        f"{type(thresholds).__name__}")
    aliases = threshold_aliases()
    for name, v in thresholds.items():
        key = aliases.get(name, name)
        if key not in table:
            raise ValueError(f"thresholds: unknown name {name!r}; known: {sorted(table)}")
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise TypeError(f"thresholds[{name!r}] must be a finite number, got {v!r}")
        values[key] = float(v)
    return values


def contract_table() -> str:
    """The Markdown table of findings in ``docs/data-contract.md``, from the declarations."""
    lines = ["| id | severity | panel | fires when | thresholds |", "|---|---|---|---|---|"]
    for r in all_rules():
        keys = ", ".join(f"`{t.name}` = {t.default:g}" for t in r.thresholds)
        lines.append(f"| `{r.id}` | {' / '.join(r.severities)} | {r.panel} | {r.fires_when} "
                     f"| {keys} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the contract's table
    # run as a script this module is a second copy: the rules register in the package's
    from tb_nndebug.diagnosis.registry import contract_table as _table

    print(_table())

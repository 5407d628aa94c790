"""Pure builders for the plugin's route JSON (``docs/data-contract.md``).

Nothing here talks to TensorBoard: the plugin (``tb_nndebug.plugin``) reads
series through the data provider and hands plain Python values to these
functions, which turn them into the ``records``, ``curves``, ``/runs`` entry
and ``/compare`` row documents. Keeping them pure lets them be tested on
hand-made inputs and reused by anything else that has records.
"""
from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable, Mapping, Sequence

from .._values import finite_or_none as _finite
from .._values import get_path as _get
from ..diagnosis import SEVERITIES, count_by_severity, worst_severity
from ..records import contract as metadata
from ..records.lookup import history_epochs, primary_dataset

#: Keras's TensorBoard callback writes per-epoch scalars as ``epoch_<metric>``
#: into ``<log_dir>/train`` and ``<log_dir>/validation`` (Keras 3.15 also
#: writes ``epoch_learning_rate`` and ``evaluation_*_vs_iterations``, the
#: latter stepped by batch, which the curves leave out).
EPOCH_TAG_PREFIX = "epoch_"


def group_of(run: str) -> str:
    """The group of ``run``: the run's parent directory.

    ``exp1/debugger``, ``exp1/train`` and ``exp1/validation`` all belong to
    ``exp1``. A top-level run (``debugger``, ``train``) and the logdir itself
    (``.``) belong to the group ``"."``. Backslashes count as separators too
    (TensorBoard on Windows names runs with them).
    """
    name = str(run).replace("\\", "/").rstrip("/")
    if name in ("", "."):
        return "."
    parent = posixpath.dirname(name)
    return parent or "."


def curves_from_scalars(scalars: Mapping[str, Mapping[str, Sequence[tuple]]]) -> list[dict]:
    """Training curves from the group's scalar runs (Keras ``train``/``validation``).

    Parameters
    ----------
    scalars : mapping
        run -> tag -> sequence of ``(step, value)``, as read from the scalars
        plugin for the runs of the group other than the debugger run.

    Returns
    -------
    list of dict
        ``{"run", "tag", "metric", "split", "points": [[step, value], ...]}``
        for every ``epoch_*`` tag, sorted by metric then split; ``split`` is
        the run's last path component (``train``, ``validation``); non-finite
        values are dropped.
    """
    out = []
    for run, tags in scalars.items():
        split = str(run).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        for tag, points in tags.items():
            if not tag.startswith(EPOCH_TAG_PREFIX):
                continue
            pts = [[int(st), v] for st, v in ((st, _finite(val)) for st, val in points)
                   if v is not None]
            pts.sort(key=lambda p: p[0])
            out.append({"run": run, "tag": tag, "metric": tag[len(EPOCH_TAG_PREFIX):],
                        "split": split, "points": pts})
    out.sort(key=lambda c: (c["metric"], c["split"], c["run"]))
    return out


def latest(records: Mapping, kind: str, prefer: Sequence[str] = ()) -> dict | None:
    """The latest document of ``kind``; among several tags, the first in ``prefer``
    that exists, else the first by tag name."""
    entries = records.get(kind) or []
    if not entries:
        return None
    for tag in prefer:
        for e in entries:
            if e.get("tag") == tag or (isinstance(e.get("value"), dict)
                                       and e["value"].get("name") == tag):
                return e["value"]
    return entries[0]["value"]


def curves_from_training(records: Mapping, run: str) -> list[dict]:
    """Fallback curves from the latest ``training`` record's history.

    ``loss`` becomes metric ``loss`` of split ``train``, ``val_loss`` metric
    ``loss`` of split ``validation``; points are ``[epoch, value]`` (Keras's
    epochs, the record's ``history_epochs``) with missing (``null``) values dropped.
    """
    doc = latest(records, metadata.KIND_TRAINING)
    history = doc.get("history") if isinstance(doc, dict) else None
    if not isinstance(history, dict):
        return []
    out = []
    n = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
    epochs = history_epochs(doc, n)
    for key, values in history.items():
        if not isinstance(values, list):
            continue
        split, metric = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
        pts = [[epochs[i], _finite(v)] for i, v in enumerate(values)
               if i < n and _finite(v) is not None]
        out.append({"run": run, "tag": key, "metric": metric, "split": split, "points": pts})
    out.sort(key=lambda c: (c["metric"], c["split"]))
    return out


def thinned_histories(records: Mapping, limit: int) -> dict:
    """``records`` with each entry's per-step ``history`` cut to at most ``limit`` evenly
    spaced steps, the first and the latest kept (a 10,000-epoch run's ``/report`` stays
    small; the diagnosis has already read the latest documents, which carry the loss
    history in full)."""
    out = {}
    for kind, entries in records.items():
        if not isinstance(entries, list):
            out[kind] = entries
            continue
        out[kind] = []
        for e in entries:
            hist = e.get("history") if isinstance(e, Mapping) else None
            if isinstance(hist, list) and len(hist) > limit > 1:
                step = (len(hist) - 1) / (limit - 1)
                e = dict(e, history=[hist[round(i * step)] for i in range(limit)],
                         history_thinned_from=len(hist))
            out[kind].append(e)
    return out


def markers(findings: Iterable[Mapping]) -> list[dict]:
    """``{"step", "id", "severity"}`` for every finding that names a step, by step."""
    out = [{"step": int(f["step"]), "id": f.get("id"), "severity": f.get("severity")}
           for f in findings
           if isinstance(f.get("step"), (int, float)) and not isinstance(f.get("step"), bool)
           and math.isfinite(f["step"])]
    out.sort(key=lambda m: (m["step"], SEVERITIES.index(m["severity"])
                            if m["severity"] in SEVERITIES else len(SEVERITIES)))
    return out


def severity_counts(findings: Iterable[Mapping]) -> tuple[dict, str | None]:
    """Counts of findings by severity (all four keys) and the worst severity present."""
    findings = list(findings)
    return count_by_severity(findings), worst_severity(findings)


def _last_value(values) -> float | None:
    if not isinstance(values, list):
        return None
    for v in reversed(values):
        v = _finite(v)
        if v is not None:
            return v
    return None


def _verdict(findings: Sequence[Mapping]) -> str | None:
    """The capacity verdict of the diagnosis (``capacity.too_small``,
    ``capacity.matched`` or ``capacity.oversized``), or None without one."""
    for f in findings:
        fid = str(f.get("id") or "")
        if fid.startswith("capacity."):
            tail = fid.split(".", 1)[1]
            if tail in ("too_small", "matched", "oversized"):
                return tail
    return None


def compare_row(run: str, records: Mapping, findings: Sequence[Mapping]) -> dict:
    """One ``/compare`` row: the key numbers a user scans to pick a run.

    Every number is ``None`` when the run lacks the record holding it. The
    dataset record tagged (or named) ``train`` is preferred when there are
    several (:func:`tb_nndebug.records.lookup.primary_dataset`, as the diagnosis
    chooses it); the imbalance ratio falls back to a ``balance`` record (stage
    ``after`` preferred) when no dataset record has one.
    """
    primary = primary_dataset(records.get(metadata.KIND_DATASET) or [])
    dataset = primary["value"] if primary else None
    model = latest(records, metadata.KIND_MODEL, prefer=("model",))
    robust = latest(records, metadata.KIND_ROBUSTNESS, prefer=("robustness",))
    info = latest(records, metadata.KIND_RUN_INFO, prefer=("run_info",))
    training = latest(records, metadata.KIND_TRAINING, prefer=("training",))

    model_bits = _finite(_get(model, "bits"))
    expected_bits = _finite(_get(dataset, "complexity", "expected_bits"))
    ratio = (model_bits / expected_bits
             if model_bits is not None and expected_bits else None)
    imbalance = _finite(_get(dataset, "balance", "imbalance_ratio"))
    if imbalance is None:
        balances = records.get(metadata.KIND_BALANCE) or []
        after = [e for e in balances if _get(e, "value", "stage") == "after"]
        for e in after or balances:
            imbalance = _finite(_get(e, "value", "imbalance_ratio"))
            if imbalance is not None:
                break
    history = _get(training, "history")
    counts, worst = severity_counts(findings)
    return {
        "run": run,
        "group": group_of(run),
        "model_bits": model_bits,
        "expected_bits": expected_bits,
        "max_bits": _finite(_get(dataset, "complexity", "max_bits")),
        "ratio": ratio,
        "verdict": _verdict(findings),
        "csg": _finite(_get(dataset, "csg", "score")),
        "imbalance_ratio": imbalance,
        "median_eps": _finite(_get(robust, "median_eps")),
        "median_pixels": _finite(_get(robust, "median_pixels")),
        "clean_accuracy": _finite(_get(robust, "clean_accuracy")),
        "train_accuracy": _last_value(_get(history, "accuracy")),
        "val_accuracy": _last_value(_get(history, "val_accuracy")),
        "train_loss": _last_value(_get(history, "loss")),
        "val_loss": _last_value(_get(history, "val_loss")),
        "architecture": _get(info, "architecture"),
        "capacity_level": _finite(_get(info, "capacity_level")),
        "epochs": (int(training["epoch"]) + 1
                   if isinstance(_get(training, "epoch"), int) else None),
        "counts": counts,
        "worst": worst,
    }

"""The TensorBoard plugin backend of the Debugger tab.

Routes (mounted under ``<prefix>/data/plugin/nndebug``; JSON shapes in
``docs/data-contract.md``):

- ``/index.js``: the frontend bundle ``tb_nndebug/plugin/static/index.js``
  (``es_module_path``); ``/static/<file>``: any other bundled file.
- ``/runs``: every run holding debugger records, with finding counts.
- ``/report?run=R``: records, findings, training curves of one run.
- ``/compare[?runs=R1,R2,...]``: one row of key numbers per run (a run whose
  name contains a comma can be named with a repeated ``run=R`` instead).

Fields added to the contract's shapes: each ``/runs`` entry has
``n_warnings`` (records skipped as unreadable); ``/report``'s ``curves`` has
``source`` (``"scalars"``, ``"training_record"`` or ``None``); each
``/compare`` row has ``epochs`` (epochs trained, from the training record).
Skipped records appear in ``/report``'s ``warnings`` and reach the diagnosis
as its ``_errors`` list (``record.unsupported`` findings).

Data comes only through ``context.data_provider``, so the plugin works with
the Rust data server (TensorBoard's default), with ``--load_fast=false``,
with ``--path_prefix`` and under ``/experiment/<id>/``.

Downsampling and ``--samples_per_plugin``
-----------------------------------------
TensorBoard keeps a sample of each tag's steps: the Rust data server keeps
100 tensors per tag by default, the Python loader (``--load_fast=false``)
only 10. ``--samples_per_plugin=nndebug=N`` sets that retention, and the
plugin reads with ``downsample=N`` too; ``N=0`` (keep everything) and no flag
both read every stored step (the plugin maps them to a large number, since
``downsample=0`` would return nothing). Sampling always keeps a tag's latest
step, and the latest ``training`` record carries the whole loss/accuracy
history, so diagnosis and the ``/compare`` numbers are exact whatever the
retention; only the per-step ``history`` lists shown in ``/report`` thin out
(and ``/report`` carries at most ``REPORT_HISTORY_POINTS`` evenly spaced steps
of each, marked ``history_thinned_from``: a 10,000-epoch run stays < 1 MB).
Training curves are read from the scalars plugin with its own hint
(``--samples_per_plugin=scalars=N``; 1000 per tag is TensorBoard's default).

Cost
----
``/runs`` and ``/compare`` make one ``list_tensors`` call for all runs, plus
one ``read_tensors(downsample=1)`` call (the latest point of each tag) for the
runs whose series changed since the last request; each run's summary
(findings, counts, key numbers) is cached by (experiment, run, per-tag max
step and wall time), so repeated requests over hundreds of runs only list and
look up. The diagnosis reads the latest document of each tag only, so these
findings are the ones ``/report`` shows (a test pins this down). ``/report``
lists one run, reads its records with their history (or takes them from a
small LRU cache) and reads its group's scalars.
"""
from __future__ import annotations

import collections
import json
import logging
import posixpath
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tensorboard import errors as tb_errors
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from .. import diagnosis
from ..records import contract as metadata
from ..records import reading
from . import views as report

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Content types by file extension, fixed so a broken ``mimetypes`` registry
#: (a known Windows problem) cannot serve the ES module as text/plain.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}

#: What "read everything stored" means for ``downsample`` (0 would mean nothing).
ALL_SAMPLES = 1_000_000
#: Default number of scalar points read per curve (TensorBoard keeps 1000).
SCALAR_SAMPLES = 1000
#: How many full ``/report`` payloads to keep (each holds a run's record history).
REPORT_CACHE_SIZE = 16
#: Steps of each record's per-step ``history`` a ``/report`` carries at most.
REPORT_HISTORY_POINTS = 500
#: Upper bound on run names accepted in one ``/compare`` request.
MAX_COMPARE_RUNS = 10_000
_MAX_RUN_NAME = 4096


def downsample_from_hint(hint) -> int:
    """Map a ``--samples_per_plugin`` value to a ``downsample`` argument.

    ``None`` (flag absent) and ``0`` ("keep all") both mean read every stored
    point; a positive integer is used as is.
    """
    try:
        value = int(hint)
    except (TypeError, ValueError):
        return ALL_SAMPLES
    return value if value > 0 else ALL_SAMPLES


class _BadRequest(Exception):
    """A request the plugin refuses; carries the HTTP code and message."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RunSummary:
    """What ``/runs`` and ``/compare`` need of one run (cached per fingerprint)."""

    run: str
    group: str
    last_step: int | None
    last_wall_time: float | None
    kinds: tuple
    counts: dict
    worst: str | None
    n_warnings: int
    row: dict

    def runs_entry(self) -> dict:
        return {
            "run": self.run,
            "group": self.group,
            "last_step": self.last_step,
            "last_wall_time": self.last_wall_time,
            "kinds": list(self.kinds),
            "counts": dict(self.counts),
            "worst": self.worst,
            "n_warnings": self.n_warnings,
        }


@dataclass(frozen=True)
class _Analysis:
    records: dict
    findings: list
    warnings: list


def _diagnose(records: Mapping, warnings: list) -> list[dict]:
    """Findings as dicts; a failing diagnosis becomes a warning, not an error."""
    try:
        return [f.to_dict() for f in diagnosis.diagnose(records)]
    except Exception as exc:  # a broken rule must not take the route down
        logger.warning("diagnosis failed", exc_info=True)
        warnings.append(f"diagnosis failed: {type(exc).__name__}: {exc}")
        return []


def analyse(run: str, series: Iterable[reading.Series], cut: Sequence[str] = ()) -> _Analysis:
    """Records, findings and warnings of one run from its raw series (the one reader's);
    ``cut``: why event files of the run are truncated (see :func:`reading.truncated_files`)."""
    decoded = reading.decode_series(series, run=run)
    if cut:
        decoded = reading.Decoded(decoded.records, decoded.errors + [
            {"run": run, "tag": None, "kind": None, "step": None, "error": why} for why in cut],
            decoded.sessions, decoded.session)
    warnings = decoded.warnings
    findings = _diagnose(decoded.for_diagnosis(), warnings)
    return _Analysis(decoded.records, findings, warnings)


def _fingerprint(tags: Mapping[str, Any]) -> tuple:
    """Changes whenever a series of the run gains a step (or a tag appears)."""
    return tuple(sorted(
        (tag, int(ts.max_step), float(ts.max_wall_time), bytes(ts.plugin_content or b""))
        for tag, ts in tags.items()
    ))


class DebuggerPlugin(base_plugin.TBPlugin):
    """TensorBoard plugin serving the Debugger tab (``plugin_name = "nndebug"``)."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        """Keep the data provider and sampling hints of ``context`` (a ``TBContext``)."""
        self._data_provider = context.data_provider
        self._logdir = context.logdir or None
        hints = context.sampling_hints or {}
        self._downsample = downsample_from_hint(hints.get(metadata.PLUGIN_NAME))
        scalar_hint = hints.get("scalars")
        self._scalar_downsample = (SCALAR_SAMPLES if scalar_hint is None
                                   else downsample_from_hint(scalar_hint))
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._summaries: dict[tuple, tuple[tuple, RunSummary]] = {}
        self._analyses: collections.OrderedDict[tuple, tuple[tuple, _Analysis]] = (
            collections.OrderedDict()
        )

    # -- TBPlugin ------------------------------------------------------------
    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_index,
            "/static/*": self._serve_static,
            "/runs": self._serve_runs,
            "/report": self._serve_report,
            "/compare": self._serve_compare,
        }

    def is_active(self):
        # The tab is enabled through data_provider.list_plugins() (it lists
        # "nndebug" as soon as one record exists); no extra work here.
        return False

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Debugger")

    # -- static files ----------------------------------------------------------
    @wrappers.Request.application
    def _serve_index(self, request):
        if resolve_static("index.js") is None:
            return _json_error(
                request, 404,
                "the frontend bundle tb_nndebug/plugin/static/index.js is missing; "
                "build it with `make frontend`")
        return self._static_response(request, "index.js")

    @wrappers.Request.application
    def _serve_static(self, request):
        marker = "/static/"
        path = request.path
        idx = path.find(marker)
        name = path[idx + len(marker):] if idx >= 0 else ""
        return self._static_response(request, name)

    def _static_response(self, request, name: str):
        file = resolve_static(name)
        if file is None:
            return _json_error(request, 404, f"no static file {name!r}")
        try:
            data = file.read_bytes()
        except OSError:
            return _json_error(request, 404, f"static file {name!r} cannot be read")
        return http_util.Respond(request, data, CONTENT_TYPES[file.suffix])

    # -- data routes -----------------------------------------------------------
    @wrappers.Request.application
    def _serve_runs(self, request):
        return self._json_route(request, self._runs_impl)

    @wrappers.Request.application
    def _serve_report(self, request):
        return self._json_route(request, self._report_impl)

    @wrappers.Request.application
    def _serve_compare(self, request):
        return self._json_route(request, self._compare_impl)

    def _json_route(self, request, impl):
        ctx = plugin_util.context(request.environ)
        eid = plugin_util.experiment_id(request.environ)
        try:
            body = impl(ctx, eid, request.args)
        except _BadRequest as exc:
            return _json_error(request, exc.code, exc.message)
        except tb_errors.PublicError as exc:
            code = exc.http_code if 400 <= exc.http_code < 500 else 404
            return _json_error(request, code, str(exc))
        try:
            # Encoding here skips Respond's NaN-cleansing walk over every value
            # (most of a large report's cost); the documents are JSON already
            # and the scalars read are filtered to finite numbers.
            text = json.dumps(body, allow_nan=False, separators=(",", ":"))
        except ValueError:  # a non-finite number slipped in: let Respond cleanse it
            text = body
        return http_util.Respond(request, text, "application/json")

    # /runs ---------------------------------------------------------------------
    def _runs_impl(self, ctx, eid, args) -> dict:
        summaries = self.run_summaries(ctx, eid)
        return {"runs": [s.runs_entry() for s in summaries.values()]}

    # /compare ------------------------------------------------------------------
    def _compare_impl(self, ctx, eid, args) -> dict:
        wanted = _requested_runs(args)
        summaries = self.run_summaries(ctx, eid, runs=wanted)
        if wanted is not None:
            unknown = [r for r in wanted if r not in summaries]
            if unknown:
                raise _BadRequest(404, "no debugger records for run(s): "
                                  + ", ".join(repr(r) for r in unknown[:20]))
            order = wanted
        else:
            order = list(summaries)
        return {"rows": [dict(summaries[r].row) for r in order]}

    # /report -------------------------------------------------------------------
    def _report_impl(self, ctx, eid, args) -> dict:
        values = args.getlist("run")
        if not values:
            raise _BadRequest(400, "missing query parameter 'run'")
        if len(values) > 1:
            raise _BadRequest(400, "give the query parameter 'run' once")
        run = values[0]
        if not run or len(run) > _MAX_RUN_NAME:
            raise _BadRequest(400, "query parameter 'run' must be a run name")
        listing = self._list_tensors(ctx, eid, runs=[run])
        tags = listing.get(run)
        if not tags:
            raise _BadRequest(404, f"no debugger records for run {run!r}")
        cut = self._truncated(run)
        fp = (_fingerprint(tags), tuple(cut))
        analysis = self._cached_analysis(eid, run, fp)
        if analysis is None:
            data = self._read_tensors(ctx, eid, runs=[run])
            analysis = analyse(run, _series(tags, data.get(run, {})), cut)
            self._store(eid, run, fp, analysis)
        last_step = max(int(ts.max_step) for ts in tags.values())
        series = self._group_curves(ctx, eid, run)
        source = "scalars"
        if not series:
            series = report.curves_from_training(analysis.records, run)
            source = "training_record" if series else None
        return {
            "run": run,
            "group": report.group_of(run),
            "last_step": last_step,
            "records": report.thinned_histories(analysis.records, REPORT_HISTORY_POINTS),
            "findings": analysis.findings,
            "curves": {"series": series, "markers": report.markers(analysis.findings),
                       "source": source},
            "warnings": list(analysis.warnings),
        }

    def _truncated(self, run: str) -> list[str]:
        """Truncated event files of ``run`` when the logdir is a directory this process can
        read (TensorBoard's loaders skip a cut-short record without a word); else none."""
        if not self._logdir:
            return []
        parts = [p for p in run.replace("\\", "/").split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            return []
        return reading.truncated_files(posixpath.join(self._logdir, *parts) if parts
                                       else self._logdir)

    # -- reading -------------------------------------------------------------------
    def run_summaries(self, ctx, eid, runs: Sequence[str] | None = None) -> dict:
        """Summaries of the debugger runs (all, or those in ``runs``), by run name.

        One ``list_tensors`` call, plus one ``read_tensors`` call covering
        every run whose series changed since it was last summarised.
        """
        listing = self._list_tensors(ctx, eid, runs=runs)
        fingerprints = {run: _fingerprint(tags) for run, tags in listing.items() if tags}
        out, stale = self._cached_summaries(eid, fingerprints)
        if stale:
            # One thread refreshes at a time: concurrent first requests would
            # otherwise each read and diagnose every run.
            with self._refresh_lock:
                more, stale = self._cached_summaries(eid, stale)
                out.update(more)
                if stale:
                    # The latest point of each tag is all a summary needs: the
                    # diagnosis reads latest documents only (the training record
                    # carries its own history), and both loaders' downsampling
                    # always keeps the last point.
                    data = self._read_tensors(ctx, eid, runs=list(stale), downsample=1)
                    for run, fp in stale.items():
                        tags = listing[run]
                        analysis = analyse(run, _series(tags, data.get(run, {})))
                        summary = _summarise(run, tags, analysis)
                        out[run] = summary
                        with self._lock:
                            self._summaries[(eid, run)] = (fp, summary)
        return dict(sorted(out.items()))

    def _cached_summaries(self, eid, fingerprints: Mapping[str, tuple]):
        """Split ``run -> fingerprint`` into cached summaries and stale runs."""
        hits: dict[str, RunSummary] = {}
        stale: dict[str, tuple] = {}
        with self._lock:
            for run, fp in fingerprints.items():
                hit = self._summaries.get((eid, run))
                if hit is not None and hit[0] == fp:
                    hits[run] = hit[1]
                else:
                    stale[run] = fp
        return hits, stale

    def _list_tensors(self, ctx, eid, runs=None) -> dict:
        return self._data_provider.list_tensors(
            ctx,
            experiment_id=eid,
            plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=provider.RunTagFilter(runs=runs) if runs is not None else None,
        )

    def _read_tensors(self, ctx, eid, runs, downsample=None) -> dict:
        return self._data_provider.read_tensors(
            ctx,
            experiment_id=eid,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=self._downsample if downsample is None else downsample,
            run_tag_filter=provider.RunTagFilter(runs=runs),
        )

    def _group_curves(self, ctx, eid, run) -> list[dict]:
        """Keras's per-epoch scalars of the runs beside ``run`` (its group).

        The convention is ``<exp>/debugger`` beside ``<exp>/train`` and
        ``<exp>/validation``. A run whose records sit in the Keras log_dir
        itself (``<exp>`` with ``<exp>/train`` below it) is served too: its
        direct child runs are used when they hold curves, its siblings
        otherwise. One ``list_runs`` and one ``read_scalars`` call.
        """
        group = report.group_of(run)
        siblings, children = [], []
        for r in self._data_provider.list_runs(ctx, experiment_id=eid):
            name = r.run_name
            if name == run or name in (".", ""):
                continue
            parent = report.group_of(name)
            if parent == group:
                siblings.append(name)
            elif parent == run.replace("\\", "/").rstrip("/"):
                children.append(name)
        if not siblings and not children:
            return []
        data = self._data_provider.read_scalars(
            ctx,
            experiment_id=eid,
            plugin_name="scalars",
            downsample=self._scalar_downsample,
            run_tag_filter=provider.RunTagFilter(runs=siblings + children),
        )

        def curves(names):
            return report.curves_from_scalars({
                r: {tag: [(d.step, d.value) for d in points]
                    for tag, points in data.get(r, {}).items()}
                for r in names if r in data
            })

        return curves(children) or curves(siblings)

    # -- caches ------------------------------------------------------------------
    def _cached_analysis(self, eid, run, fp):
        with self._lock:
            hit = self._analyses.get((eid, run))
            if hit is None or hit[0] != fp:
                return None
            self._analyses.move_to_end((eid, run))
            return hit[1]

    def _store(self, eid, run, fp, analysis) -> None:
        with self._lock:
            self._analyses[(eid, run)] = (fp, analysis)
            self._analyses.move_to_end((eid, run))
            while len(self._analyses) > REPORT_CACHE_SIZE:
                self._analyses.popitem(last=False)


def _series(tags: Mapping[str, Any], data: Mapping[str, Sequence]) -> list[reading.Series]:
    """Pair each listed tag's plugin content with the points read for it."""
    out = []
    for tag, ts in tags.items():
        points = tuple(reading.Point(int(d.step), float(d.wall_time), d.numpy)
                       for d in data.get(tag, ()))
        out.append(reading.Series(tag, bytes(ts.plugin_content or b""), points))
    return out


def _summarise(run: str, tags: Mapping[str, Any], analysis: _Analysis) -> RunSummary:
    counts, worst = report.severity_counts(analysis.findings)
    return RunSummary(
        run=run,
        group=report.group_of(run),
        last_step=max(int(ts.max_step) for ts in tags.values()),
        last_wall_time=max(float(ts.max_wall_time) for ts in tags.values()),
        kinds=tuple(sorted(analysis.records)),
        counts=counts,
        worst=worst,
        n_warnings=len(analysis.warnings),
        row=report.compare_row(run, analysis.records, analysis.findings),
    )


def _requested_runs(args) -> list[str] | None:
    """Run names of a ``/compare`` request, in order, without duplicates.

    ``runs=R1,R2`` (comma-separated) and repeated ``run=R`` (exact names)
    combine; neither given means all runs (``None``).
    """
    names: list[str] = []
    given = False
    for value in args.getlist("runs"):
        given = True
        names.extend(part for part in value.split(",") if part)
    for value in args.getlist("run"):
        given = True
        if value:
            names.append(value)
    if not given:
        return None
    if not names:
        raise _BadRequest(400, "query parameter 'runs' names no run")
    if len(names) > MAX_COMPARE_RUNS:
        raise _BadRequest(400, f"at most {MAX_COMPARE_RUNS} runs per request")
    if any(len(n) > _MAX_RUN_NAME for n in names):
        raise _BadRequest(400, "a run name in 'runs' is too long")
    return list(dict.fromkeys(names))


def resolve_static(name: str) -> Path | None:
    """The file under ``STATIC_DIR`` that ``name`` names, or ``None``.

    Refuses (``None``) anything that could leave the directory or reach
    something else than a plain bundled file: empty names, absolute paths,
    ``..`` components, backslashes, NUL bytes, hidden files, extensions
    without a fixed content type, and symlinks pointing outside.
    """
    if not isinstance(name, str) or not name or len(name) > 512:
        return None
    if "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    candidate = STATIC_DIR.joinpath(*parts)
    if candidate.suffix not in CONTENT_TYPES:
        return None
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if STATIC_DIR.resolve() not in resolved.parents or not resolved.is_file():
        return None
    return resolved


def _json_error(request, code: int, message: str):
    return http_util.Respond(request, {"error": message}, "application/json", code=code)

"""The one reader: event data in, records out, unreadable records kept as errors.

Every reader of the project goes through :func:`decode_series`: the plugin
hands it the series TensorBoard's data provider returns, and
:func:`read_records` / :class:`RunReader` hand it the series they read from
a run's event files (the CLI, the demo, the callback's console). So the tab,
the CLI and the console see the same records and the same unreadable ones,
and :func:`tb_nndebug.diagnosis.diagnose` turns the latter into
``record.unsupported`` findings everywhere.

Paths go through TensorFlow's file system layer (``tf.io.gfile``), so a
``gs://`` or ``ram://`` URL stays a URL.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import contract

#: The key of :func:`Decoded.for_diagnosis` that lists unreadable records.
ERRORS_KEY = "_errors"


@dataclass(frozen=True)
class Point:
    """One stored value of a record series, as the data provider returns it."""

    step: int
    wall_time: float
    #: the tensor value (numpy array of bytes, bytes or str), or the document a reader
    #: already decoded (a dict), or the RecordError it met decoding it
    value: Any


@dataclass(frozen=True)
class Series:
    """All stored values of one record tag of one run."""

    tag: str
    plugin_content: bytes
    points: Sequence[Point] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decoded:
    """The records of one run and the ones that could not be read.

    Attributes
    ----------
    records : dict
        kind -> list (sorted by tag) of ``{"tag", "step", "wall_time",
        "value"}`` for the latest readable step of each tag, plus
        ``"history": [{"step", "value"}, ...]`` (ascending steps) when the
        tag has more than one readable step.
    errors : list of dict
        ``{"run", "tag", "kind", "step", "error"}`` for each series (``step``
        None) or point skipped: plugin content or document not readable, a
        version newer than this reader, a document whose kind disagrees
        with its series.
    """

    records: dict
    errors: list

    def for_diagnosis(self) -> dict:
        """``records`` with the errors under ``"_errors"``, as ``diagnose`` takes them."""
        return dict(self.records, **{ERRORS_KEY: list(self.errors)}) if self.errors \
            else dict(self.records)

    @property
    def warnings(self) -> list[str]:
        """One line per error, for the report's ``warnings``."""
        return [warning_text(e) for e in self.errors]


def _decode(value) -> dict:
    """One record document from a tensor value (raises RecordError)."""
    if isinstance(value, contract.RecordError):
        raise value
    if isinstance(value, dict):
        return value
    try:
        return contract.decode_record(value)
    except contract.RecordError:
        raise
    except Exception as exc:  # noqa: BLE001 - deep nesting, huge integers: one bad record
        raise contract.RecordError(f"record cannot be decoded: {type(exc).__name__}: "
                                   f"{str(exc)[:200]}") from None


def _decode_point(point: Point, kind: str) -> dict:
    doc = _decode(point.value)
    if doc.get("kind") != kind:
        raise contract.RecordError(
            f"document kind {doc.get('kind')!r} differs from the series kind {kind!r}")
    return doc


def decode_series(series: Iterable[Series], *, run: str | None = None) -> Decoded:
    """Decode one run's record series (any order) into :class:`Decoded`."""
    records: dict[str, list] = {}
    errors: list[dict] = []
    for s in sorted(series, key=lambda s: s.tag):
        try:
            kind = contract.parse_plugin_content(s.plugin_content)["kind"]
        except Exception as exc:  # noqa: BLE001 - RecordError and anything odder
            errors.append({"run": run, "tag": s.tag, "kind": None, "step": None,
                           "error": str(exc)})
            continue
        good: dict[int, tuple[Point, dict]] = {}
        for point in s.points:
            try:
                good[int(point.step)] = (point, _decode_point(point, kind))  # later ones win
            except contract.RecordError as exc:
                errors.append({"run": run, "tag": s.tag, "kind": kind, "step": int(point.step),
                               "error": str(exc)})
        if not good:
            continue
        steps = sorted(good)
        last_point, last_doc = good[steps[-1]]
        entry = {"tag": s.tag, "step": int(last_point.step),
                 "wall_time": float(last_point.wall_time), "value": last_doc}
        if len(steps) > 1:
            entry["history"] = [{"step": st, "value": good[st][1]} for st in steps]
        records.setdefault(kind, []).append(entry)
    return Decoded(records, errors)


def warning_text(error: Mapping) -> str:
    """One line for the report's ``warnings`` from a :class:`Decoded` error."""
    where = f" at step {error['step']}" if error.get("step") is not None else ""
    return f"skipped tag {error.get('tag')}{where}: {error.get('error')}"


class RunReader:
    """Reads a run directory's event files incrementally.

    Each :meth:`read` loads only the events appended since the last one (a
    TensorBoard ``EventFileLoader`` per file), so a callback can read its
    own run back every epoch at the cost of that epoch's events.

    Parameters
    ----------
    run_dir : str or path-like
        The directory a ``tf.summary`` writer (or ``DebuggerCallback``)
        wrote to; a local path or a URL ``tf.io.gfile`` understands.
    """

    def __init__(self, run_dir):
        import os

        self.run_dir = os.fspath(run_dir)
        self._loaders: dict[str, Any] = {}
        self._content: dict[str, bytes] = {}
        self._points: dict[str, list[Point]] = {}

    def _event_files(self) -> list[str]:
        import tensorflow as tf

        if not tf.io.gfile.isdir(self.run_dir):
            raise ValueError(f"run_dir must be an existing directory, got {self.run_dir!r}")
        return sorted(tf.io.gfile.join(self.run_dir, name)
                      for name in tf.io.gfile.listdir(self.run_dir)
                      if "tfevents" in name and not tf.io.gfile.isdir(
                          tf.io.gfile.join(self.run_dir, name)))

    def _load(self, path: str) -> None:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        loader = self._loaders.get(path)
        if loader is None:
            # reopen a file that grew: at EOF the record iterator sees no new data
            loader = self._loaders[path] = EventFileLoader(path, detect_file_replacement=True)
        for event in loader.Load():
            if event.HasField("summary"):
                for value in event.summary.value:
                    self._take(event, value)

    def _take(self, event, value) -> None:
        plugin = value.metadata.plugin_data if value.HasField("metadata") else None
        if plugin is not None and plugin.plugin_name:
            if plugin.plugin_name != contract.PLUGIN_NAME:
                return
            self._content.setdefault(value.tag, bytes(plugin.content))
            self._points.setdefault(value.tag, [])
        if value.tag not in self._content or not value.HasField("tensor"):
            return
        from tensorboard.util import tensor_util

        try:
            data = tensor_util.make_ndarray(value.tensor)
        except Exception:  # noqa: BLE001 - a broken tensor is that point's error
            data = None
        try:  # decoded once here, not at every read: a callback reads its run every epoch
            data = _decode(data)
        except contract.RecordError as exc:
            data = exc
        self._points[value.tag].append(Point(int(event.step), float(event.wall_time), data))

    def series(self) -> list[Series]:
        """Every ``nndebug`` series read so far, after loading what is new."""
        for path in self._event_files():
            self._load(path)
        return [Series(tag, self._content[tag], tuple(self._points[tag]))
                for tag in sorted(self._content)]

    def read(self, *, run: str | None = None) -> Decoded:
        """The run's records and unreadable records, as of now."""
        return decode_series(self.series(), run=run)


def read_records(run_dir) -> dict:
    """All ``nndebug`` records in the event files directly inside ``run_dir``.

    Parameters
    ----------
    run_dir : str or path-like
        A run directory (the one a ``tf.summary`` writer or
        ``DebuggerCallback`` wrote to), not a whole logdir; a local path or
        a URL (``gs://``, ``ram://``).

    Returns
    -------
    dict
        kind -> list of ``{"tag", "step", "wall_time", "value"}`` (the latest
        step of each tag), with ``"history": [{"step", "value"}, ...]`` when
        the tag has more than one step — the ``records`` object of ``GET
        /report``. Records that cannot be read (too new, malformed) are
        listed under ``"_errors"``, so ``diagnose(read_records(d))`` reports
        them as ``record.unsupported``, as the tab does.

    Raises
    ------
    ValueError
        If ``run_dir`` is not a directory.
    """
    return RunReader(run_dir).read(run=None).for_diagnosis()


def find_runs(logdir) -> list[str]:
    """Every directory under ``logdir`` (itself included) holding ``nndebug`` records."""
    import os

    import tensorflow as tf

    root = os.fspath(logdir)
    if not tf.io.gfile.isdir(root):
        raise ValueError(f"logdir must be an existing directory, got {root!r}")
    out = []
    for dirpath, _, files in tf.io.gfile.walk(root):
        if any("tfevents" in f for f in files) and RunReader(dirpath).series():
            out.append(dirpath)
    return sorted(out)

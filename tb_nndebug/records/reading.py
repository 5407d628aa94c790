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

from . import contract, sessions

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
        tag has more than one readable step. Only the chosen session's
        records (and those without a session) are kept; in the history of a
        ``training`` tag, only the latest document keeps its loss history
        (``history``, ``history_epochs``): each one repeats the earlier ones.
    errors : list of dict
        ``{"run", "tag", "kind", "step", "error"}`` for each series (``step``
        None) or point skipped: plugin content or document not readable, a
        version newer than this reader, a document whose kind disagrees
        with its series.
    sessions : dict
        session id -> summary (see :func:`tb_nndebug.records.sessions.summarise`)
        of every session seen, the chosen one included.
    session : str or None
        The session kept: the newest, or the one asked for.
    """

    records: dict
    errors: list
    sessions: dict = field(default_factory=dict)
    session: str | None = None

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


def decode_series(series: Iterable[Series], *, run: str | None = None,
                  session: str | None = None) -> Decoded:
    """Decode one run's record series (any order) into :class:`Decoded`.

    Keeps the records of one session (``session``, default the newest; see
    :mod:`tb_nndebug.records.sessions`) and those that carry none.
    """
    errors: list[dict] = []
    decoded: list[tuple[Series, str, list[tuple[Point, dict]]]] = []
    for s in sorted(series, key=lambda s: s.tag):
        try:
            kind = contract.parse_plugin_content(s.plugin_content)["kind"]
        except Exception as exc:  # noqa: BLE001 - RecordError and anything odder
            errors.append({"run": run, "tag": s.tag, "kind": None, "step": None,
                           "error": str(exc)})
            continue
        good: list[tuple[Point, dict]] = []
        for point in s.points:
            try:
                good.append((point, _decode_point(point, kind)))
            except contract.RecordError as exc:
                errors.append({"run": run, "tag": s.tag, "kind": kind, "step": int(point.step),
                               "error": str(exc)})
        decoded.append((s, kind, good))
    seen = sessions.summarise((p.step, p.wall_time, doc) for _, _, good in decoded
                              for p, doc in good)
    keep = session if session is not None else sessions.newest(seen)
    records: dict[str, list] = {}
    for s, kind, good in decoded:
        # a step written twice within the session: the later write wins
        mine = {int(p.step): (p, doc) for p, doc in good
                if sessions.session_id(doc) in (None, keep)}
        if mine:
            records.setdefault(kind, []).append(_entry(s.tag, kind, mine))
    return Decoded(records, errors, seen, keep)


def _entry(tag: str, kind: str, good: Mapping[int, tuple[Point, dict]]) -> dict:
    steps = sorted(good)
    last_point, last_doc = good[steps[-1]]
    entry = {"tag": tag, "step": int(last_point.step),
             "wall_time": float(last_point.wall_time), "value": last_doc}
    if len(steps) > 1:
        entry["history"] = [{"step": st, "value": good[st][1] if st == steps[-1] or
                             kind != contract.KIND_TRAINING else _without_history(good[st][1])}
                            for st in steps]
    return entry


def _without_history(doc: dict) -> dict:
    """A training document without the loss history every later one repeats."""
    if "history" not in doc and "history_epochs" not in doc:
        return doc
    return {k: v for k, v in doc.items() if k not in ("history", "history_epochs")}


def warning_text(error: Mapping) -> str:
    """One line for the report's ``warnings`` from a :class:`Decoded` error."""
    if error.get("tag") is None:
        return f"skipped: {error.get('error')}"
    where = f" at step {error['step']}" if error.get("step") is not None else ""
    return f"skipped tag {error.get('tag')}{where}: {error.get('error')}"


def truncation(path: str, start: int = 0) -> tuple[int, str | None]:
    """Walk the TFRecord framing of an event file from byte ``start``: ``(offset of the
    last whole record's end, why the rest is not whole or None)``. Each record is an 8-byte
    length, a 4-byte CRC, the data and a 4-byte CRC; only the lengths are read."""
    import struct

    import tensorflow as tf

    size = tf.io.gfile.stat(path).length
    offset = start
    with tf.io.gfile.GFile(path, "rb") as f:
        while offset < size:
            if size - offset < 12:
                break
            f.seek(offset)
            (length,) = struct.unpack("<Q", f.read(8))
            if offset + 16 + length > size:
                break
            offset += 16 + length
    if offset == size:
        return offset, None
    return offset, (f"event file {path.rsplit('/', 1)[-1]} is truncated: the record at byte "
                    f"{offset:,} of {size:,} is cut short, so anything written after it is "
                    "lost (a copy cut short, a full disk, or a writer killed mid-write)")


_FRAMING: dict[str, tuple[int, int, str | None]] = {}


def truncated_files(run_dir) -> list[str]:
    """Why each event file directly in ``run_dir`` is cut short (empty: none is, or the
    directory cannot be listed). Remembers each file's checked size, so asking again after a
    file grew walks only what is new."""
    import os

    import tensorflow as tf

    out = []
    try:
        root = os.fspath(run_dir)
        names = [n for n in tf.io.gfile.listdir(root) if "tfevents" in n]
        for name in sorted(names):
            path = tf.io.gfile.join(root, name)
            size = tf.io.gfile.stat(path).length
            seen = _FRAMING.get(path)
            if seen is not None and seen[0] == size:
                why = seen[2]
            else:
                start = seen[1] if seen is not None and seen[0] < size else 0
                ok, why = truncation(path, start)
                _FRAMING[path] = (size, ok, why)
            if why:
                out.append(why)
    except Exception:  # noqa: BLE001 - unreadable directory: nothing to say here
        return out
    return out


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
    latest_only : bool, default=False
        Keep only the latest point of each tag and session (what the
        diagnosis reads): a reader that follows a run of 10,000 epochs holds
        a few documents, not 10,000, and each read costs the same.
    """

    def __init__(self, run_dir, *, latest_only: bool = False):
        import os

        self.run_dir = os.fspath(run_dir)
        self.latest_only = bool(latest_only)
        self._loaders: dict[str, Any] = {}
        self._content: dict[str, bytes] = {}
        self._points: dict[str, list[Point]] = {}
        self._last: dict[tuple, int] = {}
        self._framed: dict[str, int] = {}
        self._truncated: dict[str, str] = {}

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
        points = self._points[value.tag]
        point = Point(int(event.step), float(event.wall_time), data)
        key = (value.tag, sessions.session_id(data) if isinstance(data, dict) else None)
        prev = self._last.get(key)
        if prev is not None and self.latest_only and point.step >= points[prev].step:
            points[prev] = point
            return
        if prev is not None and isinstance(points[prev].value, dict) \
                and "history_epochs" in points[prev].value:
            # only a tag's latest training document needs its loss history (each repeats
            # the earlier ones): keep a long run's reader linear in its epochs
            old = points[prev]
            points[prev] = Point(old.step, old.wall_time, _without_history(old.value))
        self._last[key] = len(points)
        points.append(point)

    def series(self) -> list[Series]:
        """Every ``nndebug`` series read so far, after loading what is new."""
        for path in self._event_files():
            self._load(path)
            self._check_framing(path)
        return [Series(tag, self._content[tag], tuple(self._points[tag]))
                for tag in sorted(self._content)]

    def _check_framing(self, path: str) -> None:
        """Note an event file whose last record is cut short (checked from where the last
        check ended, so a file read every epoch is walked once)."""
        ok, why = truncation(path, self._framed.get(path, 0))
        self._framed[path] = ok
        if why is None:
            self._truncated.pop(path, None)
        else:
            self._truncated[path] = why

    def read(self, *, run: str | None = None, session: str | None = None) -> Decoded:
        """The run's records and unreadable records, as of now (``session``: that
        session's instead of the newest's). A truncated event file is one error."""
        d = decode_series(self.series(), run=run, session=session)
        if not self._truncated:
            return d
        cut = [{"run": run, "tag": None, "kind": None, "step": None, "error": why}
               for why in self._truncated.values()]
        return Decoded(d.records, d.errors + cut, d.sessions, d.session)


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

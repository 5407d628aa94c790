"""Read the records of one run back from its event files, without TensorBoard.

The CLI and the demo runner diagnose what they have just written; they read
the event files directly (the plugin reads through TensorBoard's data
provider instead). The result has the shape of the ``records`` object of
``GET /report`` (see ``docs/data-contract.md``), so
:func:`tb_nndebug.diagnosis.diagnose` takes it as is.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import metadata


def _event_files(run_dir: Path):
    return sorted(
        p for p in run_dir.iterdir() if p.is_file() and "tfevents" in p.name
    )


def read_records(run_dir) -> dict:
    """All ``nndebug`` records in the event files directly inside ``run_dir``.

    Parameters
    ----------
    run_dir : str or path-like
        A run directory (the one a ``tf.summary`` writer or
        ``DebuggerCallback`` wrote to), not a whole logdir.

    Returns
    -------
    dict
        kind -> list of ``{"tag", "step", "wall_time", "value"}`` (the latest
        step of each tag), with ``"history": [{"step", "value"}, ...]`` when
        the tag has more than one step. Records that cannot be read (too new,
        malformed) are skipped.

    Raises
    ------
    ValueError
        If ``run_dir`` is not a directory.
    """
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    run_dir = Path(os.fspath(run_dir))
    if not run_dir.is_dir():
        raise ValueError(f"run_dir must be an existing directory, got {str(run_dir)!r}")
    kinds_by_tag: dict[str, str] = {}
    by_tag: dict[str, dict[int, dict]] = {}
    for path in _event_files(run_dir):
        for event in EventFileLoader(str(path)).Load():
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
                    if value.metadata.plugin_data.plugin_name != metadata.PLUGIN_NAME:
                        continue
                    try:
                        meta = metadata.parse_plugin_content(
                            value.metadata.plugin_data.content
                        )
                    except metadata.RecordError:
                        continue
                    kinds_by_tag[value.tag] = meta["kind"]
                if value.tag not in kinds_by_tag or not value.HasField("tensor"):
                    continue
                try:
                    doc = metadata.decode_record(tensor_util.make_ndarray(value.tensor))
                except (metadata.RecordError, ValueError, TypeError):
                    continue
                by_tag.setdefault(value.tag, {})[int(event.step)] = {
                    "step": int(event.step),
                    "wall_time": float(event.wall_time),
                    "value": doc,
                }
    records: dict[str, list] = {}
    for tag in sorted(by_tag):
        steps = by_tag[tag]
        latest = steps[max(steps)]
        entry = {"tag": tag, **latest}
        if len(steps) > 1:
            entry["history"] = [
                {"step": s, "value": steps[s]["value"]} for s in sorted(steps)
            ]
        records.setdefault(kinds_by_tag[tag], []).append(entry)
    return records

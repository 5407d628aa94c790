"""Writing API: one function per record, with ``tf.summary``'s conventions.

Each function takes ``name``, the data, ``step=None`` (falls back to
``tf.summary.experimental.get_step()``) and ``description=None``, writes to
the default summary writer (``with writer.as_default(): ...``), and returns
``True`` if written, ``False`` if no default writer is set — as
``tf.summary.scalar`` does.
"""
from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from . import metadata


def write_record(kind: str, name: str, document: Mapping[str, Any], step=None,
                 description: str | None = None) -> bool:
    """Write one record document of ``kind`` under tag ``name``.

    The low-level writer every record function goes through; see
    ``docs/data-contract.md`` for the document of each kind.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    payload = metadata.encode_record(kind, document)
    md = metadata.create_summary_metadata(kind, description)
    with tf.summary.experimental.summary_scope(name, "nndebug_record", values=[]) as (tag, _):
        return tf.summary.write(
            tag=tag,
            tensor=tf.constant([payload], dtype=tf.string),
            step=step,
            metadata=md,
        )


# --- dataset / model / balance / checks / training / run_info records (issue 3) ---


# --- resampling records (issue 4) ---


# --- robustness records (issue 5) ---

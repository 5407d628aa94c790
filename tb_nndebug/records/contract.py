"""The data contract between the writers (summary, callback) and the plugin.

Every record is a tensor summary of the plugin ``nndebug``: a rank-1 string
tensor holding one JSON document, written with ``DATA_CLASS_TENSOR`` (without
it TensorBoard's Rust data server drops the series). The summary metadata's
``plugin_data.content`` is a small JSON document ``{"kind": ..., "version":
...}`` naming what the record holds, so a reader knows the kind of a series
from its metadata alone. The JSON shapes of each kind are written out in
``docs/data-contract.md``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from tensorboard.compat.proto import summary_pb2

from .._values import to_jsonable

__all__ = ["CONTENT_VERSION", "KINDS", "KIND_BALANCE", "KIND_CHECKS", "KIND_DATASET",
           "KIND_DIAGNOSTIC_ERROR", "KIND_MODEL", "KIND_RESAMPLING", "KIND_ROBUSTNESS",
           "KIND_RUN_INFO", "KIND_TRAINING", "PLUGIN_NAME", "SCALAR_PREFIX", "RecordError",
           "create_summary_metadata", "decode_record", "encode_record", "parse_plugin_content"]

PLUGIN_NAME = "nndebug"

#: Version of the record documents this release writes. Readers accept any
#: version up to this one and report newer ones instead of guessing.
CONTENT_VERSION = 1

#: Record kinds, one tag each (the Rust data server keeps one value per tag
#: and step). ``name`` in the writing API becomes the tag; the kind travels in
#: the metadata.
KIND_DATASET = "dataset"          # complexity + CSG + balance (+ projection)
KIND_MODEL = "model"              # capacity table
KIND_BALANCE = "balance"          # class counts on their own
KIND_CHECKS = "checks"            # static checks done once at train begin
KIND_TRAINING = "training"        # per-epoch training signals
KIND_RESAMPLING = "resampling"    # counts before/after, trials
KIND_ROBUSTNESS = "robustness"    # minimal eps, pixel counts, RA curve
KIND_RUN_INFO = "run_info"        # free-form facts about the run (sweep level, ...)
KIND_DIAGNOSTIC_ERROR = "diagnostic_error"  # a diagnostic that raised

KINDS = (
    KIND_DATASET,
    KIND_MODEL,
    KIND_BALANCE,
    KIND_CHECKS,
    KIND_TRAINING,
    KIND_RESAMPLING,
    KIND_ROBUSTNESS,
    KIND_RUN_INFO,
    KIND_DIAGNOSTIC_ERROR,
)

#: Prefix of the float32 scalars mirrored into the Scalars tab.
SCALAR_PREFIX = "nndebug/"


class RecordError(ValueError):
    """A record or its metadata cannot be read (malformed or too new)."""


def create_summary_metadata(kind: str, description: str | None = None):
    """Build the ``SummaryMetadata`` for one record of ``kind``.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    description : str, optional
        Markdown shown by TensorBoard beside the series.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    content = json.dumps({"kind": kind, "version": CONTENT_VERSION}).encode("utf-8")
    return summary_pb2.SummaryMetadata(
        summary_description=description or "",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content
        ),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )


def _json_object(data, what: str) -> dict:
    """``data`` (UTF-8 bytes) as a JSON object, else :class:`RecordError` naming ``what``.

    Deep nesting (``RecursionError``) and integers past Python's digit limit
    (``ValueError``) are errors of the record too, not of the reader.
    """
    try:
        # NaN / Infinity literals (not JSON, but Python's json accepts them) read as null,
        # as the contract says; TensorBoard's responder would turn them into strings
        obj = json.loads(bytes(data).decode("utf-8"), parse_constant=lambda _: None)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecordError(f"{what} is not valid JSON: {type(exc).__name__}: "
                          f"{str(exc)[:200]}") from None
    if not isinstance(obj, dict):
        raise RecordError(f"{what} is not a JSON object")
    return obj


def parse_plugin_content(content: bytes) -> dict:
    """Read ``{"kind", "version"}`` from a series' plugin content.

    Raises
    ------
    RecordError
        If the content is not JSON, names no known kind, or is of a version
        newer than this reader understands.
    """
    meta = _json_object(content, "plugin content")
    kind, version = meta.get("kind"), meta.get("version")
    if kind not in KINDS:
        raise RecordError(f"unknown record kind {kind!r}")
    if not isinstance(version, int) or version < 1:
        raise RecordError(f"record version {version!r} is not a positive integer")
    if version > CONTENT_VERSION:
        raise RecordError(
            f"record version {version} is newer than this reader ({CONTENT_VERSION}); "
            "upgrade tb_nndebug"
        )
    return {"kind": kind, "version": version}


def encode_record(kind: str, value: Mapping[str, Any]) -> bytes:
    """Serialise one record document (a mapping) to UTF-8 JSON bytes."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(value, Mapping):
        raise TypeError(f"value must be a mapping, got {type(value).__name__}")
    doc = dict(to_jsonable(value))
    doc["kind"] = kind
    doc["version"] = CONTENT_VERSION
    return json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")


def decode_record(data: Any) -> dict:
    """Read one record document back from what a data provider returns.

    ``data`` may be bytes, str, or a numpy array of either (rank 0 or 1; the
    first element is the document).

    Raises
    ------
    RecordError
        Malformed JSON, not an object, unknown kind, or a version too new.
    """
    if hasattr(data, "tolist"):
        data = data.tolist()
    if isinstance(data, list):
        if not data:
            raise RecordError("empty record tensor")
        data = data[0]
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise RecordError(f"record is {type(data).__name__}, not text")
    doc = _json_object(data, "record")
    parse_plugin_content(
        json.dumps({"kind": doc.get("kind"), "version": doc.get("version")}).encode()
    )
    return doc

"""The one reader (``tb_nndebug.records.reading``): series in, records and unreadable ones out."""
from __future__ import annotations

import json

import numpy as np

from tb_nndebug import metadata
from tb_nndebug.records.reading import Point, Series, decode_series, warning_text


def content(kind, version=1):
    return json.dumps({"kind": kind, "version": version}).encode()


def tensor(kind, doc):
    return np.array([metadata.encode_record(kind, doc)], dtype=object)


def test_decode_series_keeps_latest_step_per_tag_and_history_in_step_order():
    pts = [Point(step, 100.0 + step, tensor("training", {"epoch": step})) for step in (2, 0, 1)]
    decoded = decode_series([
        Series("training", content("training"), pts),
        Series("val", content("dataset"), [Point(0, 1.0, tensor("dataset", {"name": "val"}))]),
        Series("train", content("dataset"), [Point(0, 1.0, tensor("dataset", {"name": "t"}))]),
    ])
    records, errors = decoded.records, decoded.errors
    assert errors == []
    (training,) = records["training"]
    assert training["step"] == 2 and training["wall_time"] == 102.0
    assert training["value"]["epoch"] == 2
    assert [h["step"] for h in training["history"]] == [0, 1, 2]
    assert [e["tag"] for e in records["dataset"]] == ["train", "val"]
    assert all("history" not in e for e in records["dataset"])


def test_decode_series_reports_unreadable_points_and_keeps_the_readable_ones():
    decoded = decode_series([
        Series("training", content("training"), [
            Point(0, 1.0, tensor("training", {"epoch": 0})),
            Point(1, 2.0, np.array([b"{broken"], dtype=object)),
            Point(2, 3.0, tensor("model", {"bits": 1})),  # kind differs from the series
        ]),
        Series("future", content("model", version=metadata.CONTENT_VERSION + 1), [
            Point(0, 1.0, tensor("model", {"bits": 1}))]),
        Series("garbage", b"\x00\xff", []),
    ], run="r")
    records, errors = decoded.records, decoded.errors
    assert records["training"][0]["step"] == 0 and "history" not in records["training"][0]
    assert "model" not in records
    by_tag = {(e["tag"], e["step"]): e for e in errors}
    assert set(by_tag) == {("training", 1), ("training", 2), ("future", None), ("garbage", None)}
    assert "newer" in by_tag[("future", None)]["error"]
    assert warning_text(by_tag[("training", 1)]).startswith("skipped tag training at step 1:")
    assert all(e["run"] == "r" for e in errors)
    assert decoded.for_diagnosis()["_errors"] == errors


def test_a_record_nested_too_deep_or_with_a_huge_integer_is_one_error_not_a_crash():
    deep = ("[" * 3000 + "]" * 3000).encode()
    huge = b'{"kind": "model", "version": 1, "bits": ' + b"9" * 5000 + b"}"
    decoded = decode_series([
        Series("model", content("model"), [Point(0, 1.0, np.array([deep], dtype=object)),
                                           Point(1, 2.0, np.array([huge], dtype=object)),
                                           Point(2, 3.0, tensor("model", {"bits": 7}))]),
    ])
    assert decoded.records["model"][0]["value"]["bits"] == 7
    assert [e["step"] for e in decoded.errors] == [0, 1]


def test_nan_and_infinity_literals_in_a_record_read_as_null():
    payload = b'{"kind": "run_info", "version": 1, "lr": NaN, "arch": Infinity, "m": -Infinity}'
    decoded = decode_series([Series("info", content("run_info"),
                                    [Point(0, 1.0, np.array([payload], dtype=object))])])
    value = decoded.records["run_info"][0]["value"]
    assert (value["lr"], value["arch"], value["m"]) == (None, None, None)
    assert decoded.errors == []

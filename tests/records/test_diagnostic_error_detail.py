"""A diagnostic error's record keeps the message in ``error`` (one line, at most 300
characters) and the rest — further lines, a graph's node trace, the traceback — in
``detail`` (at most 8,192 characters), issue #15 defect 8."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tb_nndebug import summary
from tb_nndebug.records.documents import MAX_DETAIL_CHARS, MAX_ERROR_CHARS
from tb_nndebug.records.reading import read_records

doc_of = summary.diagnostic_error_document


class TrainOnly(keras.layers.Layer):
    def call(self, x, training=None):
        if training is False:
            raise RuntimeError("this layer has no inference mode")
        return x


def test_a_multi_line_error_keeps_its_first_line_and_puts_the_rest_in_detail():
    text = 'ValueError: shapes differ\n  File "/home/me/project/train.py", line 3\n    x = y'
    doc = doc_of("gradients", text, epoch=2,
                 errors=[("dead_units", "RuntimeError: one line", 2)])
    assert doc["error"] == "ValueError: shapes differ"
    assert doc["detail"] == '  File "/home/me/project/train.py", line 3\n    x = y'
    first, second = doc["errors"]
    assert first == {"diagnostic": "gradients", "error": "ValueError: shapes differ", "epoch": 2,
                     "detail": doc["detail"]}
    assert second == {"diagnostic": "dead_units", "error": "RuntimeError: one line", "epoch": 2}


def test_a_one_line_error_has_no_detail():
    doc = doc_of("dead_units", ValueError("no ReLU"), epoch=1)
    assert doc == {"diagnostic": "dead_units", "error": "ValueError: no ReLU", "epoch": 1,
                   "errors": [{"diagnostic": "dead_units", "error": "ValueError: no ReLU",
                               "epoch": 1}]}


def test_a_long_first_line_is_cut_and_kept_whole_in_detail():
    text = "ValueError: " + "x" * 1000
    doc = doc_of("d", text)
    assert len(doc["error"]) == MAX_ERROR_CHARS and doc["error"].endswith("…")
    assert doc["detail"] == text


def test_a_huge_detail_is_capped_keeping_both_ends():
    text = "ValueError: boom\nFIRST FRAME\n" + "frame\n" * 10_000 + "LAST FRAME"
    detail = doc_of("d", text)["detail"]
    assert len(detail) <= MAX_DETAIL_CHARS
    assert detail.startswith("FIRST FRAME") and detail.endswith("LAST FRAME")
    assert "characters cut" in detail


def test_a_raised_exception_brings_its_traceback_into_detail_not_into_error():
    try:
        raise ValueError("bad shape")
    except ValueError as exc:
        doc = doc_of("d", exc)
    assert doc["error"] == "ValueError: bad shape"
    assert doc["detail"].startswith("Traceback (most recent call last):")
    assert "test_diagnostic_error_detail.py" in doc["detail"]


def test_keras_call_wrapper_gives_the_wrapped_message_without_colour_codes():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), TrainOnly()])
    with pytest.raises(RuntimeError) as info:
        model(np.zeros((2, 4), "float32"), training=False)
    doc = doc_of("inference_determinism", f"{type(info.value).__name__}: {info.value}")
    assert doc["error"] == "RuntimeError: this layer has no inference mode (in TrainOnly.call())"
    assert "Arguments received by TrainOnly.call()" in doc["detail"]
    assert "\x1b[" not in doc["error"] + doc["detail"]


def test_a_graph_execution_error_gives_the_op_message_and_keeps_the_node_trace_in_detail():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Embedding(5, 3),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        model.fit(np.full((4, 2), 10), np.zeros(4), verbose=0)
    text = f"{type(info.value).__name__}: {info.value}"
    assert text.startswith("InvalidArgumentError: Graph execution error:")
    doc = doc_of("gradients", text)
    assert doc["error"].startswith("InvalidArgumentError: indices[0,0] = 10 is not in [0, 5)")
    assert "\n" not in doc["error"] and "File " not in doc["error"]
    assert "Detected at node" in doc["detail"] and 'File "' in doc["detail"]


def test_the_detail_is_written_and_read_back_with_the_record(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert summary.diagnostic_error("d", "ValueError: boom\nline two", epoch=0, step=0)
    (entry,) = read_records(tmp_path)["diagnostic_error"]
    assert entry["value"]["error"] == "ValueError: boom"
    assert entry["value"]["detail"] == "line two"
    assert entry["value"]["errors"][0]["detail"] == "line two"

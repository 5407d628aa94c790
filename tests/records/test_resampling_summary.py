"""summary.resampling: the record, scalars and pictures survive TensorBoard's data provider."""
from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from matplotlib import image as mpimg
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

from tb_nndebug import metadata, summary
from tb_nndebug.datasets import load_creditcard, load_mnist_test
from tb_nndebug.resampling import CapacityGuidedResampler, resample


def _provider(logdir):
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    return data_provider.MultiplexerDataProvider(mux, str(logdir))


def _write(logdir, fn):
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        result = fn()
    writer.close()
    return result


@pytest.fixture(scope="module")
def creditcard():
    X, y, _ = load_creditcard()
    return X, y


def test_capacity_guided_record_round_trip(tmp_path, creditcard):
    X, y = creditcard
    r = CapacityGuidedResampler(n_trials=3, random_state=0)
    X_res, y_res = r.fit_resample(X, y)
    assert _write(tmp_path, lambda: summary.resampling(
        "resampling", X, y, X_res, y_res, resampler=r, step=2)) is True

    ctx = context.RequestContext()
    p = _provider(tmp_path)
    tensors = p.read_tensors(ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME,
                             downsample=10)
    (run,) = tensors
    (datum,) = tensors[run]["resampling"]
    assert datum.step == 2
    doc = metadata.decode_record(datum.numpy)
    assert doc["kind"] == "resampling" and doc["version"] == metadata.CONTENT_VERSION
    assert doc["method"] == "capacity_guided(smote)"
    assert doc["before"] == {"0": 4920, "1": 492}
    assert doc["after"] == {"0": 4920, "1": 4920}
    assert doc["n_synthetic"] == 4428 and doc["n_removed"] == 0
    assert doc["chosen"] == r.chosen_
    assert [t["expected_bits"] for t in doc["trials"]] == [t.expected_bits for t in r.trials_]
    assert [t["seed"] for t in doc["trials"]] == [t.seed for t in r.trials_]
    assert doc["trials"][0]["counts"] == {"0": 4920, "1": 4920}
    assert doc["expected_bits_after"] == r.best_expected_bits_
    assert doc["expected_bits_before"] == r.input_expected_bits_
    pts = np.array(doc["projection"]["points"], dtype=float)
    assert pts.shape == (1000, 4)
    # synthetic points are marked, and all of them are fraud (class index 1)
    assert pts[:, 3].any() and (pts[pts[:, 3] == 1, 2] == 1).all()
    assert np.array(doc["projection_before"]["points"]).shape == (1000, 3)

    scalars = p.read_scalars(ctx, experiment_id="", plugin_name="scalars", downsample=10)[run]
    assert scalars["nndebug/resampling/n_synthetic"][0].value == 4428.0
    assert scalars["nndebug/resampling/expected_bits_after"][0].value == float(
        r.best_expected_bits_)

    blobs = p.read_blob_sequences(ctx, experiment_id="", plugin_name="images",
                                  downsample=10)[run]
    assert set(blobs) == {"nndebug/resampling/class_counts", "nndebug/resampling/projection"}
    (seq,) = blobs["nndebug/resampling/projection"]
    width, height, png_ref = seq.values
    png = p.read_blob(ctx, blob_key=png_ref.blob_key)
    picture = mpimg.imread(io.BytesIO(png), format="png")
    assert picture.shape[:2] == (int(p.read_blob(ctx, blob_key=height.blob_key)),
                                 int(p.read_blob(ctx, blob_key=width.blob_key)))
    assert picture.shape[1] > picture.shape[0]  # before | after, side by side


def test_tomek_record_counts_removed_samples_without_synthetic(tmp_path, creditcard):
    X, y = creditcard
    X_res, y_res = resample(X, y, "tomek")
    _write(tmp_path, lambda: summary.resampling("tomek", X, y, X_res, y_res,
                                                method="tomek", step=0, images=False))
    p = _provider(tmp_path)
    tensors = p.read_tensors(context.RequestContext(), experiment_id="",
                             plugin_name=metadata.PLUGIN_NAME, downsample=10)
    doc = metadata.decode_record(next(iter(tensors.values()))["tomek"][0].numpy)
    assert doc["n_synthetic"] == 0
    assert doc["n_removed"] == len(X) - len(X_res) > 0
    assert doc["after"]["1"] == 492 and doc["trials"] == [] and doc["chosen"] is None
    assert not any(pt[3] for pt in doc["projection"]["points"])


def test_image_data_and_string_labels(tmp_path):
    X, y = load_mnist_test()
    idx = np.concatenate([np.flatnonzero(y == 1)[:150], np.flatnonzero(y == 8)[:20]])
    X, labels = X[idx], np.where(y[idx] == 1, "one", "eight")
    X_res, y_res = resample(X, labels, "smote", random_state=0)
    _write(tmp_path, lambda: summary.resampling("smote", X, labels, X_res, y_res,
                                                method="smote", step=0, max_points=100))
    p = _provider(tmp_path)
    tensors = p.read_tensors(context.RequestContext(), experiment_id="",
                             plugin_name=metadata.PLUGIN_NAME, downsample=10)
    doc = metadata.decode_record(next(iter(tensors.values()))["smote"][0].numpy)
    assert doc["classes"] == ["eight", "one"]
    assert doc["before"] == {"eight": 20, "one": 150}
    assert doc["after"] == {"eight": 150, "one": 150}
    assert len(doc["projection"]["points"]) == 100


def test_without_a_writer_nothing_is_written_and_false_returned(creditcard):
    X, y = creditcard
    assert summary.resampling("r", X, y, X, y, step=0) is False


def test_bad_arguments_are_named(creditcard):
    X, y = creditcard
    with pytest.raises(ValueError, match="name must be"):
        summary.resampling("", X, y, X, y, step=0)
    with pytest.raises(ValueError, match="X_before and X_after"):
        summary.resampling("r", X, y, X[:, :5], y, step=0)
    with pytest.raises(ValueError, match="synthetic must have"):
        summary.resampling("r", X, y, X, y, synthetic=[True], step=0)
    with pytest.raises(ValueError, match="chosen must index trials"):
        summary.resampling("r", X, y, X, y, chosen=0, step=0)
    with pytest.raises(ValueError, match="different lengths"):
        summary.resampling("r", X, y, X, y[:-1], step=0)

"""The callback measures the complexity and class balance of all of train_data in one
streaming pass when it read only a sample (issue #16 build 4): the bits a dataset needs
grow with its size, so a 20,000-sample complexity understates a 60,000-sample set."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import tb_nndebug as nd
from tb_nndebug.callback import DebuggerCallback

pytestmark = pytest.mark.training


def data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype("float32")
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 0.8).astype("int64")  # about 22 % positives
    return X, y


def model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def fit(tmp_path, train_data, **kw):
    X, y = data()
    cb = DebuggerCallback(tmp_path, train_data=train_data, verbose=0, csg=False,
                          projection=False, **kw)
    hist = model().fit(X, y, epochs=2, batch_size=256, verbose=0, callbacks=[cb])
    return cb, hist


def dataset_record(cb):
    return cb.records["dataset"][0]["value"]


def skipped(cb):
    return [f for f in cb.findings if f.id == "diagnostic.skipped"
            and f.evidence["what"] == "whole-data complexity"]


@pytest.mark.parametrize("source", ["arrays", "tf.data", "PyDataset"])
def test_complexity_and_balance_are_those_of_all_the_data_not_the_sample(tmp_path, source):
    X, y = data()
    train = {"arrays": (X, y),
             "tf.data": tf.data.Dataset.from_tensor_slices((X, y)).shuffle(
                 3000, seed=1).batch(100),
             "PyDataset": Batches(X, y)}[source]
    cb, _ = fit(tmp_path, train, max_samples=500)
    doc = dataset_record(cb)
    whole = nd.dataset_complexity(X, y)
    assert doc["sample"] == {"n": 500, "limited_by": "max_samples", "whole_pass": True}
    assert doc["n_samples"] == 3000
    assert doc["complexity"]["expected_bits"] == whole.expected_bits
    assert doc["complexity"]["thresholds"] == whole.thresholds
    assert doc["balance"]["counts"] == {"0": int((y == 0).sum()), "1": int((y == 1).sum())}
    assert not skipped(cb)


def test_without_the_pass_the_sample_is_measured_and_that_is_said(tmp_path):
    X, y = data()
    cb, _ = fit(tmp_path, (X, y), max_samples=500, full_pass=False)
    doc = dataset_record(cb)
    assert doc["sample"]["whole_pass"] is False and doc["n_samples"] == 500
    assert doc["complexity"]["thresholds"] < nd.dataset_complexity(X, y).thresholds
    [note] = skipped(cb)
    assert note.severity == "info" and "500 samples read" in note.title
    assert "full_pass=False" in note.evidence["reason"]


def test_a_generator_is_not_read_twice_and_the_note_says_why(tmp_path):
    X, y = data()
    gen = ((X[i:i + 100], y[i:i + 100]) for i in range(0, 3000, 100))
    cb, _ = fit(tmp_path, gen, max_samples=500)
    [note] = skipped(cb)
    assert "a generator cannot be read a second time" in note.evidence["reason"]
    assert "tf.data.Dataset" in note.advice


def test_an_endless_pipeline_is_not_read_to_its_end(tmp_path):
    X, y = data()
    train = tf.data.Dataset.from_tensor_slices((X, y)).batch(100).repeat()
    cb, _ = fit(tmp_path, train, max_samples=500)
    [note] = skipped(cb)
    assert "repeats forever" in note.evidence["reason"]


def test_data_read_whole_needs_no_second_pass(tmp_path):
    X, y = data()
    cb, _ = fit(tmp_path, (X, y))
    assert "sample" not in dataset_record(cb) and not skipped(cb)


def test_the_pass_over_a_shuffled_pipeline_leaves_fit_unchanged(tmp_path):
    X, y = data()

    def pipeline():
        return tf.data.Dataset.from_tensor_slices((X, y)).shuffle(3000).batch(100)

    def losses(callbacks):
        keras.utils.set_random_seed(0)
        ds = pipeline()
        m = model()
        cbs = [DebuggerCallback(tmp_path / "run", train_data=ds, verbose=0, csg=False,
                                projection=False, max_samples=500)] if callbacks else []
        return m.fit(ds, epochs=3, verbose=0, callbacks=cbs).history["loss"]

    assert losses(True) == losses(False)


class Batches(keras.utils.PyDataset):
    def __init__(self, X, y):
        super().__init__()
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X) // 100

    def __getitem__(self, i):
        return self.X[i * 100:(i + 1) * 100], self.y[i * 100:(i + 1) * 100]


def test_memory_stays_within_the_sample_budget_over_a_memory_mapped_file(tmp_path):
    """1.25 GB of float32 on disk, read whole by the pass: the callback's peak grows by the
    sample (1,000 rows) and 16 bytes per sample, not by the file."""
    n, d = 400_000, 784
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for s in range(0, n, 50_000):
        X[s:s + 50_000] = np.random.default_rng(s).random((50_000, d), dtype=np.float32)
    X.flush()
    del X
    np.save(tmp_path / "y.npy", np.arange(n) % 10)
    script = textwrap.dedent(f"""
        import json, os, resource, sys
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras, numpy as np
        from tb_nndebug.callback import DebuggerCallback
        big = sys.argv[1] == "big"
        X = np.load({str(path)!r}, mmap_mode="r")
        y = np.load({str(tmp_path / 'y.npy')!r})
        train = (X, y) if big else (np.asarray(X[:1000]), y[:1000])
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input(({d},)), keras.layers.Dense(10, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy")
        cb = DebuggerCallback({str(tmp_path / 'logs')!r}, train_data=train, verbose=0,
                              csg=False, projection=False, max_samples=1000)
        m.fit(np.asarray(X[:1000]), y[:1000], epochs=1, verbose=0, callbacks=[cb])
        doc = cb.records["dataset"][0]["value"]
        print(json.dumps({{"n": doc["n_samples"]}}))
    """)
    # the peak of a fresh child (a fork of this process would carry pytest's own peak)
    wrapper = textwrap.dedent("""
        import json, resource, subprocess, sys
        out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
        doc = json.loads(out.strip().splitlines()[-1])
        doc["peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(json.dumps(doc))
    """)
    runs = {}
    for which in ("small", "big"):
        out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", script,
                              which], capture_output=True,
                             text=True, check=True, timeout=600).stdout
        runs[which] = json.loads(out.strip().splitlines()[-1])
    assert runs["big"]["n"] == n and runs["small"]["n"] == 1000
    grown_mb = (runs["big"]["peak"] - runs["small"]["peak"]) / 1024  # ru_maxrss is in KB
    print(f"\npeak RSS: {runs['small']['peak'] / 1024:.0f} MB with 1,000 samples in memory, "
          f"{runs['big']['peak'] / 1024:.0f} MB with a 1.25 GB memory-mapped train_data "
          f"read whole (+{grown_mb:.0f} MB)")
    assert grown_mb < 200


class SlowBatches(Batches):
    def __getitem__(self, i):
        import time

        time.sleep(0.05)  # 30 batches: a 1.5 s pass
        return super().__getitem__(i)


def test_a_long_pass_shows_a_progress_bar_and_a_short_one_does_not(tmp_path, capsys):
    X, y = data()
    for name, train in (("slow", SlowBatches(X, y)), ("quick", Batches(X, y))):
        cb = DebuggerCallback(tmp_path / name, train_data=train, csg=False, projection=False,
                              max_samples=500, verbose=1)
        model().fit(X, y, epochs=1, batch_size=256, verbose=0, callbacks=[cb])
        bar = "tb_nndebug: train_data" in capsys.readouterr().err
        assert bar == (name == "slow"), name

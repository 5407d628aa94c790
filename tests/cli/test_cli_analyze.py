"""`tb-nndebug analyze` end to end, in process: real data files, real saved
Keras models, records read back from the event files it wrote.

Data: the bundled credit-card CSV, an .npz of scikit-learn's digits, and a
folder of PNGs cut from the bundled MNIST test set.
"""
from __future__ import annotations

import numpy as np
import pytest

from tb_nndebug.cli import main
from tb_nndebug.datasets import DATA_DIR, load_mnist_test
from tb_nndebug.records.reading import read_records

pytestmark = pytest.mark.training

CREDITCARD = DATA_DIR / "creditcard" / "creditcard_sample.csv"


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y


def _fit(model, X, y, epochs):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=epochs, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Data files and briefly trained saved models, made once for the module."""
    import keras
    from PIL import Image

    root = tmp_path_factory.mktemp("cli_data")
    keras.utils.set_random_seed(0)
    out = {}

    X, y = _digits()
    np.savez(root / "digits.npz", X=X[:1200], labels=y[:1200],
             x_test=X[1200:], y_test=y[1200:])
    out["digits_npz"] = root / "digits.npz"
    digits_model = keras.Sequential([keras.Input((64,)),
                                     keras.layers.Dense(16, activation="relu"),
                                     keras.layers.Dense(10, activation="softmax")])
    _fit(digits_model, X[:1200], y[:1200], epochs=15).save(root / "digits.keras")
    out["digits_model"] = root / "digits.keras"

    # credit card: the model normalises raw features itself
    data = np.loadtxt(CREDITCARD, delimiter=",", skiprows=1)
    norm = keras.layers.Normalization()
    norm.adapt(data[:, :-1])
    cc_model = keras.Sequential([keras.Input((30,)), norm,
                                 keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(2, activation="softmax")])
    _fit(cc_model, data[:, :-1], data[:, -1].astype(int), epochs=3).save(root / "cc.keras")
    out["cc_model"] = root / "cc.keras"

    # 20 MNIST digits per class as PNG files, class folders 0..9
    Xm, ym = load_mnist_test()
    folder = root / "mnist_png"
    for c in range(10):
        (folder / str(c)).mkdir(parents=True)
        for j in np.flatnonzero(ym == c)[:20]:
            Image.fromarray(Xm[j]).save(folder / str(c) / f"{j}.png")
    out["images"] = folder
    # the image model trains on other MNIST digits than the saved ones
    Xtr = (Xm[5000:8000, :, :, None] / 255.0).astype("float32")
    img_model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
    _fit(img_model, Xtr, ym[5000:8000], epochs=4).save(root / "mnist.keras")
    out["images_model"] = root / "mnist.keras"
    return out


def _run(capsys, *args):
    code = main(["analyze", *map(str, args), "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_creditcard_csv_without_model_writes_dataset_record(tmp_path, capsys):
    code, out, err = _run(capsys, CREDITCARD, "--label", "Class", "--logdir", tmp_path)
    assert code == 0, err
    records = read_records(tmp_path / "creditcard_sample" / "debugger")
    doc = records["dataset"][0]["value"]
    assert (doc["n_samples"], doc["dim"], doc["n_classes"]) == (5412, 30, 2)
    assert doc["balance"]["counts"] == {"0": 4920, "1": 492}
    assert doc["csg"] is not None and doc["complexity"]["expected_bits"] > 0
    assert "model" not in records
    assert "label column 'Class'" in out
    assert "5412 samples, 30 values each, 2 classes" in out
    # the raw features (Time, Amount) are far from unit scale: the diagnosis says so
    assert "data.not_normalized" in out and "SEVERITY" in out


def test_csv_label_defaults_to_last_column(tmp_path, capsys):
    code, out, _ = _run(capsys, CREDITCARD, "--logdir", tmp_path, "--name", "cc", "--no-csg")
    assert code == 0
    assert "label column 'Class' (the last" in out
    doc = read_records(tmp_path / "cc" / "debugger")["dataset"][0]["value"]
    assert doc["n_classes"] == 2 and doc["csg"] is None


def test_fail_on_warning_exits_1_like_a_linter(tmp_path, capsys):
    code, out, _ = _run(capsys, CREDITCARD, "--logdir", tmp_path, "--no-csg",
                        "--fail-on", "warning")
    assert "warning" in out
    assert code == 1
    code, out, _ = _run(capsys, CREDITCARD, "--logdir", tmp_path, "--no-csg",
                        "--fail-on", "error")
    assert code == (1 if "\nerror " in out else 0)


def test_creditcard_with_model_reports_capacity_and_accuracy(tmp_path, capsys, files):
    code, out, err = _run(capsys, CREDITCARD, "--label", "Class", "--model",
                          files["cc_model"], "--no-csg", "--logdir", tmp_path)
    assert code == 0, err
    records = read_records(tmp_path / "creditcard_sample" / "debugger")
    model_doc = records["model"][0]["value"]
    assert model_doc["bits"] > 0 and model_doc["match"]["verdict"] in (
        "too_small", "matched", "oversized")
    info = records["run_info"][0]["value"]
    assert 0.9 <= info["accuracy"] <= 1.0  # 91 % of the rows are class 0
    assert f"capacity.{model_doc['match']['verdict']}" in out
    assert "accuracy:" in out


def test_npz_with_key_variants_and_held_out_split(tmp_path, capsys, files):
    code, out, err = _run(capsys, files["digits_npz"], "--model", files["digits_model"],
                          "--logdir", tmp_path, "--name", "digits")
    assert code == 0, err
    assert "features from key 'X'" in out and "labels from key 'labels'" in out
    assert "held-out split from keys 'x_test'/'y_test' (597 samples)" in out
    records = read_records(tmp_path / "digits" / "debugger")
    assert records["dataset"][0]["value"]["n_samples"] == 1200
    info = records["run_info"][0]["value"]
    assert info["accuracy"] > 0.9 and info["test_accuracy"] > 0.85
    assert info["accuracy"] >= info["test_accuracy"] - 0.05
    # 16 hidden units on 1,200 digits: capacity and dataset records give one verdict
    verdicts = [f for f in ("capacity.too_small", "capacity.matched", "capacity.oversized")
                if f in out]
    assert len(verdicts) == 1


def test_image_folder_with_model_and_robustness(tmp_path, capsys, files):
    code, out, err = _run(capsys, files["images"], "--model", files["images_model"],
                          "--robustness", "4", "--logdir", tmp_path, "--csg")
    assert code == 0, err
    assert "200 images in 10 class folders" in out
    records = read_records(tmp_path / "mnist_png" / "debugger")
    ds = records["dataset"][0]["value"]
    assert (ds["n_samples"], ds["dim"], ds["n_classes"]) == (200, 784, 10)
    assert ds["input_stats"]["min"] >= 0 and ds["input_stats"]["max"] <= 1
    rob = records["robustness"][0]["value"]
    assert rob["n"] == 4 and len(rob["status"]) == 4
    assert records["run_info"][0]["value"]["accuracy"] > 0.6
    assert "robustness:" in out


def test_image_folder_without_model(tmp_path, capsys, files):
    code, _, err = _run(capsys, files["images"], "--logdir", tmp_path, "--no-csg")
    assert code == 0, err
    doc = read_records(tmp_path / "mnist_png" / "debugger")["dataset"][0]["value"]
    assert doc["n_classes"] == 10 and doc["classes"] == [str(c) for c in range(10)]


def test_model_input_mismatch_is_one_line_error(tmp_path, capsys, files):
    code, _, err = _run(capsys, files["images"], "--model", files["digits_model"],
                          "--logdir", tmp_path, "--no-csg")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "--model expects samples of shape (64,)" in err and "(28, 28, 1)" in err


def test_labels_beyond_model_outputs_are_rejected():
    from tb_nndebug.cli.analyze import label_codes

    codes, note = label_codes(np.array([0, 1, 1, 0]), 1)  # one sigmoid output: 0/1
    assert codes.tolist() == [0, 1, 1, 0] and note is None
    with pytest.raises(ValueError, match="2 output.*labels run from 0 to 9"):
        label_codes(np.arange(10), 2)
    codes, note = label_codes(np.array(["dog", "cat", "dog"]), 2)
    assert codes.tolist() == [1, 0, 1] and "0=cat, 1=dog" in note


def test_a_second_analysis_replaces_the_first_but_not_a_training_run(tmp_path, capsys, files):
    code, _, _ = _run(capsys, files["digits_npz"], "--model", files["digits_model"],
                      "--no-csg", "--logdir", tmp_path, "--name", "d")
    assert code == 0
    code, _, _ = _run(capsys, files["digits_npz"], "--no-csg", "--logdir", tmp_path,
                      "--name", "d")
    assert code == 0
    run_dir = tmp_path / "d" / "debugger"
    assert len(list(run_dir.glob("*tfevents*"))) == 1
    assert "model" not in read_records(run_dir)  # the first analysis's model is gone
    # a run written by something else (here: a training callback's records) is kept
    import tensorflow as tf

    from tb_nndebug import summary

    other = tmp_path / "train1" / "debugger"
    with tf.summary.create_file_writer(str(other)).as_default():
        summary.run_info("run_info", {"experiment": "my training"}, step=0)
    code, _, err = _run(capsys, files["digits_npz"], "--no-csg", "--logdir", tmp_path,
                        "--name", "train1")
    assert code == 2 and "choose another --name" in err
    assert read_records(other)["run_info"][0]["value"]["experiment"] == "my training"

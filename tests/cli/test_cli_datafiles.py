"""What `tb-nndebug analyze` reads: .npz key variants, CSV layouts, image folders."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tb_nndebug.cli.datafiles import load_data
from tb_nndebug.datasets import DATA_DIR, load_cifar10_5k, load_mnist_test

CREDITCARD = DATA_DIR / "creditcard" / "creditcard_sample.csv"


@pytest.mark.parametrize("xk, yk", [("x", "y"), ("X", "Y"), ("features", "targets"),
                                    ("x_train", "y_train"), ("images", "label")])
def test_npz_key_variants_are_found_and_named(tmp_path, xk, yk):
    X, y = load_mnist_test()
    np.savez(tmp_path / "d.npz", **{xk: X[:30], yk: y[:30]})
    data = load_data(tmp_path / "d.npz")
    assert data.x.shape == (30, 28, 28) and data.y.tolist() == y[:30].tolist()
    assert data.notes[0].startswith(
        f"features from key {xk!r} (30, 28, 28), labels from key {yk!r}")
    assert data.x_test is None


def test_csv_header_label_by_name_or_index(tmp_path):
    by_name = load_data(CREDITCARD, label="Time")
    assert by_name.x.shape == (5412, 30)
    assert "Time" not in by_name.feature_names and "Class" in by_name.feature_names
    by_index = load_data(CREDITCARD, label="0")
    assert np.array_equal(by_index.y, by_name.y)
    default = load_data(CREDITCARD)
    assert default.feature_names[-1] == "Amount"
    assert sorted(set(default.y.tolist())) == [0, 1] and default.y.dtype.kind == "i"


def test_csv_without_header_and_with_text_labels(tmp_path):
    rows = CREDITCARD.read_text().splitlines()[1:41]
    text = "\n".join(",".join(r.split(",")[:3] + ["fraud" if r.endswith(",1") else "ok"])
                     for r in rows)
    (tmp_path / "t.csv").write_text(text + "\n")
    data = load_data(tmp_path / "t.csv")
    assert data.x.shape == (40, 3) and data.feature_names == ("0", "1", "2")
    assert set(data.y.tolist()) <= {"fraud", "ok"} and data.y.dtype.kind == "U"


def test_csv_with_one_column_is_rejected(tmp_path):
    (tmp_path / "one.csv").write_text("a\n1\n2\n")
    with pytest.raises(ValueError, match="at least two columns"):
        load_data(tmp_path / "one.csv")


def test_rgb_images_of_mixed_sizes_are_resized_and_named(tmp_path):
    (x, y), _ = load_cifar10_5k()
    for name, c in (("bird", 2), ("cat", 3)):
        (tmp_path / name).mkdir()
        for j in np.flatnonzero(y == c)[:5]:
            Image.fromarray(x[j]).save(tmp_path / name / f"{j}.png")
    big = np.flatnonzero(y == 3)[5]
    Image.fromarray(x[big]).resize((40, 40)).save(tmp_path / "cat" / "big.jpg")
    data = load_data(tmp_path)
    assert data.x.shape == (11, 32, 32, 3)
    assert 0.0 <= data.x.min() and data.x.max() <= 1.0
    assert data.class_names == ("bird", "cat")
    assert data.y.tolist() == [0] * 5 + [1] * 6
    assert any("resized to 32x32" in n for n in data.notes)
    assert any("0=bird, 1=cat" in n for n in data.notes)


def test_greyscale_digit_folders_keep_their_numbers(tmp_path):
    X, y = load_mnist_test()
    for c in (3, 7):
        (tmp_path / str(c)).mkdir()
        for j in np.flatnonzero(y == c)[:4]:
            Image.fromarray(X[j]).save(tmp_path / str(c) / f"{j}.png")
    data = load_data(tmp_path)
    assert data.x.shape == (8, 28, 28, 1)
    assert data.y.tolist() == [3] * 4 + [7] * 4
    first = np.flatnonzero(y == 3)[0]
    assert np.allclose(data.x[0, :, :, 0], X[first] / 255.0)

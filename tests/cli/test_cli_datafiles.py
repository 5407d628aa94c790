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


def test_npz_beyond_max_samples_keeps_a_seeded_subset_streamed_from_the_file(tmp_path):
    from tb_nndebug._validation import check_random_state

    rng = np.random.RandomState(1)
    x = rng.rand(500, 3, 2).astype(np.float32)
    y = np.arange(500) % 5
    np.savez_compressed(tmp_path / "d.npz", x=x, y=y, x_test=x[:40], y_test=y[:40])
    a = load_data(tmp_path / "d.npz", max_samples=60, random_state=7)
    idx = np.sort(check_random_state(7).choice(500, size=60, replace=False))
    assert np.array_equal(a.x, x[idx]) and np.array_equal(a.y, y[idx])
    assert "kept 60 of 500 training samples" in " ".join(a.notes)
    assert len(a.x_test) == 40  # under max_samples: whole
    b = load_data(tmp_path / "d.npz", max_samples=60, random_state=7)
    c = load_data(tmp_path / "d.npz", max_samples=60, random_state=8)
    assert np.array_equal(a.x, b.x) and not np.array_equal(a.x, c.x)


def test_fortran_order_npz_members_are_read_correctly(tmp_path):
    x = np.asfortranarray(np.arange(24, dtype=np.float64).reshape(6, 4))
    np.savez(tmp_path / "f.npz", x=x, y=np.arange(6) % 2)
    data = load_data(tmp_path / "f.npz", max_samples=4, random_state=0)
    full = load_data(tmp_path / "f.npz")
    assert np.array_equal(full.x, x) and data.x.shape == (4, 4)
    assert all(any(np.array_equal(r, row) for row in x) for r in data.x)


def test_csv_beyond_max_samples_keeps_a_seeded_subset_in_file_order(tmp_path):
    lines = ["f1,f2,label"] + [f"{i},{2 * i},{i % 3}" for i in range(1000)]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    a = load_data(tmp_path / "big.csv", max_samples=50, random_state=3)
    b = load_data(tmp_path / "big.csv", max_samples=50, random_state=3)
    c = load_data(tmp_path / "big.csv", max_samples=50, random_state=4)
    assert a.x.shape == (50, 2) and np.array_equal(a.x, b.x) and not np.array_equal(a.x, c.x)
    rows = a.x[:, 0].astype(int)
    assert np.all(np.diff(rows) > 0)  # file order, distinct rows
    assert np.array_equal(a.x[:, 1], 2 * a.x[:, 0]) and np.array_equal(a.y, rows % 3)
    assert "kept 50 of 1000 rows" in " ".join(a.notes)
    assert rows.max() > 500  # rows from the whole file, not its head


def test_image_folder_decodes_only_the_kept_images(tmp_path):
    X, y = load_mnist_test()
    for c in (1, 2):
        (tmp_path / str(c)).mkdir()
        for j in np.flatnonzero(y == c)[:20]:
            Image.fromarray(X[j]).save(tmp_path / str(c) / f"{j}.png")
    broken = tmp_path / "2" / "zz_broken.png"
    broken.write_bytes(b"not a png")
    paths = sorted(tmp_path.glob("1/*.png")) + sorted(tmp_path.glob("2/*.png"))
    from tb_nndebug._validation import check_random_state

    seed = next(s for s in range(100) if paths.index(broken) not in
                check_random_state(s).choice(len(paths), size=10, replace=False))
    data = load_data(tmp_path, max_samples=10, random_state=seed)  # the broken one is not kept
    assert data.x.shape == (10, 28, 28, 1)
    assert "kept 10 of 41 images" in " ".join(data.notes)
    with pytest.raises(ValueError, match="cannot read image .*zz_broken.png"):
        load_data(tmp_path)


def test_data_beyond_the_memory_budget_is_refused_naming_file_and_budget(tmp_path):
    from tb_nndebug.cli.datafiles import measure_bytes

    np.savez(tmp_path / "d.npz", x=np.zeros((1000, 100)), y=np.zeros(1000))
    need = measure_bytes(1000, 100, 100 * 8 + 8)
    assert load_data(tmp_path / "d.npz", memory_budget=need).x.shape == (1000, 100)
    with pytest.raises(ValueError, match=r"DATA: training 'x' of 'd.npz' \(1000 samples of "
                                         r"shape \(100,\) float64\) needs about .* more than "
                                         r"--memory-budget"):
        load_data(tmp_path / "d.npz", memory_budget=need - 1)


def test_a_decompression_bomb_image_is_refused_by_name(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.zeros((200, 200), np.uint8)).save(tmp_path / "a" / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # 40,000 pixels is 4x the limit
    with pytest.raises(ValueError, match="bomb.png.* decompression bomb"):
        load_data(tmp_path)


@pytest.mark.parametrize("text, expected", [("512MB", 512 * 2**20), ("2GB", 2 * 2**30),
                                            ("1.5g", 3 * 2**29), ("100000", 100000),
                                            ("64 KiB", 64 * 1024)])
def test_sizes_parse_in_binary_units(text, expected):
    from tb_nndebug.cli.datafiles import parse_bytes

    assert parse_bytes(text) == expected


def test_degenerate_data_note_says_why_measures_mean_nothing():
    from tb_nndebug.cli.analyze import degenerate_data_note

    assert "every feature is constant" in degenerate_data_note(np.ones((10, 3)),
                                                               np.arange(10) % 2)
    assert "one class" in degenerate_data_note(np.arange(30.0).reshape(10, 3), np.zeros(10))
    assert degenerate_data_note(np.arange(30.0).reshape(10, 3), np.arange(10) % 2) is None

"""`tb-nndebug` on bad input: one line on stderr, exit status 2, no traceback.

These run the installed console script as a subprocess (the real exit status
and stderr); bad input is rejected before TensorFlow is imported, so each
call takes about a second.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tb_nndebug.datasets import DATA_DIR

TB_NNDEBUG = Path(sys.executable).parent / "tb-nndebug"
CREDITCARD = DATA_DIR / "creditcard" / "creditcard_sample.csv"


def cli(*args, cwd=None):
    return subprocess.run([str(TB_NNDEBUG), *map(str, args)], check=False, capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith("tb-nndebug analyze: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def digits_npz(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X, y


def test_missing_data_file_is_one_line_error(tmp_path):
    proc = cli("analyze", tmp_path / "nope.npz", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "no such file", "nope.npz")


def test_unknown_format_is_one_line_error(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('{"x": [1, 2]}')
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "data.json", ".npz", ".csv")


def test_csv_renamed_npz_is_one_line_error(tmp_path):
    path = tmp_path / "fake.npz"
    path.write_bytes(CREDITCARD.read_bytes()[:2000])
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "fake.npz", "not a readable .npz")


def test_missing_label_column_is_one_line_error(tmp_path):
    proc = cli("analyze", CREDITCARD, "--label", "Fraud", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "'Fraud'", "not a column", "Class")


def test_npz_with_mismatched_lengths_is_one_line_error(tmp_path, digits_npz):
    X, y = digits_npz
    path = tmp_path / "short.npz"
    np.savez(path, x=X[:100], y=y[:90])
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "different lengths", "100", "90")


def test_npz_without_labels_is_one_line_error(tmp_path, digits_npz):
    X, _ = digits_npz
    path = tmp_path / "nolabels.npz"
    np.savez(path, x=X[:50], extra=X[:50, 0])
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "labels array", "['extra', 'x']")


def test_ragged_csv_names_the_line(tmp_path):
    rows = CREDITCARD.read_text().splitlines()[:20]
    rows[7] = ",".join(rows[7].split(",")[:-3])  # line 8 loses three fields
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(rows) + "\n")
    proc = cli("analyze", path, "--label", "Class", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "line 8", "28 fields, expected 31")


def test_text_in_feature_column_is_one_line_error(tmp_path):
    rows = CREDITCARD.read_text().splitlines()[:20]
    cells = rows[3].split(",")
    cells[2] = "n/a"
    rows[3] = ",".join(cells)
    path = tmp_path / "text.csv"
    path.write_text("\n".join(rows) + "\n")
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "column 'V2'", "not numeric", "'n/a'")


def test_empty_image_folder_is_one_line_error(tmp_path):
    (tmp_path / "imgs" / "cat").mkdir(parents=True)
    (tmp_path / "imgs" / "cat" / "notes.txt").write_text("no images here")
    proc = cli("analyze", tmp_path / "imgs", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "no class sub-folders with images")


def test_broken_image_is_one_line_error(tmp_path):
    (tmp_path / "imgs" / "0").mkdir(parents=True)
    (tmp_path / "imgs" / "0" / "a.png").write_bytes(b"not a png at all")
    proc = cli("analyze", tmp_path / "imgs", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "cannot read image", "a.png")


def test_missing_model_file_is_one_line_error(tmp_path):
    proc = cli("analyze", CREDITCARD, "--model", tmp_path / "model.keras",
               "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "--model", "no such file")


def test_model_that_is_not_a_keras_file_is_one_line_error(tmp_path, digits_npz):
    X, y = digits_npz
    data = tmp_path / "digits.npz"
    np.savez(data, x=X[:200], y=y[:200])
    bad = tmp_path / "model.keras"
    bad.write_text("this is not a zip archive")
    proc = cli("analyze", data, "--model", bad, "--no-csg", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "--model", "cannot load", "model.keras")


def test_robustness_without_model_is_one_line_error(tmp_path):
    proc = cli("analyze", CREDITCARD, "--robustness", "5", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "--robustness needs --model")


def test_debug_flag_shows_the_traceback(tmp_path):
    proc = cli("analyze", tmp_path / "nope.npz", "--logdir", tmp_path / "runs", "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "no such file" in proc.stderr


def test_usage_errors_exit_2_with_usage(tmp_path):
    proc = cli("analyze", CREDITCARD)  # --logdir missing
    assert proc.returncode == 2
    assert "--logdir" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("demo", "--only", "nosuchgroup")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_help_lists_commands_and_examples():
    proc = cli("--help")
    assert proc.returncode == 0
    for text in ("analyze", "demo", "examples:", "tb-nndebug demo --serve"):
        assert text in proc.stdout
    proc = cli("analyze", "--help")
    assert proc.returncode == 0
    for text in ("DATA is one of", ".npz", ".csv", "folder/", "--fail-on", "exit status"):
        assert text in proc.stdout


def test_demo_serve_on_a_busy_port_fails_before_running(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([str(TB_NNDEBUG), "demo", "--only", "table1", "--serve",
                               "--host", "127.0.0.1", "--port", str(port),
                               "--logdir", str(tmp_path)],
                              check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"tb-nndebug demo: error: --port {port} on 127.0.0.1 is not available "
        "(Address already in use); choose another with --port")
    assert not (tmp_path / "table1").exists()


@pytest.mark.parametrize("name", ["a/../../escaped", "../up", "a//b", "a/./b", "/abs"])
def test_a_run_name_that_leaves_the_logdir_is_refused(tmp_path, name):
    np.savez(tmp_path / "d.npz", x=np.eye(4), y=np.array([0, 1, 0, 1]))
    proc = cli("analyze", tmp_path / "d.npz", "--logdir", tmp_path / "runs", "--name", name,
               "--no-csg", "--no-progress")
    assert_one_line_error(proc, "name must be a relative run name inside --logdir", repr(name))
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "up").exists()


def test_nan_in_a_csv_names_file_line_and_column_before_tensorflow_loads(tmp_path):
    rows = CREDITCARD.read_text().splitlines()[:20]
    cells = rows[5].split(",")
    cells[3] = "nan"
    rows[5] = ",".join(cells)
    path = tmp_path / "nan.csv"
    path.write_text("\n".join(rows) + "\n")
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "'nan.csv'", "line 6, column 'V3'", "'nan'", "finite")
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from tb_nndebug.cli.main import main; "
         f"rc = main(['analyze', {str(path)!r}, '--logdir', {str(tmp_path / 'runs')!r}]); "
         "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)"],
        check=False, capture_output=True, text=True, timeout=120)
    assert probe.stdout.split() == ["2", "False", "False"], (probe.stdout, probe.stderr)


def test_nan_in_an_npz_names_the_array_and_sample(tmp_path):
    x = np.random.RandomState(0).rand(30, 4)
    x[17, 2] = np.inf
    np.savez(tmp_path / "inf.npz", x=x, y=np.arange(30) % 2)
    proc = cli("analyze", tmp_path / "inf.npz", "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "array 'x' of 'inf.npz'", "inf in sample 17", "finite")


def test_random_bytes_named_npz_never_suggest_allow_pickle(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.RandomState(0).bytes(4096))
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "'random.npz'", "not a readable .npz file")
    assert "pickle" not in proc.stderr


def test_npz_with_pickled_object_array_is_refused_as_running_code(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "'obj.npz'", "object array 'x'", "would run code")
    assert "allow_pickle" not in proc.stderr


def test_npz_with_a_truncated_member_says_truncated(tmp_path):
    import zipfile

    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as z:
        with z.open("x.npy", "w") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (100, 4)})
            f.write(bytes(8 * 4 * 10))  # 10 of the 100 rows declared
        with z.open("y.npy", "w") as f:
            np.lib.format.write_array(f, np.arange(100) % 2)
    proc = cli("analyze", path, "--logdir", tmp_path / "runs")
    assert_one_line_error(proc, "'short.npz' is truncated", "member 'x'")


@pytest.mark.parametrize("value", ["lots", "-1GB", "0", "2 parsecs"])
def test_a_bad_memory_budget_is_one_line_error(tmp_path, value):
    proc = cli("analyze", CREDITCARD, "--logdir", tmp_path / "runs", f"--memory-budget={value}")
    assert_one_line_error(proc, "--memory-budget must be a size such as 512MB or 2GB",
                          repr(value))


def test_a_budget_too_small_for_the_data_names_file_and_budget(tmp_path):
    proc = cli("analyze", CREDITCARD, "--logdir", tmp_path / "runs", "--memory-budget", "64KB")
    assert_one_line_error(proc, "'creditcard_sample.csv'", "--memory-budget 64 KB",
                          "lower --max-samples or raise --memory-budget")


def test_max_samples_below_one_is_one_line_error(tmp_path):
    proc = cli("analyze", CREDITCARD, "--logdir", tmp_path / "runs", "--max-samples", "0")
    assert_one_line_error(proc, "--max-samples must be >= 1, got 0")


@pytest.mark.parametrize("rows, note", [
    ([f"1,2,3,{i % 2}" for i in range(50)], "every feature is constant"),
    ([f"{i},{i * i % 7},3,0" for i in range(50)], "there is one class"),
])
def test_degenerate_data_gets_a_note_not_numpy_warnings(tmp_path, rows, note):
    path = tmp_path / "flat.csv"
    path.write_text("\n".join(["a,b,c,label", *rows]) + "\n")
    proc = cli("analyze", path, "--logdir", tmp_path / "runs", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and proc.stderr.strip() == "", proc.stderr
    assert note in proc.stdout and "not meaningful" in proc.stdout

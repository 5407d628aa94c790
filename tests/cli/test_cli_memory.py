"""`tb-nndebug analyze` on hostile inputs stays within --memory-budget (issue #15, acceptance 3).

Each input is generated here (small on disk, huge once decoded) and run through
the installed console script in a subprocess, under a wrapper that prints the
child's peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``). The
budget bounds the data and the measures' working memory; TensorFlow and the
rest of the framework come on top, so the bound asserted is
``baseline + budget`` with the baseline measured in the same module: the peak
of a tiny valid input, which imports and runs everything.

``pytest -s`` prints the numbers.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TB_NNDEBUG = Path(sys.executable).parent / "tb-nndebug"
BUDGET = "1GB"
BUDGET_BYTES = 2**30

_WRAPPER = textwrap.dedent("""
    import resource, subprocess, sys
    rc = subprocess.run(sys.argv[1:], check=False).returncode
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"PEAK_RSS_KB={peak_kb}")
    sys.exit(rc)
""")


def run_measured(*args, timeout=300):
    """``(process, peak RSS in bytes)`` of ``tb-nndebug analyze ARGS --memory-budget 1GB``."""
    cmd = [sys.executable, "-c", _WRAPPER, str(TB_NNDEBUG), "analyze", *map(str, args),
           "--memory-budget", BUDGET, "--no-progress"]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("PEAK_RSS_KB="), proc.stdout
    return proc, int(last.split("=", 1)[1]) * 1024


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Peak RSS of a tiny valid analysis: the framework's own memory (TensorFlow & co)."""
    tmp = tmp_path_factory.mktemp("baseline")
    rng = np.random.RandomState(0)
    np.savez(tmp / "tiny.npz", x=rng.rand(60, 8), y=np.arange(60) % 3)
    proc, peak = run_measured(tmp / "tiny.npz", "--logdir", tmp / "runs", "--no-csg")
    assert proc.returncode == 0, proc.stderr
    print(f"\nbaseline (tiny valid input): peak RSS {peak / 2**20:.0f} MB")
    return peak


def assert_refused_within_budget(proc, peak, baseline, label, *fragments):
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    print(f"{label}: exit {proc.returncode}, peak RSS {peak / 2**20:.0f} MB "
          f"(bound: baseline {baseline / 2**20:.0f} MB + budget {BUDGET}); {lines}")
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("tb-nndebug analyze: error: DATA: "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert peak <= baseline + BUDGET_BYTES


def test_two_huge_pngs_are_refused_from_their_headers(tmp_path, baseline):
    for cls in ("a", "b"):  # 9000 x 9000 black pixels: 78 KB on disk, 81 MB decoded each
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.fromarray(np.zeros((9000, 9000), np.uint8)).save(tmp_path / "imgs" / cls / "x.png")
    assert (tmp_path / "imgs" / "a" / "x.png").stat().st_size < 200_000
    proc, peak = run_measured(tmp_path / "imgs", "--logdir", tmp_path / "runs")
    assert_refused_within_budget(proc, peak, baseline, "two 9000x9000 PNGs",
                                 "2 images of 9000x9000x1", "--memory-budget 1 GB")


def test_sparse_2gb_csv_is_refused_without_reading_it_whole(tmp_path, baseline):
    path = tmp_path / "sparse.csv"
    with open(path, "w") as f:
        f.write("a,b,label\n")
        f.truncate(2 * 2**30)  # a hole: 2 GB of NUL bytes that take no disk space
    assert path.stat().st_blocks * 512 < 2**20
    proc, peak = run_measured(path, "--logdir", tmp_path / "runs")
    assert_refused_within_budget(proc, peak, baseline, "2 GB sparse CSV",
                                 "'sparse.csv'", "line 2")


def test_deflated_npz_of_a_huge_zero_array_is_refused_from_its_header(tmp_path, baseline):
    path = tmp_path / "zeros.npz"  # 1.27 GB of float64 zeros, about 1 MB deflated
    shape = (20000, 7950)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("x.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": shape})
            block = bytes(8 * shape[1] * 1000)
            for _ in range(shape[0] // 1000):
                f.write(block)
        with z.open("y.npy", "w") as f:
            np.lib.format.write_array(f, np.arange(shape[0]) % 2)
    assert path.stat().st_size < 20 * 2**20
    proc, peak = run_measured(path, "--logdir", tmp_path / "runs")
    assert_refused_within_budget(proc, peak, baseline, "deflated 1.27 GB npz",
                                 "'zeros.npz'", "(20000 samples of shape (7950,) float64)",
                                 "--memory-budget 1 GB")


def test_more_samples_than_max_samples_are_subsampled_within_budget(tmp_path, baseline):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(40000, 1000)).astype(np.uint8)
    np.savez(tmp_path / "wide.npz", x=x, y=np.arange(40000) % 4)
    del x
    proc, peak = run_measured(tmp_path / "wide.npz", "--logdir", tmp_path / "runs",
                              "--no-csg", "--max-samples", "5000")
    print(f"40000x1000 uint8 npz, --max-samples 5000: exit {proc.returncode}, "
          f"peak RSS {peak / 2**20:.0f} MB")
    assert proc.returncode == 0, proc.stderr
    assert "kept 5000 of 40000 training samples" in proc.stdout
    assert "5000 samples, 1000 values each" in proc.stdout
    assert peak <= baseline + BUDGET_BYTES


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_named_csv_is_refused_not_waited_on(tmp_path, baseline):
    os.mkfifo(tmp_path / "x.csv")
    proc, peak = run_measured(tmp_path / "x.csv", "--logdir", tmp_path / "runs", timeout=60)
    assert_refused_within_budget(proc, peak, baseline, "FIFO x.csv", "named pipe (FIFO)")

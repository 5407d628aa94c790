"""The robustness-sweep demo (smoke size) writes <logdir>/sweep/<arch>_<level> runs."""
import os

import pytest

from tb_nndebug.demo import robustness_sweep

pytestmark = pytest.mark.training


def test_smoke_sweep_writes_one_run_per_architecture_and_level(tmp_path):
    rows = robustness_sweep.run(str(tmp_path), smoke=True, progress=False)
    archs = {r["architecture"] for r in rows}
    assert archs == set(robustness_sweep.ARCHITECTURES)
    runs = sorted(os.listdir(tmp_path / "sweep"))
    assert runs == sorted(f"{r['architecture']}_{r['level']:g}" for r in rows)
    for r in rows:
        assert sorted(os.listdir(r["run_dir"])) == ["debugger", "train", "validation"]
        assert r["dataset"] == "mnist" and r["bits"] > 0 and 0 <= r["accuracy"] <= 1
    for arch in archs:
        mine = sorted((r for r in rows if r["architecture"] == arch), key=lambda r: r["level"])
        assert [r["level"] for r in mine] == [0.5, 1.0]
        assert mine[0]["bits"] < mine[1]["bits"]
        assert sum(r["best"] for r in mine) <= 1
    table = robustness_sweep.format_table(rows)
    assert table.count("\n") == len(rows) + 1


def test_unknown_architecture_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="architectures"):
        robustness_sweep.run(str(tmp_path), smoke=True, architectures=("vgg",))

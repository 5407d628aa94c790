"""benchmarks/bench_streaming.py --quick runs end to end and its CSG-from-a-stream check holds."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_streaming_quick_mode_runs_and_stream_csg_equals_in_memory(tmp_path):
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_streaming.py"), "--quick",
         "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert re.search(r"dataset_complexity\(mmap\) .* ratio \d+\.\d+x", text)
    assert "N=   20,000" in text and "N=    5,000" in text
    scores = re.findall(r"csg.* (\d+\.\d{12})", text)
    assert len(scores) == 2 and scores[0] == scores[1] and "same: True" in text
    assert os.listdir(tmp_path) == []  # the generated files are deleted

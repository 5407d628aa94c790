"""A log_dir that fills up during fit (issue #15 defect 8): said once with the OS's reason,
the dropped epochs counted, and training goes on (a real 64 KB tmpfs)."""
from __future__ import annotations

import subprocess

import pytest
from tiny_models import two_class_data, two_class_mlp

from tb_nndebug.callback import DebuggerCallback

pytestmark = pytest.mark.training


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_log_dir_is_said_once_and_training_goes_on(tiny_disk, capfd):
    X, y = two_class_data(200, 8)
    model = two_class_mlp(8)
    cb = DebuggerCallback(tiny_disk / "logs", train_data=(X, y), verbose=0, csg=False,
                          projection=False)
    hist = model.fit(X, y, epochs=60, batch_size=64, verbose=0, callbacks=[cb])
    assert len(hist.history["loss"]) == 60
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("[nndebug]")]
    full = [ln for ln in lines if "is full or not writable" in ln]
    assert len(full) == 1 and "No space left on device" in full[0]
    assert "the debugger stopped writing, training goes on" in full[0]
    (dropped,) = [ln for ln in lines if "were not recorded" in ln]
    n = int(dropped.split("]")[1].split()[0])
    epoch_stopped = 60 - n - 1
    assert 0 < n < 60 and epoch_stopped >= 0
    assert not list((tiny_disk / "logs" / "debugger").glob(".nndebug_write_check"))
    import tensorflow as tf

    assert not tf.summary.should_record_summaries()  # no dead writer left as the default

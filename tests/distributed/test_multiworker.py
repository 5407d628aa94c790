"""``DebuggerCallback`` under ``MultiWorkerMirroredStrategy``: two worker processes on
loopback, every worker runs the callback, the chief alone writes the run.

Each cluster (the fit outside the strategy's scope, as TensorFlow's tutorial has it,
and inside it) is started once per module by ``cluster``; both workers are killed if
the pair does not finish within ``TIMEOUT`` seconds.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mw_worker import EPOCHS, N_SAMPLES, build, digits

pytestmark = pytest.mark.training

WORKER = Path(__file__).with_name("mw_worker.py")
TIMEOUT = 240  # seconds for the whole two-process fit


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _start_cluster(logdir: Path, out: Path, flags: list[str]) -> list[dict]:
    """Run the two workers to the end; ``[{"index", "pid", "rc", "stdout", "stderr"}]``."""
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers},
                                         "task": {"type": "worker", "index": index}}))
        stdout, stderr = (open(out / f"worker{index}.{s}", "w+") for s in ("out", "err"))
        procs.append((subprocess.Popen([sys.executable, str(WORKER), str(logdir), str(out),
                                        *flags], env=env, stdout=stdout, stderr=stderr),
                      stdout, stderr))
    deadline = time.monotonic() + TIMEOUT
    try:
        for proc, _, _ in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        hung = [proc.pid for proc, _, _ in procs if proc.poll() is None]
        for proc, _, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result = []
    for index, (proc, stdout, stderr) in enumerate(procs):
        texts = []
        for f in (stdout, stderr):
            f.seek(0)
            texts.append(f.read())
            f.close()
        result.append({"index": index, "pid": proc.pid, "rc": proc.returncode,
                       "stdout": texts[0], "stderr": texts[1]})
    if hung:
        pytest.fail(f"workers {hung} still running after {TIMEOUT} s (killed); stderr tails:\n"
                    + "\n".join(r["stderr"][-2000:] for r in result))
    return result


@pytest.fixture(scope="module", params=["fit outside the scope", "fit inside the scope"])
def cluster(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("multiworker")
    logdir, out = root / "logs", root / "out"
    out.mkdir()
    flags = ["--fit-in-scope"] if "inside" in request.param else []
    return _fit_on_two_workers(logdir, out, flags)


def _fit_on_two_workers(logdir, out, flags) -> dict:
    workers = _start_cluster(logdir, out, flags)
    for w in workers:
        assert w["rc"] == 0, f"worker {w['index']} failed:\n{w['stderr'][-3000:]}"
    return {"logdir": logdir, "out": out, "workers": workers}


def _weights(out: Path, which: str, index: int) -> list[np.ndarray]:
    with np.load(out / f"{which}_worker_{index}.npz") as z:
        return [z[f"arr_{i}"] for i in range(len(z.files))]


def _probe_at(weights):
    """The loss and per-layer gradient norms on the whole training set at ``weights``,
    computed here in one process without a strategy: what the probe must report."""
    import keras
    import tensorflow as tf

    X, y = digits()
    model = build(keras)
    model.set_weights(weights)
    x, t = tf.constant(X), tf.constant(y)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=t, y_pred=model(x, training=False), training=False)
    grads = tape.gradient(loss, model.trainable_variables)
    norms = [float(np.sqrt(sum(np.sum(np.square(g.numpy())) for g in grads[i:i + 2])))
             for i in range(0, len(grads), 2)]  # Dense: kernel and bias
    return float(loss), norms


def test_only_the_chief_writes_one_run_readable_by_tensorboard(cluster):
    from plugin_client import ROUTE, make_client

    from tb_nndebug.records.reading import find_runs

    logdir = cluster["logdir"]
    chief, other = cluster["workers"]
    assert find_runs(logdir) == [str(logdir / "debugger")]
    (event_file,) = [p.name for p in (logdir / "debugger").iterdir()]
    assert f".{chief['pid']}." in event_file and f".{other['pid']}." not in event_file
    assert sorted(p.name for p in logdir.iterdir()) == ["debugger"]  # no temp dir left
    client, _ = make_client(logdir)
    resp = client.get(f"{ROUTE}/report?run=debugger")
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["records"]["training"]


def test_the_chiefs_run_holds_every_record_of_a_single_process_fit(cluster, tmp_path):
    import keras

    from tb_nndebug.callback import DebuggerCallback
    from tb_nndebug.records.reading import read_records

    X, y = digits()
    cb = DebuggerCallback(tmp_path, train_data=(X, y), batch_size=N_SAMPLES, verbose=0,
                          projection=False, random_state=0)
    build(keras).fit(X, y, epochs=EPOCHS, batch_size=64, verbose=0, callbacks=[cb])
    alone = read_records(tmp_path / "debugger")
    chief = read_records(cluster["logdir"] / "debugger")

    def tags(records):
        return {(kind, r["tag"]) for kind, rs in records.items() for r in rs}

    assert {"dataset", "model", "checks", "training"} <= set(chief)
    assert "_errors" not in chief and "diagnostic_error" not in chief
    assert tags(chief) == tags(alone)
    (training,) = chief["training"]
    assert [h["step"] for h in training["history"]] == list(range(EPOCHS))
    assert all(h["value"]["grad_norms"] for h in training["history"])


def test_a_non_chief_worker_prints_one_line_and_records_nothing(cluster):
    chief, other = cluster["workers"]
    lines = [ln for ln in other["stdout"].splitlines() if ln.startswith("[nndebug]")]
    assert lines == ["[nndebug] worker 1: the debugger run is written by the chief "
                     "(worker 0); this worker records nothing"]
    assert "[nndebug]" in chief["stdout"]
    assert "records nothing" not in chief["stdout"]


def test_the_chiefs_signals_are_the_clusters(cluster):
    """Both workers hold the same weights (the gradients are all-reduced), so the chief's
    probe speaks for every worker, and it equals the loss and gradient norms recomputed
    here from those weights. Inside the scope the probe must step out of it: there
    TensorFlow refuses its gradients and Keras halves the loss over the two replicas."""
    from tb_nndebug.records.reading import read_records

    out = cluster["out"]
    final = _weights(out, "final", 0)
    for a, b in zip(final, _weights(out, "final", 1)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    records = read_records(cluster["logdir"] / "debugger")
    (training,) = records["training"]
    loss, norms = _probe_at(final)
    assert training["value"]["probe_loss"] == pytest.approx(loss, rel=1e-4)
    assert [g["norm"] for g in training["value"]["grad_norms"]] == pytest.approx(norms,
                                                                                rel=1e-3)
    (checks,) = records["checks"]
    initial_loss, _ = _probe_at(_weights(out, "initial", 0))
    assert checks["value"]["initial_loss"] == pytest.approx(initial_loss, rel=1e-4)


def test_a_fit_inside_a_strategy_scope_still_gets_the_probe(tmp_path):
    """``with strategy.scope(): model.fit(...)`` runs the callbacks in the scope's
    cross-replica context, where TensorFlow refuses gradients of distributed variables;
    the probe runs outside the scope and reports the loss at the true scale."""
    import keras
    import tensorflow as tf

    from tb_nndebug.callback import DebuggerCallback
    from tb_nndebug.records.reading import read_records

    X, y = digits()
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = build(keras)
        cb = DebuggerCallback(tmp_path, train_data=(X, y), batch_size=N_SAMPLES, verbose=0,
                              csg=False, projection=False, random_state=0)
        model.fit(X, y, epochs=2, batch_size=64, verbose=0, callbacks=[cb])
    records = read_records(tmp_path / "debugger")
    assert "diagnostic_error" not in records
    (training,) = records["training"]
    loss, norms = _probe_at([np.asarray(w) for w in model.get_weights()])
    assert training["value"]["probe_loss"] == pytest.approx(loss, rel=1e-4)
    assert [g["norm"] for g in training["value"]["grad_norms"]] == pytest.approx(norms,
                                                                                rel=1e-3)


def test_a_layer_with_on_read_variables_keeps_the_chief_from_probing_alone(tmp_path):
    """A forward pass through a layer holding ``on_read`` variables all-reduces them;
    run by the chief alone it meets the other worker's training all-reduce and aborts
    both fits. The chief says so and skips the probe; training and its records go on."""
    from tb_nndebug.records.reading import read_records

    (tmp_path / "out").mkdir()
    run = _fit_on_two_workers(tmp_path / "logs", tmp_path / "out", ["--on-read-layer"])
    records = read_records(run["logdir"] / "debugger")
    assert "diagnostic_error" not in records
    (checks,) = records["checks"]
    (probe,) = [s for s in checks["value"]["skipped"] if s["what"] == "probe"]
    assert "running_centre/total" in probe["reason"] and "on_read" in probe["reason"]
    (training,) = records["training"]
    assert [h["step"] for h in training["history"]] == list(range(EPOCHS))
    assert "every worker must read together" in run["workers"][0]["stdout"]

"""Who wrote a run: the earlier-fits note and the second-writer warning (fires / silent),
and the epochs findings name once a run was resumed (Keras's epochs, not list indices)."""
from __future__ import annotations

from tb_nndebug.diagnosis import diagnose


def training(session=None, **kw):
    doc = {"epoch": kw.pop("epoch", 2), "history": kw.pop("history", {"loss": [1.0, 0.8, 0.7]})}
    doc.update(kw)
    if session is not None:
        doc["session"] = session
    return {"training": [{"tag": "training", "step": doc["epoch"], "value": doc}]}


def session(**kw):
    s = {"id": "b", "started": 1_800_000_000.0, "index": 1, "first_step": 0,
         "initial_epoch": 0, "continues": None, "concurrent": []}
    s.update(kw)
    return s


def ids(records):
    return {f.id: f for f in diagnose(records)}


def test_run_sessions_says_the_run_holds_earlier_fits():
    found = ids(training(session(index=3)))
    f = found["run.sessions"]
    assert f.severity == "info" and "written by 3 fits" in f.title
    assert f.evidence["sessions"] == 3


def test_run_sessions_names_a_resumed_fit():
    f = ids(training(session(index=2, initial_epoch=20, continues="a")))["run.sessions"]
    assert "resumes at epoch 20" in f.title and f.evidence["resumes"] == "a"


def test_run_sessions_stays_silent_on_a_single_fit_and_on_records_without_sessions():
    assert "run.sessions" not in ids(training(session()))
    assert "run.sessions" not in ids(training())
    assert "run.sessions" not in ids(training({"id": "x", "started": "yesterday", "index": 4}))


def test_run_concurrent_writers_warns_when_another_session_writes_at_once():
    f = ids(training(session(concurrent=["a"])))["run.concurrent_writers"]
    assert f.severity == "warning" and f.evidence["concurrent"] == ["a"]
    assert "own name=" in f.advice


def test_run_concurrent_writers_stays_silent_without_a_second_writer():
    assert "run.concurrent_writers" not in ids(training(session(index=2)))
    assert "run.concurrent_writers" not in ids(training(session(concurrent="a")))


def test_overfitting_names_the_keras_epoch_of_a_resumed_history():
    loss = [1.0 - 0.05 * i for i in range(10)]
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05]
    rec = training(epoch=29, history={"loss": loss, "val_loss": val},
                   history_epochs=list(range(20, 30)))
    f = ids(rec)["training.overfitting"]
    assert f.evidence["best_epoch"] == 22 and "epoch 22" in f.title


def test_an_old_record_without_history_epochs_counts_back_from_its_epoch():
    loss = [1.0 - 0.05 * i for i in range(10)]
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05]
    f = ids(training(epoch=39, history={"loss": loss, "val_loss": val}))["training.overfitting"]
    assert f.evidence["best_epoch"] == 32

"""A training record's history: Keras's epochs, whole up to HISTORY_POINTS epochs, then
bounded (latest epochs exact, earlier ones thinned, each metric's best and worst kept)."""
from __future__ import annotations

import json

from tb_nndebug.callback.history import HISTORY_POINTS, TrainingHistory, thinned


def grown(n, start=0):
    h = TrainingHistory()
    for e in range(start, start + n):
        h.append(e, {"loss": 1.0 / (e + 1), "accuracy": min(1.0, e / 100)})
    return h


def test_a_short_history_is_whole_with_its_epochs():
    doc = grown(5, start=20).document()
    assert doc["history_epochs"] == [20, 21, 22, 23, 24]
    assert doc["history"]["loss"] == [float(f"{1 / e:.7g}") for e in range(21, 26)]
    assert doc["history_length"] == 5


def test_a_long_history_stays_bounded_and_keeps_the_latest_epochs_exact():
    doc = grown(10_000).document()
    epochs = doc["history_epochs"]
    assert len(epochs) <= HISTORY_POINTS + 4
    assert epochs[0] == 0 and epochs[-HISTORY_POINTS // 2:] == list(range(
        10_000 - HISTORY_POINTS // 2, 10_000))
    assert doc["history_length"] == 10_000
    assert len(json.dumps(doc)) < 8_000


def test_thinning_keeps_each_metrics_best_and_worst_epoch():
    values = {"val_loss": [1.0] * 1000}
    values["val_loss"][333] = 0.1
    values["val_loss"][777] = 9.0
    keep = thinned(values, 1000)
    assert 333 in keep and 777 in keep


def test_a_metric_that_appears_later_is_none_before_it_and_nonfinite_is_none():
    h = TrainingHistory()
    h.append(0, {"loss": 1.0})
    h.append(1, {"loss": float("nan"), "val_loss": 2.0})
    assert h.document()["history"] == {"loss": [1.0, None], "val_loss": [None, 2.0]}


def test_seeding_takes_only_the_epochs_before_the_resumed_one():
    earlier = grown(30).document()
    h = TrainingHistory()
    assert h.seed(dict(earlier, epoch=29), before=20) == 20
    h.append(20, {"loss": 0.5, "accuracy": 0.2})
    assert h.document()["history_epochs"] == list(range(21))

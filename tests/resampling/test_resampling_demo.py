"""The imbalance demo writes its four runs and a truthful table (1 epoch, to stay quick)."""
from __future__ import annotations

import pytest
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

from tb_nndebug import metadata
from tb_nndebug.demo import imbalance


@pytest.mark.training
def test_demo_runs_every_variant_and_logs_resampling(tmp_path, monkeypatch):
    monkeypatch.setitem(imbalance.SETTINGS, True, (1, 2))  # 1 epoch, 2 trials
    rows = imbalance.run(tmp_path, quick=True, random_state=0, progress=False)
    assert [r["variant"] for r in rows] == list(imbalance.VARIANTS)
    by = {r["variant"]: r for r in rows}
    # the training sets are what each method promises
    assert by["as_is"]["n_fraud_train"] < by["as_is"]["n_train"] / 5
    assert by["smote"]["n_fraud_train"] * 2 == by["smote"]["n_train"]
    assert by["tomek"]["n_fraud_train"] == by["as_is"]["n_fraud_train"]
    assert by["tomek"]["n_train"] < by["as_is"]["n_train"]
    for r in rows:
        assert 0.0 <= r["minority_recall"] <= 1.0 and 0.0 <= r["balanced_accuracy"] <= 1.0
    table = imbalance.format_table(rows)
    assert table.count("\n") == len(rows) + 1

    for variant in imbalance.VARIANTS:
        for sub in ("train", "validation", "debugger"):
            assert (tmp_path / "imbalance" / variant / sub).is_dir(), (variant, sub)

    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(tmp_path))
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, str(tmp_path))
    tensors = provider.read_tensors(context.RequestContext(), experiment_id="",
                                    plugin_name=metadata.PLUGIN_NAME, downsample=10)
    assert "resampling" not in tensors["imbalance/as_is/debugger"]
    doc = metadata.decode_record(
        tensors["imbalance/capacity_guided/debugger"]["resampling"][0].numpy)
    assert doc["method"] == "capacity_guided(smote)" and len(doc["trials"]) == 2
    assert doc["expected_bits_after"] == by["capacity_guided"]["expected_bits"]
    info = metadata.decode_record(tensors["imbalance/tomek/debugger"]["run_info"][0].numpy)
    assert info["variant"] == "tomek"

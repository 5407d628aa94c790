"""The Debugger plugin's JSON routes, driven through TensorBoard's own WSGI app.

The logdir is written by the project's summary API (``tests/nndebug_logdirs.py``)
and read back by TensorBoard's Python loader (``EventMultiplexer`` +
``MultiplexerDataProvider``), exactly the stack ``--load_fast=false`` serves.
"""
from __future__ import annotations

import json
import math

import nndebug_logdirs
import pytest
from plugin_client import ROUTE, make_client

from tb_nndebug.plugin import routes as plugin_module


@pytest.fixture(scope="module")
def logdir(nndebug_standard_logdir):
    return nndebug_standard_logdir


@pytest.fixture(scope="module")
def client(logdir):
    return make_client(logdir)[0]


def get_json(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code, resp.data[:300])
    assert resp.headers["Content-Type"].startswith("application/json")
    return json.loads(resp.data)


# -- plugin listing ------------------------------------------------------------
def test_plugins_listing_shows_enabled_debugger_tab(client):
    listing = get_json(client, "/data/plugins_listing")
    entry = listing["nndebug"]
    assert entry["tab_name"] == "Debugger"
    assert entry["enabled"] is True
    assert entry["loading_mechanism"] == {"type": "IFRAME",
                                          "module_path": ROUTE + "/index.js"}


# -- /runs ---------------------------------------------------------------------
def test_runs_lists_only_runs_with_records_grouped_by_parent(client):
    runs = {r["run"]: r for r in get_json(client, ROUTE + "/runs")["runs"]}
    assert {"exp1/debugger", "exp2/debugger", "odd/debugger"} <= set(runs)
    assert "plain/train" not in runs and "exp1/train" not in runs
    exp1 = runs["exp1/debugger"]
    assert exp1["group"] == "exp1"
    assert exp1["last_step"] == 11
    assert exp1["kinds"] == ["checks", "dataset", "model", "robustness", "run_info", "training"]
    assert set(exp1["counts"]) == {"error", "warning", "info", "ok"}
    assert exp1["worst"] in (None, "error", "warning", "info", "ok")
    assert runs["odd/debugger"]["n_warnings"] >= 4


def test_runs_of_a_truncated_event_file_keep_the_records_before_the_cut(client):
    runs = {r["run"]: r for r in get_json(client, ROUTE + "/runs")["runs"]}
    broken = runs["broken/debugger"]
    assert broken["last_step"] == 2  # epoch 3 was cut in half
    assert "training" in broken["kinds"]


# -- /report -------------------------------------------------------------------
def test_report_gives_latest_record_per_tag_and_history_when_several_steps(client):
    rep = get_json(client, ROUTE + "/report?run=exp1/debugger")
    assert rep["run"] == "exp1/debugger" and rep["group"] == "exp1" and rep["last_step"] == 11
    training = rep["records"]["training"]
    assert [e["tag"] for e in training] == ["training"]
    latest = training[0]
    assert latest["step"] == 11 and latest["value"]["epoch"] == 11
    assert [h["step"] for h in latest["history"]] == list(range(12))
    assert latest["history"][-1]["value"] == latest["value"]
    dataset = rep["records"]["dataset"][0]
    assert dataset["tag"] == "train" and dataset["step"] == 0
    assert "history" not in dataset  # one step only
    assert len(dataset["value"]["projection"]["points"]) == 1000
    assert dataset["value"]["kind"] == "dataset" and dataset["value"]["version"] == 1
    assert isinstance(dataset["wall_time"], float)


def test_report_curves_come_from_the_groups_keras_scalar_runs(client):
    curves = get_json(client, ROUTE + "/report?run=exp1/debugger")["curves"]
    assert curves["source"] == "scalars"
    by_key = {(s["metric"], s["split"]): s for s in curves["series"]}
    assert set(by_key) == {("accuracy", "train"), ("accuracy", "validation"),
                           ("loss", "train"), ("loss", "validation")}
    loss = by_key[("loss", "validation")]
    assert loss["run"] == "exp1/validation" and loss["tag"] == "epoch_loss"
    assert [p[0] for p in loss["points"]] == list(range(12))
    # the scalars are the same numbers as the training record's history (float32)
    rep = get_json(client, ROUTE + "/report?run=exp1/debugger")
    history = rep["records"]["training"][0]["value"]["history"]["val_loss"]
    assert [p[1] for p in loss["points"]] == pytest.approx(history, rel=1e-6)


def test_report_curves_come_from_child_runs_when_records_sit_in_the_keras_log_dir(client):
    rep = get_json(client, ROUTE + "/report?run=nested")
    assert rep["group"] == "."
    curves = rep["curves"]
    assert curves["source"] == "scalars"
    assert {(s["run"], s["metric"]) for s in curves["series"]} == {
        ("nested/train", "loss"), ("nested/train", "accuracy"),
        ("nested/validation", "loss"), ("nested/validation", "accuracy")}


def test_report_curves_fall_back_to_the_training_record_history(client):
    rep = get_json(client, ROUTE + "/report?run=exp2/debugger")
    curves = rep["curves"]
    assert curves["source"] == "training_record"
    by_key = {(s["metric"], s["split"]): s for s in curves["series"]}
    assert ("loss", "validation") in by_key and ("accuracy", "train") in by_key
    assert by_key[("loss", "train")]["run"] == "exp2/debugger"
    assert [p[0] for p in by_key[("loss", "train")]["points"]] == list(range(5))


def test_report_markers_are_the_steps_of_the_findings(client):
    rep = get_json(client, ROUTE + "/report?run=exp1/debugger")
    assert "training.overfitting" in {f["id"] for f in rep["findings"]}  # written to overfit
    expected = sorted((f["step"], f["id"]) for f in rep["findings"] if f.get("step") is not None)
    assert expected
    assert sorted((m["step"], m["id"]) for m in rep["curves"]["markers"]) == expected


def test_report_skips_future_versions_and_malformed_json_with_warnings(client):
    rep = get_json(client, ROUTE + "/report?run=odd/debugger")
    warnings = "\n".join(rep["warnings"])
    assert "skipped tag future" in warnings and "newer" in warnings
    assert "skipped tag newer_doc" in warnings
    assert "skipped tag malformed" in warnings and "JSON" in warnings
    assert "skipped tag not_utf8" in warnings
    tags = {e["tag"] for entries in rep["records"].values() for e in entries}
    assert not tags & {"future", "newer_doc", "malformed", "not_utf8"}
    assert {"train", "model", "checks", "training"} <= tags  # the good records still come
    unsupported = [f for f in rep["findings"] if f["id"] == "record.unsupported"]
    assert sorted(f["evidence"]["tag"] for f in unsupported) == [
        "future", "malformed", "newer_doc", "not_utf8"]
    assert all(f["evidence"]["run"] == "odd/debugger" for f in unsupported)


def test_report_findings_equal_diagnosis_of_the_report_records(client):
    from tb_nndebug import diagnosis
    rep = get_json(client, ROUTE + "/report?run=exp1/debugger")
    expected = [f.to_dict() for f in diagnosis.diagnose(rep["records"])]
    assert rep["findings"] == json.loads(json.dumps(expected))
    runs = {r["run"]: r for r in get_json(client, ROUTE + "/runs")["runs"]}
    counts = {s: sum(f["severity"] == s for f in rep["findings"])
              for s in ("error", "warning", "info", "ok")}
    assert runs["exp1/debugger"]["counts"] == counts


@pytest.mark.parametrize("query, status", [
    ("", 400),
    ("?run=", 400),
    ("?run=exp1/debugger&run=exp2/debugger", 400),
    ("?run=nope", 404),
    ("?run=plain/train", 404),  # a run, but without debugger records
    ("?run=exp1", 404),
    ("?run=" + "x" * 5000, 400),
    ("?run=%00%ff", 404),
    ("?runs=exp1/debugger", 400),
])
def test_report_bad_requests_answer_json_errors(client, query, status):
    body = get_json(client, ROUTE + "/report" + query, status=status)
    assert isinstance(body["error"], str) and body["error"]


# -- /compare ------------------------------------------------------------------
def test_compare_rows_hold_the_key_numbers(client):
    rows = {r["run"]: r for r in get_json(client, ROUTE + "/compare")["rows"]}
    exp1 = rows["exp1/debugger"]
    assert exp1["model_bits"] == 201472 and exp1["expected_bits"] == 256
    assert exp1["ratio"] == pytest.approx(201472 / 256)
    assert exp1["verdict"] == "oversized"
    assert exp1["median_eps"] == 0.063 and exp1["median_pixels"] == 12
    assert exp1["clean_accuracy"] == 0.93
    assert exp1["architecture"] == "mlp" and exp1["capacity_level"] == 0.5
    e = 11
    assert exp1["train_loss"] == pytest.approx(2.3 * math.exp(-e / 4) + 0.05)
    assert exp1["val_loss"] == pytest.approx(2.3 * math.exp(-e / 4) + 0.1 + 0.08 * (e - 4))
    exp2 = rows["exp2/debugger"]
    assert exp2["median_eps"] is None and exp2["ratio"] == pytest.approx(300 / 256)
    assert exp2["verdict"] == "matched"  # 256 <= 300 bits <= max_bits 1234
    assert set(exp2["counts"]) == {"error", "warning", "info", "ok"}


def test_compare_keeps_the_requested_order_and_names_unknown_runs(client):
    rows = get_json(client, ROUTE + "/compare?runs=exp2/debugger,exp1/debugger,exp2/debugger")
    assert [r["run"] for r in rows["rows"]] == ["exp2/debugger", "exp1/debugger"]
    rows = get_json(client, ROUTE + "/compare?run=odd/debugger")
    assert [r["run"] for r in rows["rows"]] == ["odd/debugger"]
    err = get_json(client, ROUTE + "/compare?runs=exp1/debugger,ghost", status=404)
    assert "ghost" in err["error"]
    assert "error" in get_json(client, ROUTE + "/compare?runs=", status=400)
    assert "error" in get_json(client, ROUTE + "/compare?runs=,,,", status=400)


# -- caching and data-provider calls --------------------------------------------
class CountingProvider:
    """A real data provider that counts the calls made through it."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if callable(attr) and name.startswith(("list_", "read_")):
            def counted(*args, **kwargs):
                self.calls.append((name, kwargs.get("run_tag_filter")))
                return attr(*args, **kwargs)
            return counted
        return attr


def test_runs_reads_all_runs_in_one_call_then_only_what_changed(tmp_path):
    for i in range(4):
        nndebug_logdirs.write_debugger_run(tmp_path / f"g{i}" / "debugger", epochs=3, seed=i,
                                           keras_scalars=False, robustness=False)
    holder = {}

    def wrap(p):
        holder["p"] = CountingProvider(p)
        return holder["p"]

    client, mux = make_client(tmp_path, provider_wrapper=wrap)
    counting = holder["p"]
    assert len(get_json(client, ROUTE + "/runs")["runs"]) == 4
    names = [c[0] for c in counting.calls]
    assert names == ["list_tensors", "read_tensors"]
    counting.calls.clear()
    get_json(client, ROUTE + "/runs")
    get_json(client, ROUTE + "/compare")
    assert [c[0] for c in counting.calls] == ["list_tensors", "list_tensors"]
    # one run gains an epoch: only that run is read again
    import numpy as np
    import tensorflow as tf

    from tb_nndebug import summary
    w = tf.summary.create_file_writer(str(tmp_path / "g2" / "debugger"))
    with w.as_default():
        summary.training("training",
                         nndebug_logdirs.training_doc(3, 4, np.random.default_rng(0)), step=3)
    w.close()
    mux.Reload()
    counting.calls.clear()
    runs = {r["run"]: r for r in get_json(client, ROUTE + "/runs")["runs"]}
    assert runs["g2/debugger"]["last_step"] == 3
    assert [c[0] for c in counting.calls] == ["list_tensors", "read_tensors"]
    assert set(counting.calls[1][1].runs) == {"g2/debugger"}


def test_sampling_hints_map_zero_and_absent_to_all_points():
    assert plugin_module.downsample_from_hint(None) == plugin_module.ALL_SAMPLES
    assert plugin_module.downsample_from_hint(0) == plugin_module.ALL_SAMPLES
    assert plugin_module.downsample_from_hint(5) == 5


def test_samples_per_plugin_hint_thins_history_but_keeps_latest(logdir):
    client, _ = make_client(logdir, sampling_hints={"nndebug": 3})
    rep = get_json(client, ROUTE + "/report?run=exp1/debugger")
    training = rep["records"]["training"][0]
    assert training["step"] == 11 and len(training["history"]) == 3
    assert training["history"][-1]["step"] == 11


# -- empty logdir, prefixes ----------------------------------------------------
def test_logdir_without_debugger_data_lists_inactive_tab_and_routes_answer(tmp_path):
    client, _ = make_client(tmp_path)
    entry = get_json(client, "/data/plugins_listing")["nndebug"]
    assert entry["tab_name"] == "Debugger" and entry["enabled"] is False
    assert get_json(client, ROUTE + "/runs") == {"runs": []}
    assert get_json(client, ROUTE + "/compare") == {"rows": []}
    get_json(client, ROUTE + "/report?run=anything", status=404)


def test_routes_answer_under_path_prefix_and_experiment_urls(logdir):
    client, _ = make_client(logdir, path_prefix="/foo")
    runs = get_json(client, "/foo" + ROUTE + "/runs")["runs"]
    assert "exp1/debugger" in {r["run"] for r in runs}
    listing = get_json(client, "/foo/data/plugins_listing")
    assert listing["nndebug"]["loading_mechanism"]["module_path"] == "/foo" + ROUTE + "/index.js"
    rep = get_json(client, "/foo/experiment/abc" + ROUTE + "/report?run=exp1/debugger")
    assert rep["run"] == "exp1/debugger"


def test_concurrent_first_requests_read_the_runs_once(logdir):
    import concurrent.futures as cf

    holder = {}

    def wrap(p):
        holder["p"] = CountingProvider(p)
        return holder["p"]

    client, _ = make_client(logdir, provider_wrapper=wrap)
    with cf.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get(ROUTE + "/compare"), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.data for a in answers}) == 1
    assert [c[0] for c in holder["p"].calls].count("read_tensors") == 1


def test_run_names_with_spaces_commas_and_unicode_are_addressable(client):
    import urllib.parse

    run = nndebug_logdirs.WEIRD_GROUP + "/debugger"
    assert run in {r["run"] for r in get_json(client, ROUTE + "/runs")["runs"]}
    q = urllib.parse.quote(run)
    rep = get_json(client, ROUTE + "/report?run=" + q)
    assert rep["run"] == run and rep["group"] == nndebug_logdirs.WEIRD_GROUP
    rows = get_json(client, ROUTE + "/compare?run=" + q + "&runs=exp1/debugger")["rows"]
    assert [r["run"] for r in rows] == ["exp1/debugger", run]
    # in the comma-separated list the name splits, and the parts are unknown runs
    err = get_json(client, ROUTE + "/compare?runs=" + q, status=404)
    assert "we ird" in err["error"]

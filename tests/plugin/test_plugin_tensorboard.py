"""The Debugger plugin inside a real ``tensorboard`` process, over HTTP.

Three ways TensorBoard serves data: the default fast loading (Rust data
server), the Python loader (``--load_fast=false``), and a ``--path_prefix``
with ``/experiment/<id>/`` URLs. The logdir is written by the project's
summary API (``tests/nndebug_logdirs.py``).
"""
from __future__ import annotations

import json
import urllib.parse

import pytest

from tb_nndebug.plugin.routes import STATIC_DIR

pytestmark = pytest.mark.tensorboard

ROUTE = "/data/plugin/nndebug"
DEBUGGER_RUNS = ["exp1/debugger", "exp2/debugger", "odd/debugger", "broken/debugger"]


@pytest.fixture(scope="module")
def logdir(nndebug_standard_logdir):
    return nndebug_standard_logdir


def wait_for_debugger_runs(tb, prefix=""):
    return tb.wait_for(prefix + ROUTE + "/runs",
                       lambda d: set(DEBUGGER_RUNS) <= {r["run"] for r in d["runs"]}
                       and {r["run"]: r for r in d["runs"]}["exp1/debugger"]["last_step"] == 11,
                       timeout=60)


def assert_json_error(tb, path, status):
    code, headers, body = tb.get(path)
    assert code == status, (path, code, body[:200])
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"]


ODD_REQUESTS = [
    "/runs?run=x", "/runs?%%%", "/report?run=%ff%fe", "/report?run=..%2F..%2Fetc",
    "/report?run=" + "a" * 3000, "/report?run=exp1/debugger&run=", "/compare?runs=%00",
    "/compare?runs=" + ",".join(["exp1/debugger"] * 300), "/compare?run=&runs=",
    "/static/..%2F..%2Fplugin.py", "/static/%2e%2e/%2e%2e/setup.py", "/static/",
    "/report?run=broken/corrupt", "/report?run=broken/garbage",
]


@pytest.mark.parametrize("flags, history_len", [
    ((), 12),                      # Rust data server keeps 100 tensors per tag
    (("--load_fast=false",), 10),  # the Python loader keeps only 10
])
def test_routes_over_http(tensorboard_server, logdir, flags, history_len):
    tb = tensorboard_server(logdir, *flags)
    listing = tb.get_json("/data/plugins_listing")
    assert listing["nndebug"]["tab_name"] == "Debugger"
    runs = {r["run"]: r for r in wait_for_debugger_runs(tb)["runs"]}
    assert runs["exp1/debugger"]["group"] == "exp1"
    assert runs["broken/debugger"]["last_step"] == 2  # the truncated epoch is not read
    assert tb.get_json("/data/plugins_listing")["nndebug"]["enabled"] is True

    rep = tb.get_json(ROUTE + "/report?run=" + urllib.parse.quote("exp1/debugger"))
    training = rep["records"]["training"][0]
    assert training["step"] == 11 and training["value"]["epoch"] == 11
    assert len(training["history"]) == history_len
    assert training["history"][-1]["step"] == 11
    assert rep["curves"]["source"] == "scalars"
    assert {(s["metric"], s["split"]) for s in rep["curves"]["series"]} == {
        ("accuracy", "train"), ("accuracy", "validation"), ("loss", "train"),
        ("loss", "validation")}
    assert rep["curves"]["markers"]
    assert "training.overfitting" in {f["id"] for f in rep["findings"]}

    odd = tb.get_json(ROUTE + "/report?run=odd/debugger")
    assert sum(w.startswith("skipped tag") for w in odd["warnings"]) == 4

    rows = tb.get_json(ROUTE + "/compare?runs=exp2/debugger,exp1/debugger")["rows"]
    assert [r["run"] for r in rows] == ["exp2/debugger", "exp1/debugger"]
    assert rows[1]["verdict"] == "oversized"
    assert rows[1]["counts"] == runs["exp1/debugger"]["counts"]

    assert_json_error(tb, ROUTE + "/report", 400)
    assert_json_error(tb, ROUTE + "/report?run=nope", 404)
    assert_json_error(tb, ROUTE + "/compare?runs=nope", 404)
    for path in ODD_REQUESTS:
        code, _, body = tb.get(ROUTE + path)
        assert code < 500, (path, code, body[:200])


def test_routes_under_path_prefix_and_experiment_urls(tensorboard_server, logdir):
    tb = tensorboard_server(logdir, "--path_prefix=/foo")
    assert tb.url.endswith("/foo")
    listing = tb.get_json("/data/plugins_listing")
    assert listing["nndebug"]["loading_mechanism"]["module_path"] == "/foo" + ROUTE + "/index.js"
    wait_for_debugger_runs(tb)
    for prefix in ("", "/experiment/abc"):
        rep = tb.get_json(prefix + ROUTE + "/report?run=exp1/debugger")
        assert rep["run"] == "exp1/debugger"
        rows = tb.get_json(prefix + ROUTE + "/compare")["rows"]
        assert {r["run"] for r in rows} >= set(DEBUGGER_RUNS)
    code, headers, body = tb.get(ROUTE + "/index.js")
    bundle = STATIC_DIR / "index.js"
    if bundle.is_file():
        assert code == 200 and headers["Content-Type"].startswith("text/javascript")
        assert body == bundle.read_bytes()
    else:  # the frontend is not built: a JSON 404 that says so
        assert code == 404 and "index.js" in json.loads(body)["error"]


def test_logdir_without_debugger_data(tensorboard_server, tmp_path):
    tb = tensorboard_server(tmp_path)
    entry = tb.get_json("/data/plugins_listing")["nndebug"]
    assert entry["tab_name"] == "Debugger" and entry["enabled"] is False
    assert tb.get_json(ROUTE + "/runs") == {"runs": []}
    assert tb.get_json(ROUTE + "/compare") == {"rows": []}
    assert_json_error(tb, ROUTE + "/report?run=x", 404)


def test_tb_process_reports_a_tensorboard_that_cannot_start(tmp_path):
    from tb_process import TensorBoardProcess, TensorBoardStartError

    tb = TensorBoardProcess(tmp_path, "--no_such_flag", start_timeout=60)
    with pytest.raises(TensorBoardStartError, match="no_such_flag"):
        tb.start()
    assert tb.proc.poll() is not None

"""Fuzzing the Debugger plugin's routes: no query string or path answers 5xx."""
from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as dp_module
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as wtest
from werkzeug import wrappers

from tb_nndebug.plugin import DebuggerPlugin

ROUTE = "/data/plugin/nndebug"
RUN_NAMES = ["exp1/debugger", "exp2/debugger", "odd/debugger", "broken/debugger",
             "plain/train", "exp1", "", ".", ",", "exp1/debugger,exp2/debugger"]


@pytest.fixture(scope="module")
def client(nndebug_standard_logdir):
    logdir = nndebug_standard_logdir
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = dp_module.MultiplexerDataProvider(mux, str(logdir))
    plugin = DebuggerPlugin(base_plugin.TBContext(logdir=str(logdir), data_provider=provider))
    return wtest.Client(application.TensorBoardWSGI([plugin], data_provider=provider),
                        wrappers.Response)


text = st.one_of(st.sampled_from(RUN_NAMES), st.text(max_size=40))
params = st.lists(st.tuples(st.sampled_from(["run", "runs", "x", "", "run[]", "RUN"]), text),
                  max_size=4)
raw_queries = st.text(alphabet=st.characters(codec="ascii"), max_size=60)


def check(resp):
    assert resp.status_code < 500, (resp.status_code, resp.data[:300])
    if resp.status_code >= 400 and resp.headers["Content-Type"].startswith("application/json"):
        assert isinstance(json.loads(resp.data)["error"], str)
    elif resp.status_code == 200:
        json.loads(resp.data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/runs", "/report", "/compare"]), query=params)
def test_encoded_query_strings_never_answer_5xx(client, route, query):
    check(client.get(ROUTE + route + "?" + urllib.parse.urlencode(query)))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/runs", "/report", "/compare"]), query=raw_queries)
def test_raw_query_strings_never_answer_5xx(client, route, query):
    check(client.get(ROUTE + route, query_string=query))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(max_size=40))
def test_static_paths_never_answer_5xx_nor_leave_static(client, path):
    resp = client.get(ROUTE + "/static/" + urllib.parse.quote(path, safe="/%"))
    check(resp)
    if resp.status_code == 200:
        assert resp.headers["Content-Type"].split(";")[0] in (
            "text/javascript", "text/css", "application/json", "image/svg+xml", "image/png",
            "font/woff2", "text/plain")

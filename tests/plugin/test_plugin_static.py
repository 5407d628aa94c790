"""Static files of the Debugger plugin: fixed content types, no way out of static/."""
from __future__ import annotations

import json
import os

import pytest
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as dp_module
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as wtest
from werkzeug import wrappers

from tb_nndebug.plugin import routes as plugin_module

ROUTE = "/data/plugin/nndebug"


@pytest.fixture
def static_dir(tmp_path, monkeypatch):
    """A static directory with a bundle, a stylesheet, a nested icon, and a
    secret file beside it (outside) that no request may reach."""
    static = tmp_path / "static"
    (static / "icons").mkdir(parents=True)
    (static / "index.js").write_text("export function render() {}\n")
    (static / "style.css").write_text("body { color: red }\n")
    (static / "icons" / "dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (static / "notes.py").write_text("print('not served: no fixed type')\n")
    (static / ".hidden.js").write_text("// hidden\n")
    (tmp_path / "secret.js").write_text("SECRET\n")
    os.symlink(tmp_path / "secret.js", static / "link.js")
    monkeypatch.setattr(plugin_module, "STATIC_DIR", static)
    return static


@pytest.fixture
def client(tmp_path):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    mux = plugin_event_multiplexer.EventMultiplexer()
    provider = dp_module.MultiplexerDataProvider(mux, str(logdir))
    plugin = plugin_module.DebuggerPlugin(
        base_plugin.TBContext(logdir=str(logdir), data_provider=provider))
    app = application.TensorBoardWSGI([plugin], data_provider=provider)
    return wtest.Client(app, wrappers.Response)


@pytest.mark.parametrize("path, content_type", [
    ("/index.js", "text/javascript"),
    ("/static/index.js", "text/javascript"),
    ("/static/style.css", "text/css"),
    ("/static/icons/dot.svg", "image/svg+xml"),
])
def test_static_files_are_served_with_fixed_content_types(static_dir, client, path,
                                                          content_type):
    resp = client.get(ROUTE + path)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == content_type
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    rel = "index.js" if path == "/index.js" else path[len("/static/"):]
    assert resp.data == (static_dir / rel).read_bytes()


def test_content_types_do_not_depend_on_the_mimetypes_registry(static_dir, client,
                                                                monkeypatch):
    import mimetypes
    monkeypatch.setattr(mimetypes, "guess_type", lambda *a, **k: ("text/plain", None))
    resp = client.get(ROUTE + "/index.js")
    assert resp.headers["Content-Type"].split(";")[0] == "text/javascript"


@pytest.mark.parametrize("path", [
    "/static/../secret.js",
    "/static/../../tb_nndebug/plugin.py",
    "/static/icons/../../secret.js",
    "/static/%2e%2e/secret.js",
    "/static/%2E%2E%2Fsecret.js",
    "/static/..%2fsecret.js",
    "/static/..%5csecret.js",
    "/static/icons%2f..%2f..%2fsecret.js",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/C:%5Cwindows%5Cwin.ini",
    "/static/index.js%00.css",
    "/static/link.js",          # a symlink pointing outside static/
    "/static/notes.py",         # no fixed content type
    "/static/.hidden.js",
    "/static/",
    "/static/missing.js",
    "/static/icons",
])
def test_static_path_traversal_and_unknown_files_answer_404_json(static_dir, client, path):
    resp = client.get(ROUTE + path)
    assert resp.status_code in (400, 404), (path, resp.status_code)
    assert b"SECRET" not in resp.data and b"import" not in resp.data
    if resp.headers["Content-Type"].startswith("application/json"):
        assert "error" in json.loads(resp.data)


def test_missing_bundle_answers_404_json_and_the_tab_still_lists(tmp_path, client,
                                                                 monkeypatch):
    monkeypatch.setattr(plugin_module, "STATIC_DIR", tmp_path / "no-static")
    resp = client.get(ROUTE + "/index.js")
    assert resp.status_code == 404
    assert "index.js" in json.loads(resp.data)["error"]
    listing = json.loads(client.get("/data/plugins_listing").data)
    assert listing["nndebug"]["tab_name"] == "Debugger"


def test_resolve_static_refuses_names_outside_the_directory(static_dir):
    assert plugin_module.resolve_static("index.js") == (static_dir / "index.js").resolve()
    for name in ["", "..", "../secret.js", "/etc/passwd", "a\\b.js", "x\x00.js",
                 "icons/../../secret.js", "link.js", "icons/", ".hidden.js"]:
        assert plugin_module.resolve_static(name) is None, name

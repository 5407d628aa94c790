"""The TensorBoard plugin backend of the Debugger tab (minimal first cut)."""
from __future__ import annotations

from werkzeug import wrappers

from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin

from . import metadata


class DebuggerPlugin(base_plugin.TBPlugin):
    """TensorBoard plugin serving the Debugger tab."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._context = context

    def get_plugin_apps(self):
        return {"/index.js": self._serve_index, "/runs": self._serve_runs}

    def is_active(self):
        return False

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Debugger")

    @wrappers.Request.application
    def _serve_index(self, request):
        return http_util.Respond(request, {"error": "frontend bundle not built"},
                                 "application/json", code=404)

    @wrappers.Request.application
    def _serve_runs(self, request):
        return http_util.Respond(request, {"runs": []}, "application/json")

"""A werkzeug test client for the Debugger plugin on a logdir, through TensorBoard's
own data provider and WSGI app (no subprocess)."""
from __future__ import annotations

from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as dp_module
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as wtest
from werkzeug import wrappers

from tb_nndebug.plugin import DebuggerPlugin

ROUTE = "/data/plugin/nndebug"


def make_client(logdir, *, path_prefix="", provider_wrapper=None, sampling_hints=None):
    """``(client, multiplexer)`` serving the plugin's routes for ``logdir``."""
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    provider = dp_module.MultiplexerDataProvider(mux, str(logdir))
    if provider_wrapper is not None:
        provider = provider_wrapper(provider)
    context = base_plugin.TBContext(logdir=str(logdir), data_provider=provider,
                                    sampling_hints=sampling_hints or {})
    plugin = DebuggerPlugin(context)
    app = application.TensorBoardWSGI([plugin], data_provider=provider,
                                      path_prefix=path_prefix)
    return wtest.Client(app, wrappers.Response), mux

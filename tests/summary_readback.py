"""Read nndebug records back through TensorBoard's own data providers.

Two readers, as TensorBoard itself uses them:

- :func:`python_provider`: the Python loader (``EventMultiplexer`` +
  ``MultiplexerDataProvider``), keeping every point;
- :func:`rust_provider`: the Rust data server (``tensorboard_data_server``)
  spawned by TensorBoard's ``SubprocessServerDataIngester`` and read over
  gRPC with ``GrpcDataProvider`` — what ``tensorboard --load_fast=true`` uses.
"""
from __future__ import annotations

import contextlib
import time

from tensorboard import context
from tensorboard.backend.event_processing import data_provider as mux_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer as mux_lib
from tensorboard.backend.event_processing import tag_types
from tensorboard.data import provider, server_ingester
from tensorboard.util import grpc_util

from tb_nndebug import metadata

ALL = 10_000


def python_provider(logdir):
    mux = mux_lib.EventMultiplexer(size_guidance={tag_types.TENSORS: 0, tag_types.SCALARS: 0,
                                                  tag_types.IMAGES: 0})
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    return mux_provider.MultiplexerDataProvider(mux, str(logdir))


@contextlib.contextmanager
def rust_provider(logdir, *, wait_for_runs=(), timeout=60.0):
    """A ``GrpcDataProvider`` backed by a fresh Rust data server on ``logdir``.

    Waits until every run in ``wait_for_runs`` lists nndebug tensors.
    """
    ingester = server_ingester.SubprocessServerDataIngester(
        server_ingester.get_server_binary(), str(logdir), reload_interval=0,
        channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
        samples_per_plugin={metadata.PLUGIN_NAME: 0})
    ingester.start()
    try:
        dp = ingester.data_provider
        deadline = time.monotonic() + timeout
        while True:
            listed = list_records(dp)
            if all(r in listed for r in wait_for_runs) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        yield dp
    finally:
        # The server exits when its stdin closes (--die-after-stdin); the
        # ingester keeps that pipe only to stop it.
        ingester._stdin_handle.close()


def list_records(dp):
    return dp.list_tensors(context.RequestContext(), experiment_id="",
                           plugin_name=metadata.PLUGIN_NAME)


def read_records(dp, run=None):
    """``{run: {tag: (kind, [(step, document), ...])}}`` for every nndebug series."""
    ctx = context.RequestContext()
    listing = list_records(dp)
    runs = [run] if run else list(listing)
    out = {}
    for r in runs:
        tags = listing.get(r, {})
        data = dp.read_tensors(ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME,
                               run_tag_filter=provider.RunTagFilter(runs=[r], tags=list(tags)),
                               downsample=ALL)
        out[r] = {}
        for tag, points in data.get(r, {}).items():
            kind = metadata.parse_plugin_content(tags[tag].plugin_content)["kind"]
            out[r][tag] = (kind, [(p.step, metadata.decode_record(p.numpy)) for p in points])
    return out


def scalar_tags(dp, run):
    listing = dp.list_scalars(context.RequestContext(), experiment_id="", plugin_name="scalars")
    return set(listing.get(run, {}))


def image_tags(dp, run):
    listing = dp.list_blob_sequences(context.RequestContext(), experiment_id="",
                                     plugin_name="images")
    return set(listing.get(run, {}))


def records_for_diagnosis(dp, run):
    """The ``records`` mapping diagnose() takes: latest point per tag."""
    records = {}
    for tag, (kind, points) in sorted(read_records(dp, run).get(run, {}).items()):
        step, doc = max(points, key=lambda p: p[0])
        records.setdefault(kind, []).append({"tag": tag, "step": step, "value": doc})
    return records

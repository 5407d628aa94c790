"""Debian's Chromium through Python Playwright, for the browser tests and the benchmark."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextmanager
def chromium(**context_options):
    """A fresh Chromium (own user-data dir) and one browser context; yields the context."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nndebug-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport=context_options.pop("viewport", {"width": 1400, "height": 900}),
            **context_options)
        try:
            yield ctx
        finally:
            ctx.close()

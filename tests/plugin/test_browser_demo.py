"""A shortened demo (`tb-nndebug demo --smoke`, all five groups) seen in the
Debugger tab of a real TensorBoard through Debian's Chromium: every group's
runs are listed, and a sizing run shows its capacity verdict."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_support import CHROMIUM, chromium
from playwright.sync_api import expect
from tb_process import tensorboard_process

from tb_nndebug.demo.run import GROUPS, run

pytestmark = [pytest.mark.browser, pytest.mark.tensorboard, pytest.mark.training]


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("demo_runs")
    result = run(logdir, smoke=True, progress=False)
    assert [g.group for g in result.groups] == list(GROUPS)
    assert all(g.rows for g in result.groups), [(g.group, len(g.rows)) for g in result.groups]
    return logdir


def _debugger_runs(logdir: Path) -> set:
    """Run directories with event files, except Keras's train/validation curves."""
    return {str(p.parent.relative_to(logdir)) for p in logdir.rglob("*tfevents*")
            if p.parent.name not in ("train", "validation")}


def test_debugger_tab_lists_every_demo_group(demo_logdir):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium")
    written = _debugger_runs(demo_logdir)
    assert {r.split("/", 1)[0] for r in written} == set(GROUPS)
    with tensorboard_process(demo_logdir) as tb, chromium() as ctx:
        tb.wait_for("/data/plugin/nndebug/runs",
                    lambda d: {r["run"] for r in d["runs"]} >= written, timeout=120)
        ctx.set_default_timeout(30000)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(tb.url + "/")
        page.locator(".plugin-name, a, button, [role=tab]").filter(
            has_text=re.compile(r"^\s*Debugger\s*$", re.IGNORECASE)).first.click()
        frame = page.frame_locator("iframe").first
        frame.locator(".nnd-run").first.wait_for()
        expect(frame.locator(".nnd-run")).to_have_count(len(written))
        listed = set(frame.locator(".nnd-run").evaluate_all("els => els.map(e => e.dataset.run)"))
        assert listed == written
        assert {r.split("/", 1)[0] for r in listed} == set(GROUPS)
        # the sizing group's oversized network carries the capacity verdict
        frame.locator('.nnd-run[data-run="sizing/oversized/debugger"]').click()
        expect(frame.locator('[data-finding-id="capacity.oversized"]')).to_be_visible()
        frame.locator('.nnd-run[data-run="sizing/undersized/debugger"]').click()
        expect(frame.locator('[data-finding-id="capacity.too_small"]')).to_be_visible()
        assert errors == []

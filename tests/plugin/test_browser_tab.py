"""The Debugger tab in Debian's Chromium against a real TensorBoard process.

The logdir is written by the project's own API (``tests/browser_logdir.py``:
DebuggerCallback on short Keras fits, robustness records, a hostile run).
Screenshots go to ``$NNDEBUG_SCREENSHOTS`` when set (``make screenshots``
points it at ``docs/screenshots/`` for the README), else to a temporary folder,
so a test run leaves the tree clean.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("playwright.sync_api")
import browser_logdir  # noqa: E402
from browser_support import CHROMIUM, chromium  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from tb_process import tensorboard_process  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.tensorboard, pytest.mark.training]

SHOTS = Path(os.environ.get("NNDEBUG_SCREENSHOTS") or tempfile.mkdtemp(prefix="nndebug-shots-"))
RUNS = ["oversized/debugger", "undersized/debugger", f"{browser_logdir.XSS_RUN}/debugger"]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    return browser_logdir.build(tmp_path_factory.mktemp("browser_logdir"), robustness_n=16)


@pytest.fixture(scope="module")
def tb(logdir):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium")
    with tensorboard_process(logdir) as proc:
        proc.wait_for("/data/plugin/nndebug/runs",
                      lambda d: {r["run"] for r in d["runs"]} >= set(RUNS))
        yield proc


@pytest.fixture(scope="module")
def browser_context(tb):
    with chromium() as ctx:
        ctx.set_default_timeout(20000)
        yield ctx


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    page.close()


def open_tab(page, tb, hash_=""):
    """TensorBoard's own page, then a click on its Debugger tab; returns the tab's frame."""
    page.goto(tb.url + "/")
    tab_name = re.compile(r"^\s*Debugger\s*$", re.I)
    page.locator(".plugin-name, a, button, [role=tab]").filter(has_text=tab_name).first.click()
    frame = page.frame_locator("iframe").first
    frame.locator(".nnd-run").first.wait_for()
    if hash_:
        frame.locator("body").evaluate("(b, h) => { location.hash = h; }", hash_)
    return frame


def test_tensorboard_shows_a_debugger_tab_that_lists_the_runs(page, tb):
    frame = open_tab(page, tb)
    runs = frame.locator(".nnd-run")
    expect(runs).to_have_count(3)
    assert sorted(runs.evaluate_all("els => els.map(e => e.dataset.run)")) == sorted(RUNS)
    # every run carries a severity badge with a shape, not only a colour
    badges = frame.locator(".nnd-run .nnd-sev").all_text_contents()
    assert badges and all(b in "●▲◆✓○" for b in badges)
    assert page.errors == []


def test_a_flagged_run_shows_its_findings_first_then_charts(page, tb):
    frame = open_tab(page, tb)
    frame.locator('.nnd-run[data-run="oversized/debugger"]').click()
    card = frame.locator('[data-finding-id="capacity.oversized"]')
    expect(card).to_be_visible()
    text = card.inner_text()
    assert re.search(r"\d{3},\d{3} bits", text), text          # thousands separators and units
    assert "capacity.oversized" in text and "→" in text        # the id and the advice
    frame.locator('[data-chart="capacity"] svg').last.wait_for()
    for chart in ("capacity", "layers", "balance", "csg", "min-eps", "robust-accuracy",
                  "curve-loss", "curve-accuracy"):
        expect(frame.locator(f'[data-chart="{chart}"] svg').last).to_be_visible()
    assert frame.locator(".nnd-examples img").count() >= 3      # adversarial thumbnails
    # the loss curve has a marker where a finding fired (info ◆ here: no overfitting yet)
    curve = frame.locator('[data-chart="curve-loss"] svg[viewBox]').text_content()
    assert re.search(r"[▲●◆]epoch \d+: capacity\.oversized", curve), curve
    # the card's link scrolls the capacity panel into view
    card.get_by_role("button").click()
    expect(frame.locator("#panel-capacity")).to_be_in_viewport()
    assert frame.locator("body").evaluate("() => location.hash") == "#run=oversized%2Fdebugger"
    frame.locator(".nnd-main").evaluate("el => el.scrollTop = 0")
    frame.locator("#panel-capacity").evaluate("el => el.classList.remove('nnd-flash')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / "debugger-report.png"))
    assert page.errors == []


def test_the_compare_table_sorts_by_the_clicked_column(page, tb):
    frame = open_tab(page, tb)
    frame.get_by_role("button", name="Compare").click()
    table = frame.locator("table.nnd-table")
    expect(table).to_be_visible()

    def column(key):
        idx = frame.locator("thead th").evaluate_all(
            "(ths, key) => ths.findIndex(th => th.querySelector('button').dataset.key === key)",
            key)
        return frame.locator("tbody tr").evaluate_all(
            "(trs, i) => trs.map(tr => [tr.dataset.run, tr.children[i].textContent])", idx)

    frame.locator('button[data-key="model_bits"]').click()
    expect(frame.locator('th[aria-sort="ascending"]')).to_contain_text("Model bits")
    rows = column("model_bits")
    assert [r for r, _ in rows] == ["undersized/debugger", "oversized/debugger",
                                    f"{browser_logdir.XSS_RUN}/debugger"]
    frame.locator('button[data-key="model_bits"]').click()
    expect(frame.locator('th[aria-sort="descending"]')).to_contain_text("Model bits")
    rows = column("model_bits")
    assert [r for r, _ in rows][:2] == ["oversized/debugger", "undersized/debugger"]
    assert rows[-1][1] == "—"                                  # missing values stay last
    assert "sort=model_bits" in frame.locator("body").evaluate("() => location.hash")
    expect(frame.locator('[data-chart="scatter"] svg').last).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "debugger-compare.png"))


def test_a_link_with_the_hash_reopens_the_run_and_view(page, tb):
    run = quote("undersized/debugger", safe="")
    page.goto(f"{tb.url}/data/plugin_entry.html?name=nndebug#run={run}")
    expect(page.locator(".nnd-run-title")).to_have_text("undersized/debugger")
    expect(page.locator('[data-finding-id="capacity.too_small"]')).to_be_visible()
    page.goto(f"{tb.url}/data/plugin_entry.html?name=nndebug#view=compare&sort=median_eps&desc=1")
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("Median ε")


def test_hostile_run_names_and_finding_texts_render_as_text(page, tb):
    frame = open_tab(page, tb)
    frame.locator(".nnd-run").filter(has_text=browser_logdir.XSS_RUN).click()
    expect(frame.locator(".nnd-run-title")).to_have_text(f"{browser_logdir.XSS_RUN}/debugger")
    expect(frame.locator('[data-finding-id="diagnostic.failed"]')).to_contain_text(browser_logdir.XSS_ERROR)
    expect(frame.locator('[data-finding-id="balance.rare_class"]')).to_contain_text(browser_logdir.XSS_CLASS)
    frame.locator('[data-chart="balance"] svg').last.wait_for()
    injected = frame.locator("img[src='x'], #injected, #injected2, #injected3, b, i, "
                             ".nnd-content script")
    assert injected.count() == 0
    # the traceback opens as text, and its wide line scrolls inside the card
    card = frame.locator('[data-finding-id="diagnostic.failed"]')
    card.locator("summary").click()
    code = card.locator(".nnd-detail .nnd-code")
    expect(code).to_contain_text("alert(4)")
    assert injected.count() == 0
    box, main = card.bounding_box(), frame.locator(".nnd-main").bounding_box()
    assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (box, main)
    assert code.evaluate("el => el.scrollWidth > el.clientWidth")
    assert frame.locator(".nnd-run-list").inner_text().count(browser_logdir.XSS_RUN) == 1
    frame.get_by_role("button", name="Compare").click()
    expect(frame.locator(f'tbody tr[data-run="{browser_logdir.XSS_RUN}/debugger"] a')).to_have_text(
        f"{browser_logdir.XSS_RUN}/debugger")
    assert injected.count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_the_tab_follows_tensorboards_dark_mode(page, tb):
    page.emulate_media(color_scheme="dark")          # TensorBoard follows the browser by default
    frame = open_tab(page, tb)
    assert page.evaluate("document.body.classList.contains('dark-mode')")
    expect(frame.locator("body")).to_have_class(re.compile(r"\bnnd-dark\b"))
    frame.locator('.nnd-run[data-run="oversized/debugger"]').click()
    frame.locator('[data-chart="capacity"] svg').last.wait_for()
    bg = frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert bg == "rgb(32, 33, 36)", bg
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "debugger-dark.png"))
    # switching TensorBoard to light with its own menu turns the tab light, without a reload
    page.get_by_role("button", name="Menu for changing light or dark theme").click()
    page.get_by_role("menuitem", name=re.compile("light", re.I)).first.click()
    expect(frame.locator("body")).not_to_have_class(re.compile(r"\bnnd-dark\b"))
    expect(frame.locator(".nnd-run-title")).to_have_text("oversized/debugger")


def test_reload_picks_up_a_new_run_and_keeps_selection_and_scroll(page, tb, logdir):
    frame = open_tab(page, tb)
    frame.locator('.nnd-run[data-run="oversized/debugger"]').click()
    frame.locator('[data-chart="csg"] svg').last.wait_for()
    frame.locator(".nnd-main").evaluate("el => el.scrollTop = 900")
    tf = browser_logdir._tf()
    from tb_nndebug import summary
    with tf.summary.create_file_writer(str(logdir / "late" / "debugger")).as_default():
        summary.balance("balance", [0] * 50 + [1] * 50, step=0)
    tb.wait_for("/data/plugin/nndebug/runs",
                lambda d: any(r["run"] == "late/debugger" for r in d["runs"]))
    frame.get_by_role("button", name=re.compile("Reload")).click()
    expect(frame.locator('.nnd-run[data-run="late/debugger"]')).to_have_count(1)
    expect(frame.locator(".nnd-run-selected")).to_have_attribute("data-run", "oversized/debugger")
    expect(frame.locator(".nnd-run-title")).to_have_text("oversized/debugger")
    assert abs(frame.locator(".nnd-main").evaluate("el => el.scrollTop") - 900) < 5


def test_the_tab_works_under_a_path_prefix(page, logdir):
    """Relative URLs only: the same tab behind --path_prefix (as behind a proxy)."""
    with tensorboard_process(logdir, "--path_prefix=/proxied/tb") as prefixed:
        assert prefixed.url.endswith("/proxied/tb")
        prefixed.wait_for("/data/plugin/nndebug/runs",
                          lambda d: {r["run"] for r in d["runs"]} >= set(RUNS))
        frame = open_tab(page, prefixed)
        frame.locator('.nnd-run[data-run="undersized/debugger"]').click()
        expect(frame.locator('[data-finding-id="capacity.too_small"]')).to_be_visible()
        frame.get_by_role("button", name="Compare").click()
        expect(frame.locator('tbody tr[data-run="undersized/debugger"]')).to_have_count(1)
        assert page.errors == []

"""Benchmark the Debugger tab in headless Chromium against a real TensorBoard.

Writes a logdir of ``--runs`` groups (200 by default) through the project's
summary API (``tests/nndebug_logdirs.write_debugger_run``: dataset with a
1,000-point projection and a 10×10 CSG matrix, model, checks, a training
record per epoch, robustness, run_info, and Keras-style ``train`` /
``validation`` scalars), starts ``tensorboard`` (default Rust data server),
waits until the plugin lists every run, then times in Debian's Chromium:

- **first render**: navigation to TensorBoard's page with the Debugger tab
  open → the selected run's findings visible (and → every chart drawn);
  and a click on the DEBUGGER tab of a TensorBoard page already showing
  Scalars → findings visible (the tab's own part, with a timing breakdown);
- **switching runs**: a click on another run in the list → its findings
  visible (``--switches`` runs spread over the list);
- **compare**: a click on Compare → the table and the scatter drawn;
- **baseline**: navigation to TensorBoard's own Scalars tab on the same
  logdir → its first chart drawn (axes; with > 40 runs TensorBoard selects
  none, so no lines).

Prints each time (first = cold browser cache, then the median of
``--repeats``), the first-render ratio to the Scalars baseline, and the
bundle size (raw and gzip). Target: first render and switching ≤ 1.5 s.

Run: ``.venv/bin/python benchmarks/bench_frontend.py`` (``--quick`` for 20
runs; ``--logdir DIR`` keeps and reuses the generated logdir).
"""
from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tb_process, browser_support, the logdir writers
sys.path.insert(0, str(ROOT))

import nndebug_logdirs  # noqa: E402 - from tests/, put on sys.path above
from browser_support import chromium  # noqa: E402 - from tests/, put on sys.path above
from tb_process import TensorBoardProcess  # noqa: E402 - from tests/, put on sys.path above

BUNDLE = ROOT / "tb_nndebug" / "plugin" / "static" / "index.js"
TARGET_S = 1.5


def timed(action, wait) -> float:
    t0 = time.perf_counter()
    action()
    wait()
    return time.perf_counter() - t0


def first_render(ctx, url: str) -> tuple[float, float]:
    """Seconds from navigation to findings visible, and to every chart drawn."""
    page = ctx.new_page()
    try:
        frame = page.frame_locator("iframe").first
        t0 = time.perf_counter()
        page.goto(url + "/#nndebug")
        frame.locator(".nnd-card").first.wait_for(state="visible")
        findings = time.perf_counter() - t0
        chart = '[data-panel="robustness"] [data-chart="robust-accuracy"] svg'
        frame.locator(chart).last.wait_for()
        return findings, time.perf_counter() - t0
    finally:
        page.close()


BREAKDOWN_JS = """() => {
  const rel = (name) => performance.getEntriesByType("resource")
    .filter((e) => e.name.includes(name)).pop();
  const nav = performance.getEntriesByType("navigation")[0];
  const out = {iframe_start: performance.timeOrigin - window.parent.performance.timeOrigin};
  for (const [k, n] of [["index.js", "index.js"], ["runs", "/runs"], ["report", "/report?"]]) {
    const e = rel(n);
    if (e) out[k] = [e.startTime, e.responseEnd];
  }
  out.dom_ready = nav ? nav.domContentLoadedEventEnd : null;
  for (const m of performance.getEntriesByType("mark")) {
    if (m.name.startsWith("nnd:")) out[m.name] = m.startTime;
  }
  out.now = performance.now();
  return out;
}"""


def breakdown(frame) -> str:
    """Where the first render's time went, from the iframe's resource timings (ms)."""
    b = frame.locator("body").evaluate(BREAKDOWN_JS)
    parts = [f"iframe created at {b['iframe_start']:.0f}"]
    for k in ("index.js", "runs", "report"):
        if k in b:
            parts.append(f"{k} {b[k][0]:.0f}–{b[k][1]:.0f}")
    for k, v in b.items():
        if k.startswith("nnd:"):
            parts.append(f"{k[4:]} {v:.0f}")
    parts.append(f"findings at {b['now']:.0f} (ms from the iframe's start)")
    return ", ".join(parts)


def tab_click_render(ctx, url: str) -> tuple[float, str]:
    """Seconds from a click on the DEBUGGER tab (TensorBoard already showing Scalars)
    to findings visible: the tab's own first render, without TensorBoard's page load."""
    page = ctx.new_page()
    try:
        page.goto(url + "/#scalars")
        page.locator("vz-line-chart2 .y-axis text.tick-label").first.wait_for(state="attached")
        tab = page.get_by_text("Debugger", exact=True).first
        frame = page.frame_locator("iframe").first
        took = timed(tab.click, lambda: frame.locator(".nnd-card").first.wait_for(state="visible"))
        return took, breakdown(frame)
    finally:
        page.close()


def scalars_render(ctx, url: str) -> float:
    """Seconds from navigation to the Scalars tab's first chart drawn (its axis labels).

    With more than 40 runs TensorBoard leaves the runs unselected, so its first
    charts are drawn with axes but no lines; the axes are the comparable point.
    """
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url + "/#scalars")
        page.locator("vz-line-chart2 .y-axis text.tick-label").first.wait_for(state="attached")
        return time.perf_counter() - t0
    finally:
        page.close()


def switching(ctx, url: str, runs: list[str], n: int) -> list[float]:
    """Seconds from a click on a run to its findings visible, for ``n`` runs over the list."""
    page = ctx.new_page()
    try:
        page.goto(url + "/#nndebug")
        frame = page.frame_locator("iframe").first
        frame.locator(".nnd-card").first.wait_for()
        step = max(1, len(runs) // n)
        times = []
        for run in runs[step // 2::step][:n]:
            link = frame.locator(f'.nnd-run[data-run="{run}"]')
            link.scroll_into_view_if_needed()
            times.append(timed(link.click, lambda run=run: (
                frame.locator(f'.nnd-report[data-run="{run}"] .nnd-card').first
                .wait_for(state="visible"))))
        return times
    finally:
        page.close()


def compare_render(ctx, url: str, n_runs: int) -> float:
    page = ctx.new_page()
    try:
        page.goto(url + "/#nndebug")
        frame = page.frame_locator("iframe").first
        frame.locator(".nnd-card").first.wait_for()
        button = frame.get_by_role("button", name="Compare")

        def drawn():
            frame.locator('[data-chart="scatter"] svg').last.wait_for()
            frame.locator("tbody tr").nth(n_runs - 1).wait_for(state="attached")
        return timed(button.click, drawn)
    finally:
        page.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--switches", type=int, default=10)
    ap.add_argument("--logdir", type=Path, default=None, help="keep (and reuse) the logdir here")
    ap.add_argument("--quick", action="store_true", help="20 runs, 1 repeat")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.repeats, args.switches = 20, 1, 5

    raw = BUNDLE.read_bytes()
    print(f"bundle tb_nndebug/plugin/static/index.js: {len(raw) / 1024:.1f} KiB raw, "
          f"{len(gzip.compress(raw, 9)) / 1024:.1f} KiB gzip")

    tmp = None
    logdir = args.logdir
    if logdir is None:
        tmp = tempfile.mkdtemp(prefix="nndebug-bench-frontend-")
        logdir = Path(tmp)
    try:
        nndebug_logdirs.many_runs_logdir(logdir, args.runs, args.epochs)
        with TensorBoardProcess(logdir, reload_interval=0) as tb:
            t0 = time.monotonic()
            data = tb.wait_for("/data/plugin/nndebug/runs",
                               lambda d: len(d["runs"]) == args.runs
                               and all(r["last_step"] == args.epochs - 1 for r in d["runs"]),
                               timeout=900)
            print(f"tensorboard loaded {args.runs} runs in {time.monotonic() - t0:.1f}s")
            runs = sorted(r["run"] for r in data["runs"])
            with chromium() as ctx:
                ctx.set_default_timeout(60000)
                base = [scalars_render(ctx, tb.url) for _ in range(args.repeats + 1)]
                first = [first_render(ctx, tb.url) for _ in range(args.repeats + 1)]
                clicks = [tab_click_render(ctx, tb.url) for _ in range(args.repeats + 1)]
                switch = switching(ctx, tb.url, runs, args.switches)
                comp = [compare_render(ctx, tb.url, args.runs) for _ in range(args.repeats)]
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    def line(name, xs, target=None):
        med = statistics.median(xs)
        verdict = "" if target is None else ("  ok" if med <= target else f"  OVER {target}s")
        print(f"{name:<44} first {xs[0]:6.3f}s  median {med:6.3f}s  max {max(xs):6.3f}s{verdict}")
        return med

    print(f"\n{args.runs} runs × {args.epochs} epochs, headless Chromium "
          f"({args.repeats} repeats after a cold one)")
    b = line("baseline: Scalars tab → first chart drawn", base)
    f = line("Debugger tab → findings visible", [x for x, _ in first], TARGET_S)
    line("Debugger tab → every chart drawn", [y for _, y in first])
    line("click on DEBUGGER tab → findings visible", [c for c, _ in clicks], TARGET_S)
    print(f"  (last click: {clicks[-1][1]})")
    line(f"switch run ({len(switch)} runs) → findings visible", switch, TARGET_S)
    line("Compare → table + scatter drawn", comp)
    warm_b = statistics.median(base[1:]) if len(base) > 1 else b
    warm_f = statistics.median([x for x, _ in first][1:]) if len(first) > 1 else f
    print("\nratio Debugger first render / Scalars first render (warm medians): "
          f"{warm_f / warm_b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

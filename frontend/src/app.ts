// The controller: URL hash ⇄ state, fetching, polling, and which view shows.
import { ApiError, fetchCompare, fetchReport, fetchRuns } from "./api";
import { append, clear, h } from "./dom";
import { DEFAULT_STATE, formatHash, parseHash, type HashState, type SevFilter } from "./hashState";
import { collectCharts, takeCharts } from "./charts";
import { renderCompare } from "./compare";
import { renderReport } from "./report";
import { runItem, visibleRuns } from "./runsList";
import { filterRuns } from "./select";
import { errorState, loading, noRuns } from "./states";
import { isHidden, watchDarkMode } from "./theme";
import type { CompareRow, Report, RunSummary } from "./types";
import css from "./styles.css?raw";

export const POLL_MS = 15000;

/** User-timing marks, read by benchmarks/bench_frontend.py. */
function mark(name: string): void {
  try {
    performance.mark(name);
  } catch {
    // no User Timing: nothing to record
  }
}

const BACKEND_HINT = "The Debugger tab talks to the tb_nndebug plugin inside this TensorBoard. Check that tb_nndebug is installed in the Python environment that runs tensorboard, and look at tensorboard's console output.";

function runKey(r: RunSummary | undefined): string {
  return r ? JSON.stringify([r.last_step, r.last_wall_time, r.counts, r.kinds]) : "";
}

export class App {
  state: HashState = DEFAULT_STATE;
  runs: RunSummary[] | null = null;
  private report: { run: string; key: string; data: Report } | null = null;
  private compareRows: CompareRow[] | null = null;
  private compareStale = false;
  private lastHash = "";
  private drawSeq = 0;
  private prefetch: { run: string; report: Promise<Report> } | null = null;
  private shown = "";
  private seq = 0;
  private pollTimer: number | undefined;
  private polling = false;
  /** A poll was skipped while hidden: catch up as soon as the tab shows again. */
  private missedPoll = false;
  private drawnWidth = 0;
  private resizeTimer: number | undefined;

  readonly root: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly listNote: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly sevSelect: HTMLSelectElement;
  private readonly main: HTMLElement;
  private readonly content: HTMLElement;
  private readonly tabs: { report: HTMLButtonElement; compare: HTMLButtonElement };
  private readonly status: HTMLElement;

  constructor(private readonly doc: Document = document) {
    this.filter = h("input", {
      class: "nnd-filter", type: "search",
      attrs: { placeholder: "filter runs…", "aria-label": "Filter runs by name", spellcheck: "false" },
      on: { input: () => this.navigate({ q: this.filter.value }, true) },
    });
    this.sevSelect = h("select", { class: "nnd-sev-filter", attrs: { "aria-label": "Filter runs by severity" }, on: { change: () => this.navigate({ sev: this.sevSelect.value as SevFilter }, true) } },
      h("option", { attrs: { value: "all" } }, "all runs"),
      h("option", { attrs: { value: "error" } }, "● errors"),
      h("option", { attrs: { value: "warning" } }, "● ▲ errors + warnings"),
      h("option", { attrs: { value: "clean" } }, "✓ no errors or warnings"));
    this.list = h("ul", {
      class: "nnd-run-list", attrs: { "aria-label": "Runs" },
      on: { keydown: (ev) => this.onListKey(ev) },
    });
    this.listNote = h("div", { class: "nnd-list-note" });
    this.tabs = {
      report: h("button", { class: "nnd-tab", type: "button", on: { click: () => this.navigate({ view: "report" }) } }, "Report"),
      compare: h("button", { class: "nnd-tab", type: "button", on: { click: () => this.navigate({ view: "compare" }) } }, "Compare"),
    };
    this.status = h("span", { class: "nnd-status nnd-muted", attrs: { "aria-live": "polite" } });
    this.content = h("div", { class: "nnd-content" });
    this.main = h("main", { class: "nnd-main" },
      h("div", { class: "nnd-topbar" },
        h("div", { class: "nnd-tabs", role: "tablist" }, this.tabs.report, this.tabs.compare),
        this.status,
        h("button", { class: "nnd-button nnd-refresh", type: "button", title: "Reload data now", on: { click: () => void this.poll(true) } }, "↻ Reload")),
      this.content);
    this.root = h("div", { class: "nnd-app" },
      h("aside", { class: "nnd-side" },
        h("div", { class: "nnd-side-head" }, h("h2", null, "Runs"), this.sevSelect),
        this.filter,
        this.listNote,
        this.list),
      this.main);
  }

  start(): void {
    const style = this.doc.createElement("style");
    style.textContent = css;
    this.doc.head.appendChild(style);
    this.doc.body.classList.add("nnd-body");
    this.doc.body.appendChild(this.root);
    watchDarkMode((dark) => this.doc.body.classList.toggle("nnd-dark", dark));
    this.applyHash(this.doc.defaultView?.location.hash ?? "");
    this.doc.defaultView?.addEventListener("hashchange", () => {
      const hash = this.doc.defaultView?.location.hash ?? "";
      if (hash !== this.lastHash) this.applyHash(hash);
    });
    this.doc.addEventListener("visibilitychange", () => {
      if (this.doc.visibilityState === "visible" && this.missedPoll) void this.poll();
    });
    // TensorBoard hides the iframe with CSS when another tab is chosen; showing it
    // again resizes the iframe's viewport, which is the only signal we get.
    this.doc.defaultView?.addEventListener("resize", () => this.onResize());
    this.pollTimer = this.doc.defaultView?.setInterval(() => void this.poll(), POLL_MS);
    void this.loadRuns();
  }

  /** ↑/↓ (and j/k) move between runs and open them; Home/End jump to the ends. */
  private onListKey(ev: KeyboardEvent): void {
    const links = [...this.list.querySelectorAll<HTMLAnchorElement>(".nnd-run")];
    if (links.length === 0) return;
    const at = links.indexOf(this.doc.activeElement as HTMLAnchorElement);
    const cur = at >= 0 ? at : links.findIndex((a) => a.dataset.run === this.state.run);
    const next = { ArrowDown: cur + 1, j: cur + 1, ArrowUp: cur - 1, k: cur - 1, Home: 0, End: links.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    const link = links[Math.max(0, Math.min(links.length - 1, next))];
    link.focus();
    this.navigate({ view: "report", run: link.dataset.run ?? null });
  }

  private onResize(): void {
    const win = this.doc.defaultView;
    if (!win || isHidden(win)) return;
    if (this.missedPoll) void this.poll();
    if (this.resizeTimer !== undefined) win.clearTimeout(this.resizeTimer);
    this.resizeTimer = win.setTimeout(() => {
      // charts are drawn for a width: redraw (from cache) when it changed a lot
      if (this.shown && Math.abs(this.width() - this.drawnWidth) > 80) this.route();
    }, 250);
  }

  stop(): void {
    if (this.pollTimer !== undefined) this.doc.defaultView?.clearInterval(this.pollTimer);
  }

  private applyHash(hash: string): void {
    this.lastHash = hash;
    this.state = parseHash(hash);
    this.syncControls();
    this.renderList();
    this.route();
  }

  /** Changes the state and the hash; `replace` for typing (no history entry per key). */
  navigate(patch: Partial<HashState>, replace = false): void {
    const next = { ...this.state, ...patch };
    const hash = formatHash(next);
    const win = this.doc.defaultView;
    this.lastHash = hash;
    this.state = next;
    if (win) {
      const url = `${win.location.pathname}${win.location.search}${hash}`;
      if (replace) win.history.replaceState(null, "", url);
      else win.history.pushState(null, "", url);
    }
    this.syncControls();
    // route first: it starts the fetch, and the list is drawn while it is on the way
    if (!("q" in patch || "sev" in patch) || this.state.view === "compare") this.route();
    this.renderList();
  }

  private syncControls(): void {
    if (this.filter.value !== this.state.q) this.filter.value = this.state.q;
    this.sevSelect.value = this.state.sev;
    for (const v of ["report", "compare"] as const) {
      const on = this.state.view === v;
      this.tabs[v].classList.toggle("nnd-tab-on", on);
      this.tabs[v].setAttribute("aria-selected", String(on));
    }
  }

  private renderList(): void {
    const scroll = this.list.scrollTop;
    const hadFocus = this.list.contains(this.doc.activeElement);
    clear(this.list);
    clear(this.listNote);
    if (this.runs === null) return;
    const shown = visibleRuns(this.runs, this.state);
    append(this.list, shown.map((r) => runItem(r, this.state)));
    if (this.runs.length && shown.length === 0) {
      append(this.listNote, "No run matches. ",
        h("button", { class: "nnd-linkbtn", type: "button", on: { click: () => this.navigate({ q: "", sev: "all" }, true) } }, "Clear the filters"));
    } else if (this.runs.length) {
      append(this.listNote, shown.length === this.runs.length ? `${shown.length} runs` : `${shown.length} of ${this.runs.length} runs`);
    }
    this.list.scrollTop = scroll;
    // the list is rebuilt: keep keyboard focus on the selected run
    if (hadFocus) this.list.querySelector<HTMLElement>(".nnd-run-selected")?.focus();
  }

  private async loadRuns(): Promise<void> {
    append(this.listNote, "Loading…");
    this.replaceContent(loading("runs"));
    // A link names its run: ask for the report while the run list loads.
    if (this.state.view === "report" && this.state.run && this.runs === null) {
      const report = fetchReport(this.state.run);
      report.catch(() => undefined);
      this.prefetch = { run: this.state.run, report };
    }
    try {
      this.runs = (await fetchRuns()).runs ?? [];
      this.stamp();
      mark("nnd:runs");
    } catch (e) {
      clear(this.listNote);
      this.replaceContent(errorState("the runs", (e as Error).message, () => void this.loadRuns(), BACKEND_HINT));
      return;
    }
    // without a run in the hash, route() picks the sickest through navigate(), which draws the list
    const picks = this.state.view === "report" && !this.state.run && this.runs.length > 0;
    this.route();
    if (!picks) this.renderList();
  }

  private stamp(): void {
    const t = new Date();
    this.status.textContent = `updated ${t.toLocaleTimeString("en-GB")}`;
  }

  private width(): number {
    return Math.max(320, (this.content.clientWidth || 900) - 32);
  }

  private route(): void {
    if (this.runs === null) return;
    if (this.runs.length === 0) {
      this.replaceContent(noRuns());
      return;
    }
    if (this.state.view === "compare") {
      void this.showCompare();
      return;
    }
    let run = this.state.run;
    if (!run) {
      const first = visibleRuns(this.runs, this.state)[0] ?? visibleRuns(this.runs, { ...this.state, q: "", sev: "all" })[0];
      this.navigate({ run: first.run }, true);
      return;
    }
    if (!this.runs.some((r) => r.run === run)) {
      this.replaceContent(h("div", { class: "nnd-state nnd-empty", attrs: { "data-state": "unknown-run" } },
        h("h2", null, "This run is not in the logdir"),
        h("p", null, "The link names the run ", h("code", null, run), ", which TensorBoard does not list (deleted, renamed, or a different --logdir). Pick a run on the left."),
      ));
      return;
    }
    void this.showReport(run);
  }

  private async showReport(run: string): Promise<void> {
    const summary = this.runs?.find((r) => r.run === run);
    const key = runKey(summary);
    const seq = ++this.seq;
    if (this.report && this.report.run === run && this.report.key === key) {
      this.draw(() => renderReport(this.report!.data, { summary: summary ?? null, width: this.width(), goToPanel: (id) => this.goToPanel(id) }), `report:${run}`);
      return;
    }
    if (this.shown !== `report:${run}`) this.replaceContent(loading(`the report of ${run}`));
    try {
      const pre = this.prefetch?.run === run ? this.prefetch.report : null;
      this.prefetch = null;
      const data = await (pre ?? fetchReport(run));
      if (seq !== this.seq) return;
      this.report = { run, key, data };
      this.draw(() => renderReport(data, { summary: summary ?? null, width: this.width(), goToPanel: (id) => this.goToPanel(id) }), `report:${run}`);
    } catch (e) {
      if (seq !== this.seq) return;
      const status = e instanceof ApiError ? e.status : 0;
      this.replaceContent(errorState(`the report of ${run}`, (e as Error).message, () => void this.showReport(run),
        status === 404 ? "TensorBoard no longer lists this run; pick another one on the left." : BACKEND_HINT));
    }
  }

  private async showCompare(): Promise<void> {
    const seq = ++this.seq;
    if (this.compareRows === null || this.compareStale) {
      if (this.compareRows === null) {
        this.replaceContent(loading("the comparison"));
      }
      try {
        const rows = (await fetchCompare()).rows ?? [];
        if (seq !== this.seq) return;
        this.compareRows = rows;
        this.compareStale = false;
      } catch (e) {
        if (seq !== this.seq) return;
        this.replaceContent(errorState("the comparison", (e as Error).message, () => void this.showCompare(), BACKEND_HINT));
        return;
      }
    }
    const rows = filterRuns(this.compareRows, this.state.q, this.state.sev);
    this.draw(() => renderCompare(rows, this.state, this.width(), (key, desc) => this.navigate({ sort: key, desc }, true)), "compare");
  }

  /**
   * Replaces the view. The same view again (a reload, a re-sort) is drawn whole and
   * keeps its scroll position; a new one shows its text first and draws its charts
   * in the following tasks, so findings appear without waiting for every chart.
   */
  private draw(build: () => HTMLElement, view: string): void {
    const top = this.main.scrollTop;
    const same = view === this.shown;
    this.drawnWidth = this.width();
    const drawing = ++this.drawSeq;
    if (!same) collectCharts();
    let el: HTMLElement;
    try {
      el = build();
    } finally {
      if (!same) this.drawLater(takeCharts(), drawing);
    }
    clear(this.content);
    this.content.appendChild(el);
    this.shown = view;
    this.main.scrollTop = same ? top : 0;
    mark(`nnd:drawn:${view}`);
  }

  private drawLater(jobs: (() => void)[], drawing: number): void {
    const win = this.doc.defaultView;
    if (!win || jobs.length === 0) return;
    const run = () => {
      if (drawing !== this.drawSeq) return; // the view changed: drop the rest
      const start = performance.now();
      while (jobs.length && performance.now() - start < 40) jobs.shift()!();
      if (jobs.length) win.setTimeout(run, 0);
      else mark("nnd:charts-drawn");
    };
    win.setTimeout(run, 0);
  }

  /** Shows a loading/error/empty state in place of the view. */
  private replaceContent(el: HTMLElement): void {
    clear(this.content);
    this.content.appendChild(el);
    this.shown = "";
  }

  goToPanel(id: string): void {
    const el = this.doc.getElementById(`panel-${id}`);
    if (!el) return;
    el.scrollIntoView?.({ behavior: "smooth", block: "start" });
    el.classList.remove("nnd-flash");
    void el.offsetWidth;
    el.classList.add("nnd-flash");
  }

  /** Picks up new data without losing the selection or the scroll position. */
  async poll(force = false): Promise<void> {
    if (this.polling) return;
    if (!force && isHidden(this.doc.defaultView ?? window)) {
      this.missedPoll = true;
      return;
    }
    this.missedPoll = false;
    if (this.runs === null) {
      if (force) await this.loadRuns();
      return;
    }
    this.polling = true;
    try {
      const runs = (await fetchRuns()).runs ?? [];
      this.stamp();
      const before = new Map(this.runs.map((r) => [r.run, runKey(r)]));
      const changed = runs.length !== this.runs.length || runs.some((r) => before.get(r.run) !== runKey(r));
      if (!changed && !force) return;
            this.runs = runs;
      this.renderList();
      if (force) {
        this.report = null;
      }
      this.compareStale = true;
      this.route();
    } catch (e) {
      this.status.textContent = `reload failed: ${(e as Error).message}`;
    } finally {
      this.polling = false;
    }
  }
}
